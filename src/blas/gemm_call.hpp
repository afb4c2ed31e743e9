// One GEMM call as the BLAS entry points receive it, reduced to column-major Fortran form, and
// the argument checks of reference BLAS (sgemm.f) and reference CBLAS (cblas_sgemm.c).
#pragma once

#include "blas/blas_abi.h"

namespace anycl::blas {

// C = alpha * op(A) * op(B) + beta * C, column-major; trans_* are 'N', 'T' or 'C' (upper case).
// A row-major CBLAS call is the column-major call on the transposed matrices: A and B, m and n,
// and the two transposes trade places.
template <typename T>
struct ColMajorCall {
  char trans_a = 'N', trans_b = 'N';
  int m = 0, n = 0, k = 0;
  T alpha{};
  const T* a = nullptr;
  int lda = 0;
  const T* b = nullptr;
  int ldb = 0;
  T beta{};
  T* c = nullptr;
  int ldc = 0;
};

// Reference SGEMM's check: INFO, the 1-based position of the first bad argument, or 0.
int fortran_gemm_info(char trans_a, char trans_b, int m, int n, int k, int lda, int ldb, int ldc);

// Reference CBLAS's check for cblas_?gemm: the parameter number its cblas_xerbla reports
// (layout = 1 ... ldc = 14), or 0. Enum arguments arrive as the caller's raw int bits.
int cblas_gemm_info(int layout, int trans_a, int trans_b, int m, int n, int k, int lda, int ldb, int ldc);

// 'N', 'T' or 'C' for a valid CBLAS transpose; anything else is 0.
char cblas_trans_char(int trans);

inline char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

template <typename T>
ColMajorCall<T> from_cblas(int layout, int trans_a, int trans_b, int m, int n, int k, T alpha, const T* a,
                           int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  if (layout == ANYCL_BLAS_COL_MAJOR)
    return {cblas_trans_char(trans_a), cblas_trans_char(trans_b), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};
  return {cblas_trans_char(trans_b), cblas_trans_char(trans_a), n, m, k, alpha, b, ldb, a, lda, beta, c, ldc};
}

}  // namespace anycl::blas
