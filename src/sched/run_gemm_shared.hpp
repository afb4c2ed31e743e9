// One packed GEMM shared by devices that claim each other's tiles (README, "Multi-device").
#pragma once

#include <optional>
#include <vector>

#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// The devices that run this GEMM as one shared packed pass, first the one that lends the panels
// and orders the call (`home` when given: the device of the caller's buffers), or none when it
// does not apply: Auto mode, anycl's kernels, a problem the packed kernels take on that device,
// worth splitting, and at least two devices with a weight that can claim from home
// (sched/claims.hpp). p is normalized.
template <typename T>
std::vector<std::size_t> plan_shared_gemm(RuntimeImpl& rt, const GemmProblem& p, T alpha,
                                          std::optional<std::size_t> home = std::nullopt);

// Runs it on buffers of the first device (a and b in p's order): every device packs and
// multiplies the work-groups it claims, meeting once between packing and the products; the call
// stays asynchronous, ordered as run_gemm_buffers is.
template <typename T>
Event run_gemm_shared(RuntimeImpl& rt, const std::vector<std::size_t>& devices, const GemmProblem& p, T alpha,
                      cl_mem a, cl_mem b, T beta, cl_mem c);

}  // namespace anycl::detail
