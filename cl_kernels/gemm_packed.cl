/* Packed GEMM (GotoBLAS style): pack_a / pack_b copy op(A) and op(B) into
 * zero-padded micro-panels, gemm_packed streams those panels through a
 * register tile; gemm_rows_a reads A's rows in place instead. All matrices
 * are row-major views (pack_a and pack_b below give the layouts).
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
#define MR 4 /* rows of C per work-item = height of an Ap micro-panel */
#endif
#ifndef NR
#define NR 8 /* cols of C per work-item = width of a Bp micro-panel; multiple of VW */
#endif
#ifndef KU
#define KU 1 /* k-loop unroll factor of the micro-kernel */
#endif
#ifndef PACK_KC
#define PACK_KC 16 /* k-run length copied by one packing work-item */
#endif
/* Host launch geometry (read by the host from the build options, unused by the code): */
#ifndef WG_ROWS
#define WG_ROWS 8 /* gemm_packed work-group (1, WG_ROWS): work-items sharing one Bp panel */
#endif
#ifndef WG_PACK
#define WG_PACK 16 /* pack_a / pack_b work-group (WG_PACK, 1, 1) */
#endif

#include "common.h"
#include "claim.h"
#include "micro_tile.h"

#define W_MAX (MR > NR ? MR : NR) /* widest panel pack_run handles */

/* Copies one k-run [k0, k1) of a W-wide micro-panel:
 *   dst[kk*W + r] = src[r + kk*ld]  (src_rows_contig)   or
 *   dst[kk*W + r] = src[r*ld + kk]  (otherwise),
 * for r < rows, and 0 for rows <= r < W. The destination run is contiguous
 * either way. Forced inline + static so W is a compile-time constant and no
 * generic out-of-line copy is left behind (POCL warned it cannot unroll it).
 * No `restrict` here: Oclgrind cannot execute the noalias intrinsics that
 * restrict-qualified inlined parameters produce. */
static inline __attribute__((always_inline)) void
pack_run(__global REAL *dst, __global const REAL *src, const int W, const int rows,
         const int k0, const int k1, const int ld, const int src_rows_contig)
{
    if (src_rows_contig) { /* src[r + kk*ld] */
        for (int kk = k0; kk < k1; ++kk) {
            __global const REAL *s = src + (ulong)kk * ld;
            __global REAL *d = dst + (ulong)kk * W;
            if (rows == W) {
#pragma unroll
                for (int r = 0; r < W; ++r) d[r] = s[r];
            } else {
#pragma unroll
                for (int r = 0; r < W; ++r) d[r] = r < rows ? s[r] : (REAL)0;
            }
        }
    } else { /* src[r*ld + kk] */
        /* Transpose VW x W blocks in registers: every row is read with
         * vector loads and the destination block (contiguous) is written
         * with vector stores; element-wise strided stores measured ~2x slower. */
        __global const REAL *s[W_MAX];
#pragma unroll
        for (int r = 0; r < W; ++r) s[r] = src + (ulong)min(r, rows - 1) * ld;
        int kk = k0;
        for (; kk + VW <= k1; kk += VW) {
            REAL t[VW * W_MAX];
#pragma unroll
            for (int r = 0; r < W; ++r) {
                REALV v = r < rows ? VLOAD(s[r] + kk) : (REALV)0;
#pragma unroll
                for (int e = 0; e < VW; ++e) t[e * W + r] = VELEM(v, e);
            }
            __global REAL *d = dst + (ulong)kk * W;
#pragma unroll
            for (int i = 0; i < VW * W; i += VW) VSTORE(VLOAD(t + i), d + i);
        }
        for (; kk < k1; ++kk) {
            __global REAL *d = dst + (ulong)kk * W;
#pragma unroll
            for (int r = 0; r < W; ++r) d[r] = r < rows ? s[r][kk] : (REAL)0;
        }
    }
}

/* Panel p of k-run gk: the W-wide micro-panel of rows p*W.. (of `rows`) of a
 * matrix whose rows are contiguous in memory (row r at src + r, element kk at
 * kk*ld) when `contig`, else strided (row r at src + r*ld), as pack_a and
 * pack_b below need it. */
static inline __attribute__((always_inline)) void
pack_panel(const int gk, const int p, const ulong b, const int W, const int rows, const int k,
           const int contig, __global const REAL *src, const ulong off, const int ld,
           const ulong stride, __global REAL *dst, const ulong dst_stride)
{
    const int k0 = gk * PACK_KC;
    if (k0 >= k || p * W >= rows) return;
    const int k1 = min(k0 + PACK_KC, k);
    const int r0 = p * W;
    pack_run(dst + b * dst_stride + (ulong)p * k * W,
             src + off + b * stride + (contig ? (ulong)r0 : (ulong)r0 * ld), W, min(W, rows - r0),
             k0, k1, ld, contig);
}

/* pack_a: Ap[(i/MR)*k*MR + kk*MR + i%MR] = op(A)[i][kk], rows m..pad = 0.
 *   op(A)[i][kk] = A[a_off + i*lda + kk]   (trans_a == 0)
 *                = A[a_off + kk*lda + i]   (trans_a != 0)
 * Batch item b reads A + b*a_stride and writes Ap + b*ap_stride.
 * Global: (ceil(k/PACK_KC) rounded up to local0, ceil(m/MR) rounded up to
 *          local1, batch). Local: any; recommended (16,1,1).
 * k must be > 0 (host skips packing when k == 0). */
__kernel void pack_a(const int m, const int k, const int trans_a,
                     __global const REAL *restrict A, const ulong a_off,
                     const int lda, const ulong a_stride,
                     __global REAL *restrict Ap, const ulong ap_stride)
{
    pack_panel(get_global_id(0), get_global_id(1), get_global_id(2), MR, m, k, trans_a, A, a_off,
               lda, a_stride, Ap, ap_stride);
}

/* pack_a with its work-groups claimed from claims[claim] (claim.h). */
__kernel void pack_a_claimed(const int m, const int k, const int trans_a,
                             __global const REAL *restrict A, const ulong a_off,
                             const int lda, const ulong a_stride,
                             __global REAL *restrict Ap, const ulong ap_stride,
                             __global volatile int *claims, const int claim)
{
    __local volatile int taken;
    const int g = claim_group(claims + claim, &taken);
    if (g < 0) return;
    pack_panel(claimed_id(g, 0), claimed_id(g, 1), claimed_id(g, 2), MR, m, k, trans_a, A, a_off,
               lda, a_stride, Ap, ap_stride);
}

/* pack_b: Bp[(j/NR)*k*NR + kk*NR + j%NR] = op(B)[kk][j], cols n..pad = 0.
 *   op(B)[kk][j] = B[b_off + kk*ldb + j]   (trans_b == 0)
 *                = B[b_off + j*ldb + kk]   (trans_b != 0)
 * Batch item b reads B + b*b_stride and writes Bp + b*bp_stride.
 * Global: (ceil(k/PACK_KC) rounded up to local0, ceil(n/NR) rounded up to
 *          local1, batch). Local: any; recommended (16,1,1).
 * k must be > 0. */
__kernel void pack_b(const int n, const int k, const int trans_b,
                     __global const REAL *restrict B, const ulong b_off,
                     const int ldb, const ulong b_stride,
                     __global REAL *restrict Bp, const ulong bp_stride)
{
    pack_panel(get_global_id(0), get_global_id(1), get_global_id(2), NR, n, k, !trans_b, B, b_off,
               ldb, b_stride, Bp, bp_stride);
}

/* pack_b with its work-groups claimed from claims[claim] (claim.h). */
__kernel void pack_b_claimed(const int n, const int k, const int trans_b,
                             __global const REAL *restrict B, const ulong b_off,
                             const int ldb, const ulong b_stride,
                             __global REAL *restrict Bp, const ulong bp_stride,
                             __global volatile int *claims, const int claim)
{
    __local volatile int taken;
    const int g = claim_group(claims + claim, &taken);
    if (g < 0) return;
    pack_panel(claimed_id(g, 0), claimed_id(g, 1), claimed_id(g, 2), NR, n, k, !trans_b, B, b_off,
               ldb, b_stride, Bp, bp_stride);
}

/* pack_ab: pack_a and pack_b in one launch, one queue hand-off fewer for a
 * GEMM too small to hide it (on a CPU device a hand-off costs about a tenth
 * of a 256^3 SGEMM). Rows gp < ceil(m/MR) of the index space pack A's panels,
 * the rest B's; batch items past batch_a (batch_b) leave A (B) alone, so a
 * shared operand (batch 1) is packed once.
 * Global: (ceil(k/PACK_KC) rounded up to local0, ceil(m/MR) + ceil(n/NR),
 *          max(batch_a, batch_b)). Local: as pack_a. k must be > 0. */
__kernel void pack_ab(const int m, const int n, const int k, const int trans_a, const int trans_b,
                      __global const REAL *restrict A, const ulong a_off, const int lda,
                      const ulong a_stride, __global REAL *restrict Ap, const ulong ap_stride,
                      const int batch_a,
                      __global const REAL *restrict B, const ulong b_off, const int ldb,
                      const ulong b_stride, __global REAL *restrict Bp, const ulong bp_stride,
                      const int batch_b)
{
    const int gk = get_global_id(0), gp = get_global_id(1);
    const ulong b = get_global_id(2);
    const int a_panels = (m + MR - 1) / MR;
    if (gp < a_panels) {
        if (b < (ulong)batch_a)
            pack_panel(gk, gp, b, MR, m, k, trans_a, A, a_off, lda, a_stride, Ap, ap_stride);
    } else if (b < (ulong)batch_b) {
        pack_panel(gk, gp - a_panels, b, NR, n, k, !trans_b, B, b_off, ldb, b_stride, Bp, bp_stride);
    }
}

/* Rows [r0, rows) of an MR x NR tile into C: crow is the tile's row 0 at its
 * first column, seg_j0 that column's place in its column segment (below). */
static inline __attribute__((always_inline)) void
store_tile(REALV acc[MR][NV], __global REAL *crow, const int r0, const int rows, const int cols,
           const REAL alpha, const REAL beta, const int ldc, const int seg_j0, const int c_seg,
           const ulong c_seg_stride)
{
    const int whole = cols == NR && seg_j0 + NR <= c_seg;
#pragma unroll
    for (int r = 0; r < MR; ++r) {
        if (r >= r0 && r < rows) {
            if (whole) {
#pragma unroll
                for (int c = 0; c < NV; ++c) {
                    REALV v = alpha * acc[r][c];
                    if (beta != (REAL)0) v = fma((REALV)beta, VLOAD(crow + c * VW), v);
                    VSTORE(v, crow + c * VW);
                }
            } else {
                /* Edge tile or segment boundary: spill the row so columns
                 * can be masked and placed one by one. */
                REAL tmp[NR];
#pragma unroll
                for (int c = 0; c < NV; ++c) VSTORE(acc[r][c], tmp + c * VW);
                __global REAL *cs = crow;
                for (int j = 0, sj = seg_j0; j < cols; ++j, ++sj) {
                    if (sj == c_seg) {
                        sj = 0;
                        cs += c_seg_stride - c_seg;
                    }
                    REAL v = alpha * tmp[j];
                    if (beta != (REAL)0) v = fma(beta, cs[j], v);
                    cs[j] = v;
                }
            }
        }
        crow += ldc;
    }
}

/* gemm_packed: C = alpha * Ap*Bp + beta*C on the real m x n (padding is
 * computed but never stored). Work-item (tj, ti, b) owns the MR x NR tile
 * at C rows ti*MR.., cols tj*NR.. of batch item b:
 *   Ap + b*ap_stride (ap_stride may be 0 = shared A), Bp + b*bp_stride,
 *   C[c_off + b*c_stride + (j/c_seg)*c_seg_stride + i*ldc + j%c_seg].
 * Column segments let one GEMM cover several images of a convolution
 * (n = images*P*Q, c_seg = P*Q, c_seg_stride = K*P*Q): no panel is padded
 * per image. A plain GEMM passes c_seg = n.
 * beta == 0 means C is write-only (NaNs in C are overwritten).
 * Global: (ceil(n/NR) rounded up to local0, ceil(m/MR) rounded up to local1,
 *          batch). Local: recommended (1, L): the L work-items of a group
 *          walk down the same Bp panel, so it stays in L2 (POCL runs them
 *          back to back). L=8..16 on CPU; any size is correct. */
static inline __attribute__((always_inline)) void
gemm_tile(const int tj, const int ti, const ulong b, const int m, const int n, const int k,
          const REAL alpha, __global const REAL *Ap, const ulong ap_stride,
          __global const REAL *Bp, const ulong bp_stride, const REAL beta, __global REAL *C,
          const ulong c_off, const int ldc, const ulong c_stride, const int c_seg,
          const ulong c_seg_stride)
{
    const int i0 = ti * MR;
    const int j0 = tj * NR;
    if (i0 >= m || j0 >= n) return;

    __global const REAL *a = Ap + b * ap_stride + (ulong)ti * k * MR;
    __global const REAL *bp = Bp + b * bp_stride + (ulong)tj * k * NR;

    REALV acc[MR][NV];
    micro_tile(acc, a, bp, k);

    const int seg = j0 / c_seg, seg_j0 = j0 - seg * c_seg;
    __global REAL *crow = C + c_off + b * c_stride + (ulong)seg * c_seg_stride + (ulong)i0 * ldc + seg_j0;
    store_tile(acc, crow, 0, min(MR, m - i0), min(NR, n - j0), alpha, beta, ldc, seg_j0, c_seg, c_seg_stride);
}

__kernel void gemm_packed(const int m, const int n, const int k, const REAL alpha,
                          __global const REAL *restrict Ap, const ulong ap_stride,
                          __global const REAL *restrict Bp, const ulong bp_stride,
                          const REAL beta, __global REAL *restrict C,
                          const ulong c_off, const int ldc, const ulong c_stride,
                          const int c_seg, const ulong c_seg_stride)
{
    gemm_tile(get_global_id(0), get_global_id(1), get_global_id(2), m, n, k, alpha, Ap, ap_stride,
              Bp, bp_stride, beta, C, c_off, ldc, c_stride, c_seg, c_seg_stride);
}

/* gemm_packed with its work-groups claimed from claims[claim] (claim.h). */
__kernel void gemm_packed_claimed(const int m, const int n, const int k, const REAL alpha,
                                  __global const REAL *restrict Ap, const ulong ap_stride,
                                  __global const REAL *restrict Bp, const ulong bp_stride,
                                  const REAL beta, __global REAL *restrict C,
                                  const ulong c_off, const int ldc, const ulong c_stride,
                                  const int c_seg, const ulong c_seg_stride,
                                  __global volatile int *claims, const int claim)
{
    __local volatile int taken;
    const int g = claim_group(claims + claim, &taken);
    if (g < 0) return;
    gemm_tile(claimed_id(g, 0), claimed_id(g, 1), claimed_id(g, 2), m, n, k, alpha, Ap, ap_stride,
              Bp, bp_stride, beta, C, c_off, ldc, c_stride, c_seg, c_seg_stride);
}

/* gemm_rows_a: C = A*Bp + beta*C, gemm_packed's tile (batch 1, alpha 1, plain
 * row-major C) with A read in place from row-major runs instead of a packed
 * copy: reduction index kk = s*seg + t (t < seg) of row i is
 *   A[a_off + s*a_seg_stride + i*lda + t],
 * e.g. backward-weights' dy[img][k][pq] (seg = P*Q, a_seg_stride = K*P*Q), so
 * the tile's MR broadcasts a step read MR rows side by side. m >= MR: a last
 * partial tile runs on rows m-MR.. (every read inside A) and stores only the
 * rows the tile before it leaves. k is a multiple of seg.
 * Global and local: gemm_packed's with batch 1. */
__kernel void gemm_rows_a(const int m, const int n, const int k, const int seg,
                          __global const REAL *restrict A, const ulong a_off, const int lda,
                          const ulong a_seg_stride, __global const REAL *restrict Bp,
                          const REAL beta, __global REAL *restrict C, const ulong c_off,
                          const int ldc)
{
    const int i0 = get_global_id(1) * MR, j0 = get_global_id(0) * NR;
    if (i0 >= m || j0 >= n) return;
    const int a0 = min(i0, m - MR);
    __global const REAL *a = A + a_off + (ulong)a0 * lda;
    __global const REAL *bp = Bp + (ulong)j0 * k;

    REALV acc[MR][NV];
    micro_tile_rows(acc, a, lda, 1, bp, seg);
    for (int kk = seg; kk < k; kk += seg) {
        a += a_seg_stride;
        bp += (ulong)seg * NR;
        micro_tile_add_rows(acc, a, lda, 1, bp, seg);
    }
    store_tile(acc, C + c_off + (ulong)a0 * ldc + j0, i0 - a0, MR, min(NR, n - j0), (REAL)1, beta, ldc, j0, n,
               0);
}

/* Lane masks of a tile whose columns cross from one B segment into the next
 * at column u: all bits set in lanes before u, where the first segment's run
 * supplies them. */
#if REAL_IS_DOUBLE
#define LANE_INT long
#else
#define LANE_INT int
#endif
#if VW == 1
#define LANEV LANE_INT
#else
#define LANEV CONCAT(LANE_INT, VW)
#endif

/* gemm_rows_b: C = Ap*B, gemm_packed's tile (batch 1, alpha 1, beta 0, column
 * segments) with B read in place from row-major runs instead of a packed copy:
 * column j = s*seg + t (t < seg) of reduction row kk is
 *   B[b_off + s*b_seg_stride + kk*ldb + t],
 * e.g. a 1x1 convolution's x[img][c][pq] (seg = ldb = P*Q, b_seg_stride =
 * C*P*Q), so each k step loads the tile's NR columns from one row. A tile
 * crossing into the next segment takes each vector's lanes from the two runs
 * by a select (its loads reach past the first run's end and before the second
 * run's start, inside B since both runs are rows of the same tensor). seg >=
 * NR (a tile meets at most two segments) and n a multiple of NR (no tile runs
 * past B's last column). C as gemm_packed's (c_seg, c_seg_stride). Global and
 * local: gemm_packed's with batch 1. */
__kernel void gemm_rows_b(const int m, const int n, const int k, __global const REAL *restrict Ap,
                          __global const REAL *restrict B, const ulong b_off, const int ldb,
                          const int seg, const ulong b_seg_stride, __global REAL *restrict C,
                          const ulong c_off, const int ldc, const int c_seg, const ulong c_seg_stride)
{
    const int ti = get_global_id(1), i0 = ti * MR, j0 = get_global_id(0) * NR;
    if (i0 >= m || j0 >= n) return;
    const int s = j0 / seg, t0 = j0 - s * seg, u = seg - t0;
    __global const REAL *a = Ap + (ulong)ti * k * MR;
    __global const REAL *b0 = B + b_off + (ulong)s * b_seg_stride + t0;

    REALV acc[MR][NV];
#pragma unroll
    for (int r = 0; r < MR; ++r)
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = (REALV)0;
    if (u >= NR) {
        micro_tile_add_strided(acc, a, 1, MR, b0, ldb, k);
    } else {
        __global const REAL *b1 = B + b_off + (ulong)(s + 1) * b_seg_stride - u;
        LANE_INT lane[VW];
        for (int e = 0; e < VW; ++e) lane[e] = e;
        LANEV first[NV];
#pragma unroll
        for (int c = 0; c < NV; ++c) first[c] = VLOAD(lane) + (LANEV)(c * VW) < (LANEV)(u);
        for (int kk = 0; kk < k; ++kk, a += MR, b0 += ldb, b1 += ldb) {
            REALV bv[NV];
#pragma unroll
            for (int c = 0; c < NV; ++c) bv[c] = select(VLOAD(b1 + c * VW), VLOAD(b0 + c * VW), first[c]);
            micro_tile_fma(acc, a, 1, bv);
        }
    }

    const int cs = j0 / c_seg, seg_j0 = j0 - cs * c_seg;
    __global REAL *crow = C + c_off + (ulong)cs * c_seg_stride + (ulong)i0 * ldc + seg_j0;
    store_tile(acc, crow, 0, min(MR, m - i0), NR, (REAL)1, (REAL)0, ldc, seg_j0, c_seg, c_seg_stride);
}
