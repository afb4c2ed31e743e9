// A GEMM result checked element by element against a plain double loop, for the kernel tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "anycl/gemm.hpp"

namespace anycl_test {

// The plain loop: C[i][j] = alpha * sum op(A)[i][p] op(B)[p][j] + beta * C[i][j], in double, with
// the classic gamma_k bound per element. Returns the number of elements outside their bound.
template <typename T>
std::size_t count_wrong_loop(const anycl::GemmShape& s, double alpha, double beta, const std::vector<T>& a,
                             const std::vector<T>& b, const std::vector<T>& c0, const std::vector<T>& got,
                             std::string* first) {
  using anycl::Layout;
  using anycl::Transpose;
  const bool row = s.layout == Layout::RowMajor;
  auto at = [&](std::size_t r, std::size_t col, std::size_t ld) { return row ? r * ld + col : col * ld + r; };
  const bool ta = s.trans_a == Transpose::Yes, tb = s.trans_b == Transpose::Yes;
  std::size_t wrong = 0;
  for (std::size_t q = 0; q < s.batch; ++q)
    for (std::size_t i = 0; i < s.m; ++i)
      for (std::size_t j = 0; j < s.n; ++j) {
        double sum = 0, mag = 0;
        for (std::size_t p = 0; p < s.k; ++p) {
          const double av = a[q * s.stride_a + (ta ? at(p, i, s.lda) : at(i, p, s.lda))];
          const double bv = b[q * s.stride_b + (tb ? at(j, p, s.ldb) : at(p, j, s.ldb))];
          sum += av * bv, mag += std::fabs(av * bv);
        }
        const std::size_t ci = q * s.stride_c + at(i, j, s.ldc);
        const double old = beta == 0 ? 0.0 : double(c0[ci]);
        const double want = alpha * sum + beta * old;
        const double bound = (double(s.k) + 2) * 2 * std::numeric_limits<T>::epsilon() *
                                 (std::fabs(alpha) * mag + std::fabs(beta * old)) +
                             std::numeric_limits<T>::min();
        if (!(std::fabs(double(got[ci]) - want) <= bound)) {
          if (!wrong++ && first) {
            std::ostringstream o;
            o << "C[" << q << "][" << i << "][" << j << "] = " << got[ci] << ", want " << want;
            *first = o.str();
          }
        }
      }
  return wrong;
}

}  // namespace anycl_test
