// MpiProcessGroup: a binomial-tree sum over non-blocking point-to-point messages, each wait
// polled against its own deadline. A message is [failed rank + 1, silent rank + 1, data...]
// (0: none); every rank merges the headers it hears, so the verdict reaches every rank with the
// sum, and every rank throws naming the same rank. A message carrying a failure is its header
// alone, so it fits whatever exchange the others are in (a receive may take fewer floats).
#include "anycl/mpi.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace anycl {
namespace {

enum Header { kFailed, kSilent, kHeader };

// Polls until `req` completes (true) or the deadline passes or MPI reports an error (false).
// Sleeps between polls so the device's threads keep the cores. A receive given up is cancelled
// and waited for (local), so MPI never writes its buffer later; a send is left to finish or not
// (its buffer, MpiProcessGroup::message_, outlives it).
bool wait_until(MPI_Request& req, double deadline, bool receive) {
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
    if (done) return true;
    if (MPI_Wtime() > deadline) {
      if (receive) {
        MPI_Cancel(&req);
        MPI_Wait(&req, MPI_STATUS_IGNORE);
      } else {
        MPI_Request_free(&req);
      }
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

// One allreduce_sum: up the binomial tree (rank r adds r + stride's message at stride 1, 2, 4...
// while r is a multiple of 2 * stride), then the root's message back down the same edges.
class TreeExchange {
 public:
  TreeExchange(MPI_Comm comm, int rank, int size, int tag, double timeout, std::vector<float>& message)
      : comm_(comm), rank_(rank), size_(size), tag_(tag), message_(message), theirs_(message.size()) {
    int levels = 0;
    for (int reach = 1; reach < size; reach *= 2) ++levels;
    start_ = MPI_Wtime();
    unit_ = timeout / double(levels + 1);
    last_ = start_ + timeout;
  }

  void run() {
    int stride = 1, level = 0;
    for (; stride < size_ && rank_ % (2 * stride) == 0; stride *= 2, ++level)
      if (rank_ + stride < size_) add_child(rank_ + stride, level);
    if (stride < size_) exchange_with_parent(rank_ - stride, level);
    for (int s = stride / 2; s >= 1; s /= 2)  // this rank's children, the last added first
      if (rank_ + s < size_) {
        MPI_Request req;
        MPI_Isend(message_.data(), sending(), MPI_FLOAT, rank_ + s, tag_, comm_, &req);
        wait_until(req, last_, false);  // a child that is gone finds out for itself
      }
  }

 private:
  int count() const { return int(message_.size()); }
  int sending() const { return message_[kFailed] != 0 ? int(kHeader) : count(); }
  // A wait at tree level l ends by start + (l + 1) * unit, so a parent outwaits its children and
  // names the rank that went silent, not the one waiting on it.
  double deadline(int level) const { return start_ + unit_ * (level + 1); }

  void add_child(int child, int level) {
    MPI_Request req;
    MPI_Irecv(theirs_.data(), count(), MPI_FLOAT, child, tag_, comm_, &req);
    if (!wait_until(req, deadline(level), true)) {
      merge_rank(message_[kSilent], float(child + 1));
      return;
    }
    merge_rank(message_[kFailed], theirs_[kFailed]);
    merge_rank(message_[kSilent], theirs_[kSilent]);
    for (std::size_t i = kHeader; i < message_.size(); ++i) message_[i] += theirs_[i];
  }

  // Sends this subtree's sum up and takes the root's result (or names the parent as silent).
  void exchange_with_parent(int parent, int level) {
    MPI_Request req;
    MPI_Isend(message_.data(), sending(), MPI_FLOAT, parent, tag_, comm_, &req);
    bool heard = wait_until(req, deadline(level), false);
    if (heard) {
      MPI_Irecv(theirs_.data(), count(), MPI_FLOAT, parent, tag_, comm_, &req);
      heard = wait_until(req, last_, true);
    }
    if (heard) std::copy(theirs_.begin(), theirs_.end(), message_.begin());
    else merge_rank(message_[kSilent], float(parent + 1));
  }

  MPI_Comm comm_;
  int rank_, size_, tag_;
  std::vector<float>& message_;
  std::vector<float> theirs_;
  double start_ = 0, unit_ = 0, last_ = 0;
};

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
  if (broken_) {
    // MPI may still write the buffers of sums given up: they and the communicator stay.
    static std::deque<Started> given_up;
    for (Started& s : started_) given_up.push_back(std::move(s));
    return;
  }
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiProcessGroup::allreduce_sum(float* data, std::size_t count, bool failed) {
  tree_sum(data, count, failed, timeout_);
}

void MpiProcessGroup::tree_sum(float* data, std::size_t count, bool failed, double timeout) {
  if (count > std::size_t(INT_MAX - kHeader))
    throw Error(ANYCL_ERROR_INVALID_ARGUMENT, "MpiProcessGroup::allreduce_sum: count " + std::to_string(count) +
                                                  " exceeds what one MPI message holds");
  message_.assign(count + kHeader, 0.f);
  if (failed) message_[kFailed] = float(rank_ + 1);
  else std::copy(data, data + count, message_.begin() + kHeader);
  TreeExchange tree{comm_, rank_, size_, int(sequence_++ % 32000), timeout, message_};
  const double start = MPI_Wtime();
  tree.run();
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

void MpiProcessGroup::start_sum(float* data, std::size_t count) {
  const std::string me = "MpiProcessGroup (rank " + std::to_string(rank_) + "): ";
  if (broken_) throw Error(ANYCL_ERROR_INTERNAL, me + "an earlier sum was given up; the group takes no more");
  if (count > std::size_t(INT_MAX))
    throw Error(ANYCL_ERROR_INVALID_ARGUMENT, me + "start_sum: count " + std::to_string(count) +
                                                  " exceeds what one MPI message holds");
  started_.push_back({data, std::vector<float>(data, data + count), MPI_REQUEST_NULL});
  Started& s = started_.back();
  if (MPI_Iallreduce(MPI_IN_PLACE, s.sum.data(), int(count), MPI_FLOAT, MPI_SUM, comm_, &s.request) != MPI_SUCCESS)
    s.request = MPI_REQUEST_NULL, s.data = nullptr;  // finish_sums finds it failed
}

void MpiProcessGroup::progress() {
  for (Started& s : started_) {
    int done = 0;
    if (s.request != MPI_REQUEST_NULL) MPI_Test(&s.request, &done, MPI_STATUS_IGNORE);
  }
}

void MpiProcessGroup::finish_sums() {
  const double start = MPI_Wtime(), deadline = start + timeout_ / 2;
  for (Started& s : started_) {
    if (!s.data) stalled(MPI_Wtime() - start);
    for (int polls = 0; s.request != MPI_REQUEST_NULL; ++polls) {
      int done = 0;
      if (MPI_Test(&s.request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || (!done && MPI_Wtime() > deadline))
        stalled(MPI_Wtime() - start);
      if (!done && polls > 64) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  for (const Started& s : started_) std::copy(s.sum.begin(), s.sum.end(), s.data);
  started_.clear();
}

// A collective cannot be cancelled, so the sums stay started; the status exchange (a tree, every
// wait bounded) names the rank, or, when every rank is healthy, the sums themselves are blamed.
void MpiProcessGroup::stalled(double waited) {
  broken_ = true;
  tree_sum(nullptr, 0, false, timeout_ / 2);
  throw Error(ANYCL_ERROR_INTERNAL, "MpiProcessGroup (rank " + std::to_string(rank_) + " of " +
                                        std::to_string(size_) + "): a gradient sum (MPI_Iallreduce) failed or did "
                                        "not complete within " + seconds(waited) + "; stopping");
}

}  // namespace anycl
