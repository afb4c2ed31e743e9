#include "ops/gemm_args.hpp"

#include <climits>
#include <string>

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

[[noreturn]] void invalid(const char* function, const std::string& what) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + what);
}

std::size_t mul(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) invalid(function, std::string(what) + " overflows size_t");
  return r;
}

std::size_t add(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) invalid(function, std::string(what) + " overflows size_t");
  return r;
}

// A stored rows x cols matrix: checks ld and returns the elements one matrix spans.
std::size_t operand_extent(bool row_major, std::size_t rows, std::size_t cols, std::size_t ld, const char* name,
                           const char* function) {
  const std::size_t line = row_major ? cols : rows, lines = row_major ? rows : cols;
  if (ld < std::max<std::size_t>(1, line))
    invalid(function, std::string("ld") + name + " = " + std::to_string(ld) + " is below its minimum " +
                          std::to_string(std::max<std::size_t>(1, line)));
  if (ld > INT_MAX) invalid(function, std::string("ld") + name + " exceeds 2^31 - 1");
  if (rows == 0 || cols == 0) return 0;
  return add(mul(lines - 1, ld, function, name), line, function, name);
}

std::size_t batch_extent(std::size_t one, std::size_t stride, std::size_t batch, const char* function,
                         const char* name) {
  if (one == 0 || batch == 0) return 0;
  return add(mul(batch - 1, stride, function, name), one, function, name);
}

}  // namespace

void validate_batch_count(std::size_t batch, const char* function) {
  if (batch > INT_MAX) invalid(function, "batch must be below 2^31");
}

GemmExtents validate_gemm(const GemmShape& s, const char* function) {
  const int layout = static_cast<int>(s.layout), ta = static_cast<int>(s.trans_a), tb = static_cast<int>(s.trans_b);
  if (layout != ANYCL_ROW_MAJOR && layout != ANYCL_COL_MAJOR)
    invalid(function, "layout " + std::to_string(layout) + " is neither ROW_MAJOR (101) nor COL_MAJOR (102)");
  if (ta != ANYCL_NO_TRANS && ta != ANYCL_TRANS)
    invalid(function, "trans_a " + std::to_string(ta) + " is neither NO_TRANS (111) nor TRANS (112)");
  if (tb != ANYCL_NO_TRANS && tb != ANYCL_TRANS)
    invalid(function, "trans_b " + std::to_string(tb) + " is neither NO_TRANS (111) nor TRANS (112)");
  if (s.m > INT_MAX || s.n > INT_MAX || s.k > INT_MAX) invalid(function, "m, n and k must be below 2^31");
  validate_batch_count(s.batch, function);
  const bool row = s.layout == Layout::RowMajor;
  const bool tra = s.trans_a == Transpose::Yes, trb = s.trans_b == Transpose::Yes;
  GemmExtents e;
  const std::size_t a = operand_extent(row, tra ? s.k : s.m, tra ? s.m : s.k, s.lda, "a", function);
  const std::size_t b = operand_extent(row, trb ? s.n : s.k, trb ? s.k : s.n, s.ldb, "b", function);
  const std::size_t c = operand_extent(row, s.m, s.n, s.ldc, "c", function);
  if (s.batch > 1 && c != 0 && s.stride_c < c)
    invalid(function, "stride_c = " + std::to_string(s.stride_c) + " is smaller than one C matrix (" +
                          std::to_string(c) + " elements): batch items would overlap");
  if (s.m == 0 || s.n == 0) return e;  // nothing is read or written
  e.c = batch_extent(c, s.stride_c, s.batch, function, "c extent");
  if (s.k == 0) return e;  // A and B are not read
  e.a = batch_extent(a, s.stride_a, s.batch, function, "a extent");
  e.b = batch_extent(b, s.stride_b, s.batch, function, "b extent");
  return e;
}

GemmProblem normalize(const GemmShape& s, std::size_t a_off, std::size_t b_off, std::size_t c_off) {
  GemmProblem p;
  p.m = s.m, p.n = s.n, p.k = s.k;
  p.trans_a = s.trans_a == Transpose::Yes, p.trans_b = s.trans_b == Transpose::Yes;
  p.lda = s.lda, p.ldb = s.ldb, p.ldc = s.ldc;
  p.a_off = a_off, p.b_off = b_off, p.c_off = c_off;
  p.batch = s.batch, p.stride_a = s.stride_a, p.stride_b = s.stride_b, p.stride_c = s.stride_c;
  if (s.layout == Layout::ColMajor) {
    std::swap(p.m, p.n);
    std::swap(p.trans_a, p.trans_b);
    std::swap(p.lda, p.ldb);
    std::swap(p.a_off, p.b_off);
    std::swap(p.stride_a, p.stride_b);
    p.a_is_b = true;
  }
  return p;
}

GemmProblem dense_problem(std::size_t m, std::size_t n, std::size_t k) {
  GemmProblem p;
  p.m = m, p.n = n, p.k = k;
  p.lda = k, p.ldb = n, p.ldc = n;
  return p;
}

std::size_t c_span(const GemmProblem& p) {
  if (p.m == 0 || p.n == 0 || p.batch == 0) return 0;
  return (p.batch - 1) * p.stride_c + (p.m - 1) * p.ldc + p.n;
}

}  // namespace anycl::detail
