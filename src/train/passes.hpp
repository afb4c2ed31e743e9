// The forward and backward pass of the whole model over the replicas taking part in a step (or
// an evaluation). Each node runs on every replica before the next node; a training batch-norm
// node first merges the replicas' statistics on the host, so it normalises by the whole batch's
// (sync-BN: the numbers of one device, up to the order of the sums).
#pragma once

#include <vector>

#include "train/replica.hpp"

namespace anycl::detail {

struct Part {
  Replica* replica;
  PassInfo info;
};

// The whole batch's per-channel mean and unbiased variance of one batch-norm node.
struct NormMoments {
  std::vector<double> mean, var;
};

// The nodes of `range` (a pipeline stage's; the whole model by default). With `moments`, fills
// the NormMoments of each batch-norm node in the range (training passes only).
void forward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts,
                  std::vector<NormMoments>* moments, LayerRange range = {});
// After forward_pass and Replica::loss on every part: the parameter gradients of each part's
// samples into its grads() (batch-norm's from the whole batch's sums).
void backward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts, LayerRange range = {});

// The dropout stream of step `step` of a trainer seeded with `seed`.
cl_uint dropout_seed(unsigned seed, std::size_t step);

}  // namespace anycl::detail
