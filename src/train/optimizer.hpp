// The optimizer step and the learning-rate schedule of TrainOptions.
#pragma once

#include <vector>

#include "anycl/train.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

// The schedule's learning rate for the step after `steps` steps, in double (rounded once).
float scheduled_lr(const TrainOptions& o, std::size_t steps);
// Optimizer state tensors per parameter tensor: 1 (SGD's momentum) or 2 (Adam's moments).
std::size_t state_sets(const TrainOptions& o);
// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the setting that is out of range.
void check_options(const TrainOptions& o);

// Step number `steps` + 1 on `slot` over whole carved sets (train/flat_tensors.hpp) of one
// layout, in one launch: params, grads and each state set (SGD's momentum, or Adam's first then
// second moments) hold the same floats (the gaps' zeros stay zeros: every update maps 0 to 0).
// Nothing to do when the sets are empty (a stage without parameters).
void optimizer_step(const DeviceSlot& slot, const TrainOptions& o, std::size_t steps, const Buffer& params,
                    const Buffer& grads, const std::vector<Buffer>& state);

}  // namespace anycl::detail
