/* libanycl_blas linked in place of a BLAS (this program links -lanycl_blas only) and compiled
 * against Debian's <cblas.h>: cblas_sgemm/cblas_dgemm on both layouts and every transpose pair,
 * with padded leading dimensions, alpha/beta (beta = 0 over a NaN-filled C), and the Fortran
 * sgemm_/dgemm_ with and without the hidden CHARACTER lengths, against plain loops in double.
 * Tolerance per element: |C - ref| <= 4 * (k + 2) * eps(T) * (|alpha| sum_p |a_ip b_pj| + |beta c_ij|).
 *   test_blas_gemm            all cases (run with ANYCL_BLAS_MIN_FLOPS=0: everything on anycl)
 *   test_blas_gemm --small    small products only (for the forwarding check)
 *   test_blas_gemm --threads  4 threads at once, from the first call on (the runtime is created
 *                             once, lazily, under concurrent first calls) */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our prototypes after Debian's: a type that differs is a conflicting declaration, a value
 * that differs fails the static assertions. */
#define ANYCL_BLAS_ENUMS_FROM_CBLAS_H
#include "blas/blas_abi.h"
_Static_assert(CblasRowMajor == ANYCL_BLAS_ROW_MAJOR && CblasColMajor == ANYCL_BLAS_COL_MAJOR, "layout values");
_Static_assert(CblasNoTrans == ANYCL_BLAS_NO_TRANS && CblasTrans == ANYCL_BLAS_TRANS &&
                   CblasConjTrans == ANYCL_BLAS_CONJ_TRANS, "transpose values");
_Static_assert(sizeof(blasint) == sizeof(int), "32-bit BLAS integers");

static _Atomic int failures = 0, checked = 0;

/* Element (i, j) of op(X) for a matrix stored with leading dimension ld in the given order. */
static double at(const void* x, int dbl, int col_major, int trans, int ld, int i, int j) {
  if (trans) { int t = i; i = j; j = t; }
  size_t idx = col_major ? (size_t)j * ld + i : (size_t)i * ld + j;
  return dbl ? ((const double*)x)[idx] : ((const float*)x)[idx];
}

static int max1(int x) { return x > 1 ? x : 1; }

/* Uniform in [-1, 1); a per-thread generator for the --threads run. */
static double rnd(void) {
  static _Thread_local unsigned long long state = 88172645463325252ull;
  state ^= state << 13, state ^= state >> 7, state ^= state << 17;
  return (double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* One call through `iface` (0 CBLAS, 1 Fortran, 2 Fortran with hidden lengths) and its check. */
static void run_case(int dbl, int iface, int col_major, int ta, int tb, int m, int n, int k, int pad, double alpha,
                     double beta) {
  if (iface) col_major = 1;
  const size_t esz = dbl ? sizeof(double) : sizeof(float);
  const int arows = ta ? k : m, acols = ta ? m : k;
  const int brows = tb ? n : k, bcols = tb ? k : n;
  const int lda = max1(col_major ? arows : acols) + pad, ldb = max1(col_major ? brows : bcols) + pad;
  const int ldc = max1(col_major ? m : n) + pad;
  const size_t asz = (size_t)lda * (col_major ? acols : arows), bsz = (size_t)ldb * (col_major ? bcols : brows);
  const size_t csz = (size_t)ldc * (col_major ? n : m);
  char* a = malloc(asz * esz + 1);
  char* b = malloc(bsz * esz + 1);
  char* c = malloc(csz * esz + 1);
  double* c0 = malloc(csz * sizeof(double) + 1);
  for (size_t i = 0; i < asz; ++i) dbl ? (((double*)a)[i] = rnd()) : (((float*)a)[i] = (float)rnd());
  for (size_t i = 0; i < bsz; ++i) dbl ? (((double*)b)[i] = rnd()) : (((float*)b)[i] = (float)rnd());
  for (size_t i = 0; i < csz; ++i) {
    c0[i] = beta == 0 ? NAN : rnd();
    dbl ? (((double*)c)[i] = c0[i]) : (((float*)c)[i] = (float)c0[i]);
  }
  const char tch[] = {'N', 'T', 'C'}, tlow[] = {'n', 't', 'c'};
  const char cta = (m + k) % 2 ? tch[ta] : tlow[ta], ctb = (n + k) % 2 ? tch[tb] : tlow[tb];
  const CBLAS_TRANSPOSE eta = ta == 0 ? CblasNoTrans : ta == 1 ? CblasTrans : CblasConjTrans;
  const CBLAS_TRANSPOSE etb = tb == 0 ? CblasNoTrans : tb == 1 ? CblasTrans : CblasConjTrans;
  const float fa = (float)alpha, fb = (float)beta;
  typedef void (*sgemm_len)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                            const int*, const float*, const int*, const float*, float*, const int*, size_t, size_t);
  typedef void (*dgemm_len)(const char*, const char*, const int*, const int*, const int*, const double*,
                            const double*, const int*, const double*, const int*, const double*, double*,
                            const int*, size_t, size_t);
  if (iface == 0 && dbl)
    cblas_dgemm(col_major ? CblasColMajor : CblasRowMajor, eta, etb, m, n, k, alpha, (double*)a, lda, (double*)b, ldb,
                beta, (double*)c, ldc);
  else if (iface == 0)
    cblas_sgemm(col_major ? CblasColMajor : CblasRowMajor, eta, etb, m, n, k, fa, (float*)a, lda, (float*)b, ldb, fb,
                (float*)c, ldc);
  else if (iface == 1 && dbl)
    dgemm_(&cta, &ctb, &m, &n, &k, &alpha, (double*)a, &lda, (double*)b, &ldb, &beta, (double*)c, &ldc);
  else if (iface == 1)
    sgemm_(&cta, &ctb, &m, &n, &k, &fa, (float*)a, &lda, (float*)b, &ldb, &fb, (float*)c, &ldc);
  /* As a gfortran caller: the two CHARACTER lengths after ldc (through a pointer the compiler
   * cannot see through, since the declared prototype has no such arguments). */
  void (*volatile with_len)(void) = dbl ? (void (*)(void))dgemm_ : (void (*)(void))sgemm_;
  if (iface == 2 && dbl)
    ((dgemm_len)with_len)(&cta, &ctb, &m, &n, &k, &alpha, (double*)a, &lda, (double*)b, &ldb, &beta,
                          (double*)c, &ldc, 1, 1);
  else if (iface == 2)
    ((sgemm_len)with_len)(&cta, &ctb, &m, &n, &k, &fa, (float*)a, &lda, (float*)b, &ldb, &fb,
                          (float*)c, &ldc, 1, 1);
  const double eps = dbl ? DBL_EPSILON : FLT_EPSILON;
  int bad = 0;
  for (int i = 0; i < m && !bad; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int p = 0; p < k; ++p) {
        const double x = at(a, dbl, col_major, ta != 0, lda, i, p), y = at(b, dbl, col_major, tb != 0, ldb, p, j);
        ref += x * y;
        mag += fabs(x * y);
      }
      const size_t idx = col_major ? (size_t)j * ldc + i : (size_t)i * ldc + j;
      ref = alpha * ref + (beta == 0 ? 0 : beta * c0[idx]);
      const double got = dbl ? ((double*)c)[idx] : ((float*)c)[idx];
      const double tol = 4.0 * (k + 2) * eps * (fabs(alpha) * mag + (beta == 0 ? 0 : fabs(beta * c0[idx]))) + 1e-300;
      if (!(fabs(got - ref) <= tol)) {
        printf("FAIL %cgemm %s %s ta=%d tb=%d m=%d n=%d k=%d pad=%d alpha=%g beta=%g: C(%d,%d) = %.9g, expected %.9g\n",
               dbl ? 'd' : 's', iface == 0 ? "cblas" : iface == 1 ? "fortran" : "fortran+len",
               col_major ? "col" : "row", ta, tb, m, n, k, pad, alpha, beta, i, j, got, ref);
        bad = 1;
        break;
      }
    }
  }
  /* Padding between columns (rows) of C is never written. */
  for (size_t idx = 0; idx < csz && !bad; ++idx) {
    const size_t in_ld = idx % (size_t)ldc;
    if ((int)in_ld < (col_major ? m : n)) continue;
    const double got = dbl ? ((double*)c)[idx] : ((float*)c)[idx];
    const double want = dbl ? c0[idx] : (float)c0[idx];
    if (!(got == want || (isnan(got) && isnan(want)))) {
      printf("FAIL %cgemm: padding of C at %zu was written\n", dbl ? 'd' : 's', idx);
      bad = 1;
    }
  }
  failures += bad;
  ++checked;
  free(a), free(b), free(c), free(c0);
}

/* Each thread runs its own products: sgemm and dgemm, both layouts, transposed operands. */
static void* thread_cases(void* arg) {
  const int t = (int)(size_t)arg;
  for (int rep = 0; rep < 3; ++rep) run_case(rep % 2, 0, (t + rep) % 2, t % 2, rep % 3, 96 + t, 80, 72 + rep, t % 3, 1.0, 0.5);
  return NULL;
}

static int run_threads(void) {
  pthread_t threads[4];
  for (size_t t = 0; t < 4; ++t)
    if (pthread_create(&threads[t], NULL, thread_cases, (void*)t)) return 1;
  for (int t = 0; t < 4; ++t) pthread_join(threads[t], NULL);
  printf("%d cases on 4 threads, %d failed\n", checked, failures);
  return failures ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && !strcmp(argv[1], "--threads")) return run_threads();
  const int small = argc > 1 && !strcmp(argv[1], "--small");
  const int shapes[][3] = {{67, 45, 38}, {128, 96, 80}, {1, 33, 17}, {40, 1, 9}};
  const int small_shapes[][3] = {{5, 7, 3}, {16, 16, 16}};
  const int nshapes = small ? 2 : 4;
  const double ab[][2] = {{1.0, 0.0}, {1.5, 0.5}, {-0.75, 0.0}, {0.0, 2.0}, {1.0, 1.0}};
  for (int dbl = 0; dbl < 2; ++dbl)
    for (int iface = 0; iface < 3; ++iface)
      for (int col = 0; col < (iface ? 1 : 2); ++col)
        for (int ta = 0; ta < 3; ++ta)
          for (int tb = 0; tb < 3; ++tb)
            for (int s = 0; s < nshapes; ++s) {
              const int* sh = small ? small_shapes[s] : shapes[s];
              const double* x = ab[(ta * 3 + tb + s) % 5];
              run_case(dbl, iface, col, ta, tb, sh[0], sh[1], sh[2], (s + ta) % 3 * 3, x[0], x[1]);
            }
  /* Sizes of zero: nothing happens (k = 0 scales C by beta). */
  run_case(0, 0, 0, 0, 0, 13, 11, 0, 1, 1.0, 0.5);
  run_case(1, 1, 1, 1, 0, 13, 11, 0, 0, 1.0, 0.0);
  run_case(0, 0, 1, 0, 1, 0, 5, 4, 0, 1.0, 0.5);
  printf("%d cases, %d failed\n", checked, failures);
  return failures ? 1 : 0;
}
