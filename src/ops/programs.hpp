// The programs (kernel variants) each operation needs on a device: what the scheduler checks
// before it gives a device a share, and what devices that claim work-groups from each other
// must have built alike (sched/claims.hpp).
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// GEMM of precision "f32" or "f64" (the packed family; its claimed stages too).
inline std::vector<std::string> gemm_programs(const char* precision) {
  return {std::string("gemm_packed_") + precision};
}
// Every convolution algorithm's pieces.
inline std::vector<std::string> conv_programs() { return {"gemm_packed_f32", "conv_im2col", "conv_layout"}; }
// The Winograd pass, whose tile panels devices may claim.
inline std::vector<std::string> winograd_programs() { return {"conv_winograd"}; }
// Adding partial sums on a device (nn_layers' accumulate).
inline std::vector<std::string> partial_sum_programs() { return {"nn_layers"}; }

inline bool has_programs(const DeviceSlot& slot, const std::vector<std::string>& variants) {
  for (const std::string& v : variants)
    if (!slot.has_program(v)) return false;
  return true;
}

}  // namespace anycl::detail
