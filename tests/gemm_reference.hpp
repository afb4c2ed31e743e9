// The GEMM oracle for tests: OpenBLAS cblas_dgemm on the inputs widened to double, plus the
// elementwise error bound that says how far a correct float/double GEMM may land from it.
#pragma once

#include <cblas.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "anycl/gemm.hpp"

namespace anycl_test {

struct GemmOracle {
  std::vector<double> c;      // alpha * op(A) op(B) + beta * C0, in double
  std::vector<double> bound;  // allowed |result - c| per element of C
};

// Stored-matrix element counts for a shape (no offsets, one batch item).
inline std::size_t stored_elems(bool row_major, std::size_t rows, std::size_t cols, std::size_t ld) {
  if (rows == 0 || cols == 0) return 0;
  return row_major ? (rows - 1) * ld + cols : (cols - 1) * ld + rows;
}

// Tolerance: |C - C_exact|_ij <= (k + 2) * 2 * eps * (|alpha| (|A||B|)_ij + |beta| |C0_ij|) + tiny,
// the classic dot-product bound gamma_k with headroom for the two scalings.
template <typename T>
GemmOracle gemm_oracle(const anycl::GemmShape& s, T alpha, const T* a, const T* b, T beta, const T* c0) {
  const bool row = s.layout == anycl::Layout::RowMajor;
  const bool ta = s.trans_a == anycl::Transpose::Yes, tb = s.trans_b == anycl::Transpose::Yes;
  const std::size_t na = stored_elems(row, ta ? s.k : s.m, ta ? s.m : s.k, s.lda);
  const std::size_t nb = stored_elems(row, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb);
  const std::size_t nc = stored_elems(row, s.m, s.n, s.ldc);
  std::vector<double> A(na), B(nb), absA(na), absB(nb), C(nc), absC(nc, 0.0);
  for (std::size_t i = 0; i < na; ++i) A[i] = a[i], absA[i] = std::fabs(double(a[i]));
  for (std::size_t i = 0; i < nb; ++i) B[i] = b[i], absB[i] = std::fabs(double(b[i]));
  for (std::size_t i = 0; i < nc; ++i) C[i] = beta == T(0) ? 0.0 : double(c0[i]);
  const auto order = row ? CblasRowMajor : CblasColMajor;
  const auto tra = ta ? CblasTrans : CblasNoTrans, trb = tb ? CblasTrans : CblasNoTrans;
  std::vector<double> absC0(nc);
  for (std::size_t i = 0; i < nc; ++i) absC0[i] = std::fabs(C[i]);
  if (s.m && s.n) {
    const int lda = int(s.lda), ldb = int(s.ldb), ldc = int(s.ldc);
    cblas_dgemm(order, tra, trb, int(s.m), int(s.n), int(s.k), double(alpha), A.data(), lda, B.data(), ldb, double(beta),
                C.data(), ldc);
    cblas_dgemm(order, tra, trb, int(s.m), int(s.n), int(s.k), std::fabs(double(alpha)), absA.data(), lda, absB.data(),
                ldb, std::fabs(double(beta)), absC0.data(), ldc);
  }
  const double eps = std::numeric_limits<T>::epsilon();
  GemmOracle out{std::move(C), std::vector<double>(nc)};
  for (std::size_t i = 0; i < nc; ++i)
    out.bound[i] = (double(s.k) + 2) * 2 * eps * absC0[i] + std::numeric_limits<T>::min();
  return out;
}

}  // namespace anycl_test
