#include "blas/gemm_call.hpp"

#include <algorithm>

#include "blas/blas_abi.h"

namespace anycl::blas {

int fortran_gemm_info(char trans_a, char trans_b, int m, int n, int k, int lda, int ldb, int ldc) {
  const char ta = upper(trans_a), tb = upper(trans_b);
  const bool nota = ta == 'N', notb = tb == 'N';
  const int nrowa = nota ? m : k, nrowb = notb ? k : n;
  if (!nota && ta != 'C' && ta != 'T') return 1;
  if (!notb && tb != 'C' && tb != 'T') return 2;
  if (m < 0) return 3;
  if (n < 0) return 4;
  if (k < 0) return 5;
  if (lda < std::max(1, nrowa)) return 8;
  if (ldb < std::max(1, nrowb)) return 10;
  if (ldc < std::max(1, m)) return 13;
  return 0;
}

char cblas_trans_char(int trans) {
  switch (trans) {
    case ANYCL_BLAS_NO_TRANS: return 'N';
    case ANYCL_BLAS_TRANS: return 'T';
    case ANYCL_BLAS_CONJ_TRANS: return 'C';
    default: return 0;
  }
}

// Reference CBLAS checks the layout and the transposes itself (parameters 1-3), then calls
// Fortran SGEMM, in row-major order with the operands swapped; its xerbla_ adds 1 to SGEMM's
// INFO (CBLAS counts the layout) and cblas_xerbla swaps M/N and lda/ldb back for row-major.
int cblas_gemm_info(int layout, int trans_a, int trans_b, int m, int n, int k, int lda, int ldb, int ldc) {
  if (layout != ANYCL_BLAS_COL_MAJOR && layout != ANYCL_BLAS_ROW_MAJOR) return 1;
  const char ta = cblas_trans_char(trans_a), tb = cblas_trans_char(trans_b);
  if (!ta) return 2;
  // Reference CBLAS 3.11 (Debian's libblas3) reports a bad row-major TransB as parameter 2;
  // later netlib sources say 3. The library matches the reference BLAS Debian ships.
  if (!tb) return layout == ANYCL_BLAS_ROW_MAJOR ? 2 : 3;
  if (layout == ANYCL_BLAS_COL_MAJOR) {
    const int info = fortran_gemm_info(ta, tb, m, n, k, lda, ldb, ldc);
    return info ? info + 1 : 0;
  }
  const int info = fortran_gemm_info(tb, ta, n, m, k, ldb, lda, ldc);
  switch (info ? info + 1 : 0) {
    case 4: return 5;
    case 5: return 4;
    case 9: return 11;
    case 11: return 9;
    default: return info ? info + 1 : 0;
  }
}

}  // namespace anycl::blas
