// CLBlast as an alternative GEMM provider on the same queue (ANYCL_GEMM=clblast).
#pragma once

#include "anycl/gemm.hpp"
#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

bool clblast_available() noexcept;

// The caller's (validated) shape as is: CLBlast takes both layouts itself.
template <typename T>
[[nodiscard]] cl_event clblast_gemm(const DeviceSlot& slot, const GemmShape& s, T alpha, cl_mem a, std::size_t a_off,
                                    cl_mem b, std::size_t b_off, T beta, cl_mem c, std::size_t c_off);

// A normalized problem (row-major, offsets inside, operands in its order): a split call's piece.
template <typename T>
[[nodiscard]] cl_event clblast_gemm(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta,
                                    cl_mem c);

// One GEMM on one device through `provider` (p normalized, a and b in p's order): the one place
// that tells the providers apart.
template <typename T>
[[nodiscard]] cl_event enqueue_gemm_by(GemmProvider provider, const DeviceSlot& slot, const GemmProblem& p, T alpha,
                                       cl_mem a, cl_mem b, T beta, cl_mem c);

}  // namespace anycl::detail
