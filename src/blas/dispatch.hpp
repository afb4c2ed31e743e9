// Where one checked GEMM runs: the BLAS behind (small products), anycl on the process-wide
// runtime, or, when anycl cannot run it, the BLAS behind again (docs/blas.md).
#pragma once

#include "blas/gemm_call.hpp"

namespace anycl::blas {

// `routine` is "sgemm" or "dgemm"; `from_cblas` picks the entry point a forwarded call uses.
// Never throws.
template <typename T>
void run_gemm(const char* routine, const ColMajorCall<T>& call, bool from_cblas) noexcept;

}  // namespace anycl::blas
