/* Direct GEMM: no packing, no padding. Any m, n, k (>= 0), any ld, offset
 * and transposes. Each work-item owns an MR x NR register tile of C.
 * Fast path (op(B) rows contiguous, i.e. trans_b == 0, and a full column
 * tile): B rows are read with vector loads straight from the user matrix.
 * Everything else goes through a gather path that is slower but exact.
 *
 * Tunables: every -D define is below with its default and meaning. The host
 * sets REAL to the family's element type and every other one from the tables
 * in params/ (or this default). */

#ifndef REAL
#define REAL float /* element type: float or double */
#endif
#ifndef VW
#define VW 4 /* vector width of B loads / accumulators: 1, 2, 4, 8 or 16 */
#endif
#ifndef MR
#define MR 4 /* rows of C per work-item */
#endif
#ifndef NR
#define NR 8 /* cols of C per work-item; multiple of VW */
#endif
#ifndef KU
#define KU 1 /* k-loop unroll factor of the fast path */
#endif
/* Host launch geometry and dispatch (read by the host from the build options, unused by the code): */
#ifndef WG_ROWS
#define WG_ROWS 8 /* work-group (cols, WG_ROWS); cols = ceil(n/NR) when n <= 4*NR (narrow C), else 1 */
#endif
#ifndef DIRECT_TINY
#define DIRECT_TINY 64 /* m*n*k <= DIRECT_TINY^3: direct for any transposes (packing cannot pay) */
#endif
#ifndef DIRECT_MAX
#define DIRECT_MAX 512 /* op(B) rows contiguous and m*n*k <= DIRECT_MAX^3: direct */
#endif
#ifndef DIRECT_NARROW
#define DIRECT_NARROW 128 /* op(B) rows contiguous and n <= DIRECT_NARROW: direct */
#endif
#ifndef DIRECT_NARROW_M
#define DIRECT_NARROW_M 128 /* op(B) rows contiguous and m <= DIRECT_NARROW_M: direct */
#endif

#include "common.h"

#if NR % VW != 0
#error "NR must be a multiple of VW"
#endif
#define NV (NR / VW) /* accumulator vectors per tile row */

/* gemm_direct: C = alpha * op(A)*op(B) + beta*C, row-major views:
 *   op(A)[i][kk] = A[a_off + i*lda + kk]  (trans_a == 0) or A[a_off + kk*lda + i]
 *   op(B)[kk][j] = B[b_off + kk*ldb + j]  (trans_b == 0) or B[b_off + j*ldb + kk]
 *   C[c_off + i*ldc + j]
 * Batch item b (global id 2) adds b*a_stride / b*b_stride / b*c_stride
 * (strides may be 0). beta == 0 means C is write-only.
 * Global: (ceil(n/NR) rounded up to local0, ceil(m/MR) rounded up to local1,
 *          batch). Local: any size is correct; on CPU use (1, L) with L ~ 8
 *          when n is wide (the group shares a B column panel) and (NT, L)
 *          with NT = ceil(n/NR) when n is narrow (the group shares A rows). */
__kernel void gemm_direct(const int m, const int n, const int k, const REAL alpha,
                          __global const REAL *restrict A, const ulong a_off,
                          const int lda, const int trans_a, const ulong a_stride,
                          __global const REAL *restrict B, const ulong b_off,
                          const int ldb, const int trans_b, const ulong b_stride,
                          const REAL beta, __global REAL *restrict C,
                          const ulong c_off, const int ldc, const ulong c_stride)
{
    const int tj = get_global_id(0);
    const int ti = get_global_id(1);
    const ulong b = get_global_id(2);
    const int i0 = ti * MR;
    const int j0 = tj * NR;
    if (i0 >= m || j0 >= n) return;
    const int rows = min(MR, m - i0);
    const int cols = min(NR, n - j0);

    /* Rows past m are clamped onto row m-1: the loads stay in bounds and
     * branch-free, and those rows are simply never stored. */
    const ulong a_rs = trans_a ? 1 : (ulong)lda; /* step between rows i */
    const ulong a_ks = trans_a ? (ulong)lda : 1; /* step between kk */
    __global const REAL *abase = A + a_off + b * a_stride;
    ulong arow[MR];
#pragma unroll
    for (int r = 0; r < MR; ++r) arow[r] = (ulong)min(i0 + r, m - 1) * a_rs;

    REALV acc[MR][NV];
#pragma unroll
    for (int r = 0; r < MR; ++r)
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = (REALV)0;

    __global const REAL *bbase = B + b_off + b * b_stride;
    if (!trans_b && cols == NR) {
        __global const REAL *bp = bbase + j0;
        ulong ak = 0;
        int kk = 0;
        for (; kk + KU <= k; kk += KU) {
#pragma unroll
            for (int u = 0; u < KU; ++u) {
                REALV bv[NV];
#pragma unroll
                for (int c = 0; c < NV; ++c) bv[c] = VLOAD(bp + c * VW);
#pragma unroll
                for (int r = 0; r < MR; ++r) {
                    const REALV av = (REALV)(abase[arow[r] + ak]);
#pragma unroll
                    for (int c = 0; c < NV; ++c) acc[r][c] = fma(av, bv[c], acc[r][c]);
                }
                bp += ldb;
                ak += a_ks;
            }
        }
        for (; kk < k; ++kk) {
            REALV bv[NV];
#pragma unroll
            for (int c = 0; c < NV; ++c) bv[c] = VLOAD(bp + c * VW);
#pragma unroll
            for (int r = 0; r < MR; ++r) {
                const REALV av = (REALV)(abase[arow[r] + ak]);
#pragma unroll
                for (int c = 0; c < NV; ++c) acc[r][c] = fma(av, bv[c], acc[r][c]);
            }
            bp += ldb;
            ak += a_ks;
        }
    } else {
        /* Gather path (trans_b or ragged column edge): columns past n are
         * clamped like rows, each B element is loaded individually. */
        const ulong b_cs = trans_b ? (ulong)ldb : 1; /* step between cols j */
        const ulong b_ks = trans_b ? 1 : (ulong)ldb; /* step between kk */
        ulong bcol[NR];
#pragma unroll
        for (int c = 0; c < NR; ++c) bcol[c] = (ulong)min(j0 + c, n - 1) * b_cs;
        ulong ak = 0, bk = 0;
        for (int kk = 0; kk < k; ++kk) {
            REAL bs[NR];
#pragma unroll
            for (int c = 0; c < NR; ++c) bs[c] = bbase[bcol[c] + bk];
            REALV bv[NV];
#pragma unroll
            for (int c = 0; c < NV; ++c) bv[c] = VLOAD(bs + c * VW);
#pragma unroll
            for (int r = 0; r < MR; ++r) {
                const REALV av = (REALV)(abase[arow[r] + ak]);
#pragma unroll
                for (int c = 0; c < NV; ++c) acc[r][c] = fma(av, bv[c], acc[r][c]);
            }
            ak += a_ks;
            bk += b_ks;
        }
    }

    __global REAL *crow = C + c_off + b * c_stride + (ulong)i0 * ldc + j0;
#pragma unroll
    for (int r = 0; r < MR; ++r) {
        if (r < rows) {
            if (cols == NR) {
#pragma unroll
                for (int c = 0; c < NV; ++c) {
                    REALV v = alpha * acc[r][c];
                    if (beta != (REAL)0) v = fma((REALV)beta, VLOAD(crow + c * VW), v);
                    VSTORE(v, crow + c * VW);
                }
            } else {
                /* Edge tile: spill the row so columns can be masked one by one. */
                REAL tmp[NR];
#pragma unroll
                for (int c = 0; c < NV; ++c) VSTORE(acc[r][c], tmp + c * VW);
                for (int j = 0; j < cols; ++j) {
                    REAL v = alpha * tmp[j];
                    if (beta != (REAL)0) v = fma(beta, crow[j], v);
                    crow[j] = v;
                }
            }
        }
        crow += ldc;
    }
}
