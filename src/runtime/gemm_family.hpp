// Which GEMM kernel family a device runs, chosen by capability: the tiled family (local-memory
// tiles, 2-D work-groups) on GPUs and accelerators with dedicated local memory, the CPU families
// (direct + packed) elsewhere. ANYCL_GEMM_FAMILY=tiled|cpu forces one on every device.
#pragma once

#include "anycl/runtime.hpp"

namespace anycl::detail {

enum class GemmFamily { Cpu, Tiled };

// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) when ANYCL_GEMM_FAMILY holds another value.
GemmFamily gemm_family(const DeviceInfo& device);

}  // namespace anycl::detail
