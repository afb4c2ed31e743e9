// MpiProcessGroup: a binomial-tree sum over non-blocking point-to-point messages, each wait
// polled against its own deadline. A message is [failed rank + 1, silent rank + 1, data...]
// (0: none); every rank merges the headers it hears, so the verdict reaches every rank with the
// sum, and every rank throws naming the same rank.
#include "anycl/mpi.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace anycl {
namespace {

enum Header { kFailed, kSilent, kHeader };

int tree_levels(int size) {
  int levels = 0;
  for (int reach = 1; reach < size; reach *= 2) ++levels;
  return levels;
}

// Polls until `req` completes (true) or the deadline passes or MPI reports an error (false:
// the request is cancelled). Sleeps between polls so the device's threads keep the cores.
bool wait_until(MPI_Request& req, double deadline) {
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
    if (done) return true;
    if (MPI_Wtime() > deadline) {
      MPI_Cancel(&req);
      MPI_Request_free(&req);
      return false;
    }
    if (polls > 64) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

void merge_rank(float& into, float other) {
  if (other != 0 && (into == 0 || other < into)) into = other;
}

}  // namespace

MpiProcessGroup::MpiProcessGroup(MPI_Comm comm, double timeout_seconds) : timeout_(timeout_seconds) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) throw Error(ANYCL_ERROR_INVALID_ARGUMENT, "MpiProcessGroup: MPI_Init has not been called");
  if (!(timeout_seconds > 0))
    throw Error(ANYCL_ERROR_INVALID_ARGUMENT, "MpiProcessGroup: timeout_seconds must be positive");
  if (MPI_Comm_dup(comm, &comm_) != MPI_SUCCESS)
    throw Error(ANYCL_ERROR_INVALID_ARGUMENT, "MpiProcessGroup: MPI_Comm_dup failed on the communicator given");
  // Errors come back as codes, so a dead peer ends a wait instead of the process.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiProcessGroup::~MpiProcessGroup() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiProcessGroup::allreduce_sum(float* data, std::size_t count, bool failed) {
  const int tag = int(sequence_++ % 32000);
  const int levels = tree_levels(size_);
  // A wait at tree level l ends by start + (l + 1) * unit, so a parent outwaits its children and
  // names the rank that went silent, not the one waiting on it.
  const double start = MPI_Wtime(), unit = timeout_ / double(levels + 1), last = start + timeout_;
  const int n = int(count + kHeader);
  message_.assign(std::size_t(n), 0.f);
  if (failed) message_[kFailed] = float(rank_ + 1);
  else std::copy(data, data + count, message_.begin() + kHeader);
  std::vector<float> theirs(message_.size());
  MPI_Request req;

  int stride = 1, level = 0;
  for (; stride < size_ && rank_ % (2 * stride) == 0; stride *= 2, ++level) {
    const int child = rank_ + stride;
    if (child >= size_) continue;
    MPI_Irecv(theirs.data(), n, MPI_FLOAT, child, tag, comm_, &req);
    if (!wait_until(req, start + unit * (level + 1))) {
      merge_rank(message_[kSilent], float(child + 1));
      continue;
    }
    merge_rank(message_[kFailed], theirs[kFailed]);
    merge_rank(message_[kSilent], theirs[kSilent]);
    for (int i = kHeader; i < n; ++i) message_[std::size_t(i)] += theirs[std::size_t(i)];
  }
  const int children_below = stride;  // this rank's children are at strides < children_below
  if (stride < size_) {               // not the root: up to the parent, then its verdict back
    const int parent = rank_ - stride;
    MPI_Isend(message_.data(), n, MPI_FLOAT, parent, tag, comm_, &req);
    bool heard = wait_until(req, start + unit * (level + 1));
    if (heard) {
      MPI_Irecv(theirs.data(), n, MPI_FLOAT, parent, tag, comm_, &req);
      heard = wait_until(req, last);
    }
    if (heard) message_.swap(theirs);
    else merge_rank(message_[kSilent], float(parent + 1));
  }
  for (int s = children_below / 2; s >= 1; s /= 2)
    if (rank_ + s < size_) {
      MPI_Isend(message_.data(), n, MPI_FLOAT, rank_ + s, tag, comm_, &req);
      wait_until(req, last);  // a child that is gone finds out for itself
    }
  const std::string me = "MpiProcessGroup (rank " + std::to_string(rank_) + " of " + std::to_string(size_) + "): ";
  if (message_[kFailed] != 0)
    throw Error(ANYCL_ERROR_INTERNAL, me + "rank " + std::to_string(int(message_[kFailed]) - 1) +
                                          " failed in this step (its own error says why); stopping");
  if (message_[kSilent] != 0)
    throw Error(ANYCL_ERROR_INTERNAL, me + "rank " + std::to_string(int(message_[kSilent]) - 1) +
                                          " was not heard from within " + seconds(MPI_Wtime() - start) +
                                          " (it died, hung or is far behind); stopping");
  std::copy(message_.begin() + kHeader, message_.end(), data);
}

}  // namespace anycl
