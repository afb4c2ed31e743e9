// anycl C++ API: per-kernel device times. While profiling is on, every kernel anycl enqueues on a
// runtime's devices is recorded with its OpenCL profiling event; kernel_profile() then sums the
// device times (CL_PROFILING_COMMAND_START..END) per kernel name and device. Kernels that other
// libraries enqueue (the CLBlast GEMM provider) are not anycl's and are not recorded.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl {

struct KernelTime {
  std::string kernel;   // the .cl kernel's name, e.g. "gemm_packed" or "pack_a_claimed"
  std::size_t device;   // index of the device in the runtime
  std::size_t count;    // launches recorded
  double total_ms, median_ms;  // device time of all those launches, and of the median one
};

// Off by default. Turning it off stops recording; what was recorded stays until cleared.
ANYCL_API void set_kernel_profiling(Runtime& rt, bool on);
// Every launch recorded since the last clear, by device, then by kernel in the order first
// launched. Waits for launches still running.
ANYCL_API std::vector<KernelTime> kernel_profile(Runtime& rt);
ANYCL_API void clear_kernel_profile(Runtime& rt);

}  // namespace anycl
