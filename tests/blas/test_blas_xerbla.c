/* Bad arguments to cblas_sgemm/cblas_dgemm/sgemm_/dgemm_ are reported as reference BLAS reports
 * them: this program's own xerbla_ and cblas_xerbla record (routine, parameter number) and every
 * case checks it, and that C is untouched. Built twice from this file:
 *   test_blas_xerbla            linked with -lanycl_blas
 *   test_blas_xerbla_reference  linked with Debian's reference libblas.so.3 (BLAS + CBLAS), which
 *                               shows the expected table is what reference BLAS does.
 * Reference CBLAS reports a bad argument that Fortran SGEMM finds through its own xerbla_ (the
 * Fortran position plus one, routine "cblas_sgemm " blank-padded) and its cblas_xerbla swaps
 * the row-major M/N and lda/ldb numbers back; under REFERENCE this file's handlers do the same
 * (as reference CBLAS's own test suite does), so both builds compare the number reported. */
#include <cblas.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef REFERENCE
#define ANYCL_BLAS_ENUMS_FROM_CBLAS_H
#include "blas/blas_abi.h"
#else
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*, const float*, const int*,
            const float*, const int*, const float*, float*, const int*);
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*, const double*, const int*,
            const double*, const int*, const double*, double*, const int*);
extern int RowMajorStrg, CBLAS_CallFromC; /* reference CBLAS's globals: only it defines them */
#endif

static char got_name[32], got_message[96];
static int got_info, calls;

static void record(const char* name, int info) {
  size_t n = strlen(name);
  while (n && name[n - 1] == ' ') --n; /* Fortran names are blank-padded */
  if (n >= sizeof got_name) n = sizeof got_name - 1;
  memcpy(got_name, name, n);
  got_name[n] = 0;
  got_info = info;
  ++calls;
}

void cblas_xerbla(blasint p, char* rout, char* form, ...) {
  va_list args;
  va_start(args, form);
  vsnprintf(got_message, sizeof got_message, form, args);
  va_end(args);
#ifdef REFERENCE
  if (RowMajorStrg && strstr(rout, "gemm")) p = p == 4 ? 5 : p == 5 ? 4 : p == 9 ? 11 : p == 11 ? 9 : p;
#endif
  record(rout, (int)p);
}

void xerbla_(const char* srname, const int* info, size_t len) {
  (void)len;
#ifdef REFERENCE
  if (CBLAS_CallFromC) { /* what reference CBLAS's xerbla_ does for a call from C */
    char rout[16] = "cblas_";
    for (int i = 0; i < 6; ++i) rout[6 + i] = (char)tolower((unsigned char)srname[i]);
    cblas_xerbla(*info + 1, rout, "");
    return;
  }
#endif
  record(srname, *info);
}

static int failures;

static void expect(const char* what, const char* name, int info, const float* c, const float* c_before) {
  if (calls != 1 || strcmp(got_name, name) || got_info != info) {
    printf("FAIL %s: expected %s parameter %d, got %d report(s), last %s parameter %d\n", what, name, info, calls,
           got_name, got_info);
    ++failures;
  }
  if (memcmp(c, c_before, 4 * sizeof(float))) {
    printf("FAIL %s: C was written\n", what);
    ++failures;
  }
  calls = 0, got_info = 0, got_name[0] = 0;
}

/* Reference CBLAS's message: "Illegal <setting> setting, <value>" for a bad layout or transpose
 * (`setting` non-null), empty for the arguments Fortran SGEMM checks. */
static void expect_message(const char* what, const char* setting, int value) {
  char want[96] = "";
  if (setting) snprintf(want, sizeof want, "Illegal %s setting, %d\n", setting, value);
  if (strcmp(got_message, want)) {
    printf("FAIL %s: message '%s', expected '%s'\n", what, got_message, want);
    ++failures;
  }
  got_message[0] = 0;
}

#define BAD 7 /* no valid layout or transpose */

int main(void) {
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4] = {5, 6, 7, 8};
  double ad[4] = {1, 2, 3, 4}, bd[4] = {1, 2, 3, 4}, cd[4] = {5, 6, 7, 8};
  const float c_before[4] = {5, 6, 7, 8};
  const CBLAS_ORDER R = CblasRowMajor, C = CblasColMajor;
  const CBLAS_TRANSPOSE N = CblasNoTrans, T = CblasTrans;
  struct { const char* what; CBLAS_ORDER o; CBLAS_TRANSPOSE ta, tb; int m, n, k, lda, ldb, ldc, info; } cb[] = {
    {"layout", (CBLAS_ORDER)BAD, N, N, 2, 2, 2, 2, 2, 2, 1},
    {"col TransA", C, (CBLAS_TRANSPOSE)BAD, N, 2, 2, 2, 2, 2, 2, 2},
    {"col TransB", C, N, (CBLAS_TRANSPOSE)BAD, 2, 2, 2, 2, 2, 2, 3},
    {"col ConjNoTrans", C, CblasConjNoTrans, N, 2, 2, 2, 2, 2, 2, 2},
    {"col M", C, N, N, -1, 2, 2, 2, 2, 2, 4},
    {"col N", C, N, N, 2, -1, 2, 2, 2, 2, 5},
    {"col K", C, N, N, 2, 2, -1, 2, 2, 2, 6},
    {"col lda", C, N, N, 2, 2, 2, 1, 2, 2, 9},
    {"col lda trans", C, T, N, 2, 2, 3, 2, 3, 2, 9},
    {"col ldb", C, N, N, 2, 2, 2, 2, 1, 2, 11},
    {"col ldb trans", C, N, T, 2, 3, 2, 2, 2, 2, 11},
    {"col ldc", C, N, N, 2, 2, 2, 2, 2, 1, 14},
    {"col M and N", C, N, N, -1, -1, 2, 2, 2, 2, 4},
    {"col lda and ldb", C, N, N, 2, 2, 2, 1, 1, 2, 9},
    {"row TransA", R, (CBLAS_TRANSPOSE)BAD, N, 2, 2, 2, 2, 2, 2, 2},
    {"row TransB (2 in reference CBLAS 3.11)", R, N, (CBLAS_TRANSPOSE)BAD, 2, 2, 2, 2, 2, 2, 2},
    {"row both transposes", R, (CBLAS_TRANSPOSE)BAD, (CBLAS_TRANSPOSE)BAD, 2, 2, 2, 2, 2, 2, 2},
    {"row M", R, N, N, -1, 2, 2, 2, 2, 2, 4},
    {"row N", R, N, N, 2, -1, 2, 2, 2, 2, 5},
    {"row K", R, N, N, 2, 2, -1, 2, 2, 2, 6},
    {"row lda", R, N, N, 2, 3, 3, 2, 3, 3, 9},
    {"row ldb", R, N, N, 2, 3, 2, 2, 2, 3, 11},
    {"row ldc", R, N, N, 2, 3, 2, 2, 3, 2, 14},
    {"row M and N (N is checked first)", R, N, N, -1, -1, 2, 2, 2, 2, 5},
    {"row lda and ldb (ldb is checked first)", R, N, N, 2, 3, 3, 2, 2, 3, 11},
  };
  for (size_t i = 0; i < sizeof cb / sizeof cb[0]; ++i) {
    char what[96];
    const int o = (int)cb[i].o, ta = (int)cb[i].ta, tb = (int)cb[i].tb;
    const int bad_o = o != CblasRowMajor && o != CblasColMajor, bad_ta = ta < CblasNoTrans || ta > CblasConjTrans,
              bad_tb = tb < CblasNoTrans || tb > CblasConjTrans;
    const char* setting = bad_o ? "layout" : bad_ta ? "TransA" : bad_tb ? "TransB" : NULL;
    const int value = bad_o ? o : bad_ta ? ta : tb;
    snprintf(what, sizeof what, "cblas_sgemm %s", cb[i].what);
    cblas_sgemm(cb[i].o, cb[i].ta, cb[i].tb, cb[i].m, cb[i].n, cb[i].k, 1.f, a, cb[i].lda, b, cb[i].ldb, 0.f, c,
                cb[i].ldc);
    expect(what, "cblas_sgemm", cb[i].info, c, c_before);
    expect_message(what, setting, value);
    snprintf(what, sizeof what, "cblas_dgemm %s", cb[i].what);
    cblas_dgemm(cb[i].o, cb[i].ta, cb[i].tb, cb[i].m, cb[i].n, cb[i].k, 1.0, ad, cb[i].lda, bd, cb[i].ldb, 0.0, cd,
                cb[i].ldc);
    float cdf[4] = {(float)cd[0], (float)cd[1], (float)cd[2], (float)cd[3]};
    expect(what, "cblas_dgemm", cb[i].info, cdf, c_before);
    expect_message(what, setting, value);
  }
  struct { const char* what; char ta, tb; int m, n, k, lda, ldb, ldc, info; } fo[] = {
    {"TRANSA", 'X', 'N', 2, 2, 2, 2, 2, 2, 1},
    {"TRANSB", 'N', 'x', 2, 2, 2, 2, 2, 2, 2},
    {"M", 'N', 'N', -1, 2, 2, 2, 2, 2, 3},
    {"N", 'n', 'N', 2, -1, 2, 2, 2, 2, 4},
    {"K", 'N', 't', 2, 2, -1, 2, 2, 2, 5},
    {"LDA", 'N', 'N', 3, 2, 2, 2, 2, 3, 8},
    {"LDA trans", 'T', 'N', 2, 2, 3, 2, 3, 2, 8},
    {"LDB", 'N', 'N', 2, 2, 3, 2, 2, 2, 10},
    {"LDB trans", 'N', 'C', 2, 3, 2, 2, 2, 2, 10},
    {"LDC", 'N', 'N', 3, 2, 2, 3, 2, 2, 13},
    {"M and LDA", 'N', 'N', -1, 2, 2, 0, 2, 2, 3},
  };
  for (size_t i = 0; i < sizeof fo / sizeof fo[0]; ++i) {
    char what[96];
    const float one = 1.f;
    const double oned = 1.0;
    snprintf(what, sizeof what, "sgemm_ %s", fo[i].what);
    sgemm_(&fo[i].ta, &fo[i].tb, &fo[i].m, &fo[i].n, &fo[i].k, &one, a, &fo[i].lda, b, &fo[i].ldb, &one, c, &fo[i].ldc);
    expect(what, "SGEMM", fo[i].info, c, c_before);
    snprintf(what, sizeof what, "dgemm_ %s", fo[i].what);
    dgemm_(&fo[i].ta, &fo[i].tb, &fo[i].m, &fo[i].n, &fo[i].k, &oned, ad, &fo[i].lda, bd, &fo[i].ldb, &oned, cd,
           &fo[i].ldc);
    float cdf[4] = {(float)cd[0], (float)cd[1], (float)cd[2], (float)cd[3]};
    expect(what, "DGEMM", fo[i].info, cdf, c_before);
  }
  printf("%zu CBLAS and %zu Fortran cases, %d failure(s)\n", 2 * sizeof cb / sizeof cb[0], 2 * sizeof fo / sizeof fo[0],
         failures);
  return failures ? 1 : 0;
}
