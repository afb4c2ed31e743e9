// The forward and backward pass of the whole model over the replicas taking part in a step (or
// an evaluation). Each node runs on every replica before the next node; a training batch-norm
// node first merges the replicas' statistics on the host, so it normalises by the whole batch's
// (sync-BN: the numbers of one device, up to the order of the sums). With a ProcessGroup the
// merge spans every process's replicas, in rank order, exactly as one process holding them all. A replica
// that holds the whole batch keeps them on its device: nothing waits between the nodes.
#pragma once

#include <functional>
#include <vector>

#include "anycl/train.hpp"
#include "train/replica.hpp"

namespace anycl::detail {

struct Part {
  Replica* replica;
  PassInfo info;
};

// This process's place among the processes of a step: its samples' offset in the global batch and,
// for the batch-norm merges, its parts' slots (process r's parts take slots first_slot(r)...
// in part order; a slot no part fills is empty). Without a group: this process alone.
struct ProcessShare {
  ProcessGroup* group = nullptr;
  std::size_t global = 0, first = 0;      // every process's samples; this process's first
  std::size_t first_slot = 0, slots = 0;  // this process's first merge slot; every process's slots
};

// The whole batch's per-channel mean and unbiased variance of one batch-norm node. When one
// replica held the whole batch, its (mean, squared deviations) per channel are read into `part`
// behind the pass (`ready`), and settle_moments fills mean and var from them when needed.
struct NormMoments {
  std::vector<double> mean, var;
  std::vector<float> part;
  double count = 0;
  Event ready;
};

// Waits for the reads forward_pass left pending and fills their mean and var (the host merge's
// numbers for one part).
void settle_moments(std::vector<NormMoments>& moments);

// The nodes of `range` (a pipeline stage's; the whole model by default). With `moments`, fills
// the NormMoments of each batch-norm node in the range (training passes only). `share` is where
// the batch-norm merges find the other processes' parts.
void forward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts,
                  std::vector<NormMoments>* moments, LayerRange range = {}, const ProcessShare& share = {});
// After forward_pass and Replica::loss on every part: the parameter gradients of each part's
// samples into its grads() (batch-norm's from the whole batch's sums). `after_node(i)` runs once
// node i is enqueued on every part (its gradients are then final in queue order).
void backward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts, LayerRange range = {},
                   const ProcessShare& share = {}, const std::function<void(std::size_t)>& after_node = {});

// The dropout stream of step `step` of a trainer seeded with `seed`.
cl_uint dropout_seed(unsigned seed, std::size_t step);

}  // namespace anycl::detail
