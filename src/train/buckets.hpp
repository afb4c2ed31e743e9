// The gradients' exchange across processes in buckets, overlapped with the backward pass. As the
// pass is enqueued, each node's gradients are read back right behind it on every part; a bucket
// (whole nodes, about bucket_bytes, the last nodes first) is summed over the parts on the host in
// the all-reduce's tree order (train/allreduce.hpp), and its sum across the processes started
// (ProcessGroup::start_sum) once its reads are done, while the devices still compute the nodes
// before it. Buckets start in the same order on every process, whatever the timing.
#pragma once

#include <functional>
#include <vector>

#include "anycl/train.hpp"
#include "train/passes.hpp"

namespace anycl::detail {

class GradientBuckets {
 public:
  GradientBuckets(Runtime& rt, const ModelPlan& plan, std::vector<Part> parts, ProcessGroup& group,
                  std::size_t bucket_bytes);

  // backward_pass's hook: node i's gradients are enqueued on every part. Starts the buckets whose
  // reads are done (but the last).
  void node_done(std::size_t i);
  // After the pass: starts the other buckets as their reads complete (the last with the head and
  // tail floats of loss_sum(), called once the pass is done), waits for every sum and writes them
  // to parts[0]'s gradients. Returns the loss summed over the processes.
  double exchange(const std::function<double()>& loss_sum);

 private:
  struct Bucket {
    std::size_t first = 0, last = 0;       // its tensors [first, last), in plan order
    std::vector<std::vector<float>> host;  // [part]: the tensors back to back
    std::vector<Event> read;               // [part]: the last read enqueued
    bool enqueued = false;                 // every node's reads
  };

  bool reads_done(const Bucket& b) const;
  void start_next(const std::function<double()>& loss_sum);

  Runtime& rt_;
  const ModelPlan& plan_;
  std::vector<Part> parts_;
  ProcessGroup& group_;
  std::vector<Bucket> buckets_;       // in the order the backward pass completes them
  std::size_t started_ = 0;           // buckets whose sum has started
  std::vector<std::size_t> of_node_;  // node -> its bucket (nodes with tensors)
  std::vector<std::size_t> offset_;   // tensor -> its first float in plan order
};

}  // namespace anycl::detail
