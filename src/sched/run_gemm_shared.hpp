// One packed GEMM shared by devices that claim each other's tiles (docs/multi-device.md).
#pragma once

#include <vector>

#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// On buffers of the first slot (a and b in p's order, p normalized): every device packs and
// multiplies the work-groups it claims, meeting once between packing and the products; the call
// stays asynchronous, ordered as a split call on buffers is (run_gemm.hpp).
template <typename T>
Event run_gemm_shared(const std::vector<const DeviceSlot*>& slots, const GemmProblem& p, T alpha, cl_mem a, cl_mem b,
                      T beta, cl_mem c);

}  // namespace anycl::detail
