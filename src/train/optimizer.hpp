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

// Step number `steps` + 1 on `slot`: params[t] -= ... from grads[t], with state[s * tensors + t]
// the s-th state set of tensor t.
void optimizer_step(const DeviceSlot& slot, const TrainOptions& o, std::size_t steps, const std::vector<Buffer>& params,
                    const std::vector<Buffer>& grads, const std::vector<Buffer>& state,
                    const std::vector<std::size_t>& sizes);

}  // namespace anycl::detail
