// GEMM arguments: validated once at the API edge, then normalized to a row-major problem.
#pragma once

#include <cstddef>

#include "anycl/gemm.hpp"

namespace anycl::detail {

// Elements each operand spans from its first element, over the whole batch (0 = not read).
struct GemmExtents {
  std::size_t a = 0, b = 0, c = 0;
};

// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the argument: layout or transposes out of
// range, a leading dimension below its minimum, sizes beyond the kernels' 32-bit range, or
// extents that overflow size_t.
GemmExtents validate_gemm(const GemmShape& s, const char* function);

// C = alpha * op(A) op(B) + beta * C with every matrix a row-major view. A column-major call is
// the row-major product C^T = op(B)^T op(A)^T, i.e. the operands swap and m and n swap.
struct GemmProblem {
  std::size_t m, n, k;
  bool trans_a, trans_b;
  std::size_t lda, ldb, ldc;
  std::size_t a_off, b_off, c_off;
  std::size_t batch, stride_a, stride_b, stride_c;
  bool a_is_b = false;  // operands were swapped (column-major): A here is the caller's B
};

GemmProblem normalize(const GemmShape& s, std::size_t a_off, std::size_t b_off, std::size_t c_off);

// Elements of C the problem spans from c_off, gaps between rows and matrices included.
std::size_t c_span(const GemmProblem& p);

}  // namespace anycl::detail
