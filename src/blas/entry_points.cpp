// The four exported symbols (exports.map): argument checks as reference BLAS/CBLAS, then
// run_gemm. Nothing else leaves the library, so every other BLAS symbol resolves to the BLAS
// behind it.
#include <cstring>

#include "blas/blas_abi.h"
#include "blas/dispatch.hpp"
#include "blas/next_blas.hpp"

namespace {

using anycl::blas::ColMajorCall;

// A C caller may pass any int as an enum; reading it through the enum type outside its
// enumerators' range is undefined in C++, so the bits are read as an int.
template <typename E>
int bits_of(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized here");
  int bits = 0;
  std::memcpy(&bits, &e, sizeof bits);
  return bits;
}

template <typename T>
void cblas_gemm(const char* routine, const char* cblas_name, CBLAS_ORDER order, CBLAS_TRANSPOSE trans_a,
                CBLAS_TRANSPOSE trans_b, int m, int n, int k, T alpha, const T* a, int lda, const T* b, int ldb,
                T beta, T* c, int ldc) {
  const int layout = bits_of(order), ta = bits_of(trans_a), tb = bits_of(trans_b);
  if (const int p = anycl::blas::cblas_gemm_info(layout, ta, tb, m, n, k, lda, ldb, ldc)) {
    // Reference CBLAS's messages: the bad setting for parameters 1-3, empty otherwise. Its row-major
    // TransB is reported as parameter 2 (gemm_call.cpp), so the value decides which setting it was.
    const char* form = p == 1 ? "Illegal layout setting, %d\n"
                       : p > 3 ? ""
                       : anycl::blas::cblas_trans_char(ta) ? "Illegal TransB setting, %d\n"
                                                           : "Illegal TransA setting, %d\n";
    const int value = p == 1 ? layout : anycl::blas::cblas_trans_char(ta) ? tb : ta;
    anycl::blas::report_cblas_error(p, cblas_name, form, value);
    return;
  }
  anycl::blas::run_gemm(routine, anycl::blas::from_cblas(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
                        true);
}

template <typename T>
void fortran_gemm(const char* routine, const char* srname6, const char* transa, const char* transb, const int* m,
                  const int* n, const int* k, const T* alpha, const T* a, const int* lda, const T* b, const int* ldb,
                  const T* beta, T* c, const int* ldc) {
  if (const int info = anycl::blas::fortran_gemm_info(*transa, *transb, *m, *n, *k, *lda, *ldb, *ldc)) {
    anycl::blas::report_fortran_error(srname6, info);
    return;
  }
  const ColMajorCall<T> call{anycl::blas::upper(*transa), anycl::blas::upper(*transb), *m, *n, *k, *alpha, a, *lda,
                             b, *ldb, *beta, c, *ldc};
  anycl::blas::run_gemm(routine, call, false);
}

}  // namespace

// Built with hidden visibility; these four are the exports (and exports.map keeps it so).
#define ANYCL_BLAS_EXPORT __attribute__((visibility("default")))

extern "C" {

ANYCL_BLAS_EXPORT void cblas_sgemm(const CBLAS_ORDER Order, const CBLAS_TRANSPOSE TransA, const CBLAS_TRANSPOSE TransB, const int M,
                 const int N, const int K, const float alpha, const float* A, const int lda, const float* B,
                 const int ldb, const float beta, float* C, const int ldc) {
  cblas_gemm("sgemm", "cblas_sgemm", Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

ANYCL_BLAS_EXPORT void cblas_dgemm(const CBLAS_ORDER Order, const CBLAS_TRANSPOSE TransA, const CBLAS_TRANSPOSE TransB, const int M,
                 const int N, const int K, const double alpha, const double* A, const int lda, const double* B,
                 const int ldb, const double beta, double* C, const int ldc) {
  cblas_gemm("dgemm", "cblas_dgemm", Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

ANYCL_BLAS_EXPORT void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc) {
  fortran_gemm("sgemm", "SGEMM ", transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

ANYCL_BLAS_EXPORT void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc) {
  fortran_gemm("dgemm", "DGEMM ", transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // extern "C"
