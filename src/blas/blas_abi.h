/* The BLAS ABI libanycl_blas exports: CBLAS cblas_sgemm/cblas_dgemm and Fortran sgemm_/dgemm_.
 * Declared here rather than taken from a vendor's cblas.h so the library depends on no BLAS;
 * types and enum values match Debian's cblas.h (OpenBLAS and reference CBLAS, 32-bit integers),
 * which tests/blas/test_blas_c.c checks by compiling this header after <cblas.h> with
 * ANYCL_BLAS_ENUMS_FROM_CBLAS_H defined: a mismatch is a conflicting declaration. C and C++. */
#ifndef ANYCL_BLAS_ABI_H
#define ANYCL_BLAS_ABI_H

#define ANYCL_BLAS_ROW_MAJOR 101
#define ANYCL_BLAS_COL_MAJOR 102
#define ANYCL_BLAS_NO_TRANS 111
#define ANYCL_BLAS_TRANS 112
#define ANYCL_BLAS_CONJ_TRANS 113

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ANYCL_BLAS_ENUMS_FROM_CBLAS_H
enum CBLAS_ORDER { CblasRowMajor = ANYCL_BLAS_ROW_MAJOR, CblasColMajor = ANYCL_BLAS_COL_MAJOR };
enum CBLAS_TRANSPOSE {
  CblasNoTrans = ANYCL_BLAS_NO_TRANS,
  CblasTrans = ANYCL_BLAS_TRANS,
  CblasConjTrans = ANYCL_BLAS_CONJ_TRANS,
  CblasConjNoTrans = 114
};
#endif

void cblas_sgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA,
                 const enum CBLAS_TRANSPOSE TransB, const int M, const int N, const int K,
                 const float alpha, const float* A, const int lda, const float* B, const int ldb,
                 const float beta, float* C, const int ldc);
void cblas_dgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA,
                 const enum CBLAS_TRANSPOSE TransB, const int M, const int N, const int K,
                 const double alpha, const double* A, const int lda, const double* B, const int ldb,
                 const double beta, double* C, const int ldc);

/* Fortran BLAS (gfortran calling convention). Callers may pass the hidden lengths of the two
 * CHARACTER arguments after ldc; the library never reads them. */
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);

#ifdef __cplusplus
}
#endif

#endif /* ANYCL_BLAS_ABI_H */
