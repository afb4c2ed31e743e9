// anycl-tune's dispatch families: the thresholds that route a problem to one kernel family or
// another (GEMM's DIRECT_* of gemm_direct_f32/_f64; the convolution selector's
// WINOGRAD_MIN_CHANNELS of conv_winograd and DIRECT_GROUP_CHANNELS of conv_direct) are
// per-device parameters like the kernels' tunables. Each is set by timing both sides over a
// ladder of problem sizes and putting the threshold at the crossover.
#pragma once

#include <string>

#include "anycl/tune.hpp"

namespace anycl::detail {

// dispatch_gemm_f32, dispatch_gemm_f64, dispatch_conv.
bool is_dispatch_family(const std::string& family);

// Measures the family's ladders under options.budget_seconds (resuming measured points from the
// parameter file), writes the thresholds of every finished ladder into the tuned entry, and leaves
// the device dispatching by them.
TuneResult tune_dispatch(Runtime& rt, std::size_t device, const TuneOptions& options);

}  // namespace anycl::detail
