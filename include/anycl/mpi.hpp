// anycl C++ API: a ProcessGroup over MPI, for DataParallelTrainer across ranks and machines
// (libanycl_mpi, CMake target anycl::mpi, built when MPI is found: ANYCL_WITH_MPI).
//
//   MPI_Init(&argc, &argv);
//   anycl::MpiProcessGroup group(MPI_COMM_WORLD);
//   options.processes = &group;   // each rank: its own Runtime, its shard of every batch
//
// The sum runs as a binomial tree over point-to-point messages in the ranks' order (the order
// of the in-process all-reduce), then back down the tree, so every rank ends with rank 0's bits.
// Every wait is non-blocking and polled against a deadline: a rank that failed says so in the
// exchange, a rank that is not heard from is named, and no rank waits longer than the bound.
// The trainer's bucketed gradient sums (start_sum) run as MPI_Iallreduce, whose order of
// additions is Open MPI's: every rank gets the same floats (its algorithms reduce each element
// once and hand the result to all), equal to the tree's for 2 ranks (a + b); the MPI tests check
// the ranks' weights are bitwise equal.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <deque>
#include <vector>

#include "anycl/export.h"
#include "anycl/train.hpp"

namespace anycl {

class ANYCL_API MpiProcessGroup : public ProcessGroup {
 public:
  // Duplicates `comm` (so no message meets the caller's); MPI must be initialised, with
  // MPI_Finalize after the group is gone. `timeout_seconds` bounds one allreduce_sum once the
  // slowest rank entered it; it must exceed the ranks' step-time spread (kernel builds included).
  explicit MpiProcessGroup(MPI_Comm comm, double timeout_seconds = 25);
  ~MpiProcessGroup() override;
  MpiProcessGroup(const MpiProcessGroup&) = delete;
  MpiProcessGroup& operator=(const MpiProcessGroup&) = delete;

  std::size_t rank() const override { return std::size_t(rank_); }
  std::size_t size() const override { return std::size_t(size_); }
  // Throws Error(ANYCL_ERROR_INTERNAL) naming the failed or silent rank.
  void allreduce_sum(float* data, std::size_t count, bool failed) override;
  // MPI_Iallreduce on a copy of `data`. finish_sums waits up to half the timeout for them; when
  // one fails or is late, a status exchange bounded by the other half names the failed or silent
  // rank (Error(ANYCL_ERROR_INTERNAL)), and the group takes no more sums.
  void start_sum(float* data, std::size_t count) override;
  void progress() override;
  void finish_sums() override;

 private:
  struct Started {
    float* data;
    std::vector<float> sum;  // MPI's buffer until the sum completes
    MPI_Request request;
  };
  void tree_sum(float* data, std::size_t count, bool failed, double timeout);
  [[noreturn]] void stalled(double waited);

  std::deque<Started> started_;  // a deque: a started sum's buffer never moves
  bool broken_ = false;          // a sum was given up: MPI may still write its buffer
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_;
  unsigned long sequence_ = 0;   // the tag of each call, so a late message never meets the next
  std::vector<float> message_;   // outlives a send left pending by a silent peer
};

}  // namespace anycl
