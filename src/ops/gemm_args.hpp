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

// The batch count alone, for callers that must check it before indexing per-item pointer arrays.
void validate_batch_count(std::size_t batch, const char* function);

// C = alpha * op(A) op(B) + beta * C with every matrix a row-major view. A column-major call is
// the row-major product C^T = op(B)^T op(A)^T, i.e. the operands swap and m and n swap.
struct GemmProblem {
  std::size_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  std::size_t lda = 0, ldb = 0, ldc = 0;
  std::size_t a_off = 0, b_off = 0, c_off = 0;
  std::size_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
  bool a_is_b = false;  // operands were swapped (column-major): A here is the caller's B
};

// One dense row-major product m x k by k x n, no transposes, no offsets.
GemmProblem dense_problem(std::size_t m, std::size_t n, std::size_t k);

GemmProblem normalize(const GemmShape& s, std::size_t a_off, std::size_t b_off, std::size_t c_off);

// Elements of C the problem spans from c_off, gaps between rows and matrices included.
std::size_t c_span(const GemmProblem& p);

}  // namespace anycl::detail
