/* anycl convolution: Winograd F(2x2, 3x3) for 3x3 filters, stride 1,
 * dilation 1, groups 1, any (asymmetric) padding. NCHW float.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL  element type (float)
 *   MR    packed-A panel height; must equal the GEMM's MR
 *   NR    packed-B panel width; must equal the GEMM's NR
 *   WOT_RUN  tiles along tx per output-transform work-item
 *
 * Pipeline (xi = 0..15 indexes the 4x4 transform domain, row-major):
 *   U[xi] = (G g G^T)[xi]     packed-A, M = K, K-dim = C   (filter transform)
 *   V[xi] = (B^T d B)[xi]     packed-B, K-dim = C, N = T   (input transform)
 *   M[xi] = U[xi] * V[xi]     16 batched GEMMs by the GEMM family, row-major
 *   y     = A^T M A (+bias, ReLU)                          (output transform)
 * Tiles: tp = ceil(P/2), tq = ceil(Q/2), tile t = (b*tp + ty)*tq + tx over the
 * nimg images of the host's batch chunk, T = nimg*tp*tq. Tile (ty, tx) reads
 * input rows 2ty-pt .. 2ty-pt+3 and cols 2tx-pl .. 2tx-pl+3 (zero outside).
 *
 * Backward-data uses the same kernels: dx = forward Winograd on dy (C_in = K,
 * C_out = C) with winograd_filter_transform(flip = 1) and padding
 * (2-pt, 2-pl, 2-pb, 2-pr) (needs every pad <= 2), no bias, no ReLU.
 * Host tip: make vstride/mstride NOT a multiple of 1024 floats (e.g. add 16):
 * the 16 planes are streamed together and 4 KiB-aliased planes measured
 * ~15-20% slower on POCL.
 * All kernels guard their global ids, so global sizes may be rounded up. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef MR
#define MR 4        /* packed-A panel height; must match the GEMM */
#endif
#ifndef NR
#define NR 8        /* packed-B panel width; must match the GEMM */
#endif
#ifndef WOT_RUN
#define WOT_RUN 4   /* tiles along tx per output-transform work-item: 2, 4, 8 or 16 */
#endif

#include "claim.h"

/* ---------------------------------------------------------------------------
 * U[xi][i][j] in packed-A layout (rows i < M, K-dim j < Kd), block xi at
 * up + xi*ustride with ustride = ceil(M/MR)*MR*Kd; padded rows are written 0.
 *   flip = 0 (forward):        M = K, Kd = C, g = w[i][j][r][s]
 *   flip = 1 (backward-data):  M = C, Kd = K, g = w[j][i][2-r][2-s]
 * One work-item transforms the MR filters of one packed row: its 16 outputs
 * per plane are MR contiguous values (one filter per work-item made 16
 * scattered stores per filter and ran at ~40 ns a filter on POCL).
 * global = (Kd, ceil(M/MR)). */
#define WCAT_(a, b) a##b
#define WCAT(a, b) WCAT_(a, b)

/* The 9 taps of filter row i (zero for a padding row i >= M), in forward order. */
REAL filter_tap(const __global REAL *w, int i, int j, int M, int Kd, int flip, int e)
{
    if (i >= M) return (REAL)0;
    return flip ? w[((ulong)j * M + i) * 9 + (8 - e)] : w[((ulong)i * Kd + j) * 9 + e];
}

#define MR_IS_VECTOR (MR == 2 || MR == 4 || MR == 8 || MR == 16) /* an OpenCL vector width */

#if MR_IS_VECTOR
typedef WCAT(REAL, MR) realm; /* one value of the MR filters of a packed row */
#else
typedef REAL realm;           /* odd MR: a scalar per filter (the loop below) */
#endif

__kernel void winograd_filter_transform(__global const REAL *restrict w,
                                        __global REAL *restrict up, ulong ustride,
                                        int M, int Kd, int flip)
{
    const int j = get_global_id(0), ip = get_global_id(1);
    if (j >= Kd || ip * MR >= M) return;
    __global REAL *o = up + (ulong)ip * Kd * MR + (ulong)j * MR;
#if MR_IS_VECTOR
    const int lanes = 1;
#else
    const int lanes = MR;
#endif
    for (int r = 0; r < lanes; ++r) {
        /* g[e]: tap e of the MR filters (vector) or of filter row ip*MR + r (scalar) */
        realm g[9];
        for (int e = 0; e < 9; ++e) {
#if MR_IS_VECTOR
            REAL lane[MR];
            for (int q = 0; q < MR; ++q) lane[q] = filter_tap(w, ip * MR + q, j, M, Kd, flip, e);
            g[e] = WCAT(vload, MR)(0, lane);
#else
            g[e] = filter_tap(w, ip * MR + r, j, M, Kd, flip, e);
#endif
        }
        /* Gg: 4x3, then (Gg)G^T: 4x4 */
        realm t[4][3];
        for (int b = 0; b < 3; ++b) {
            t[0][b] = g[b];
            t[1][b] = (REAL)0.5 * (g[b] + g[3 + b] + g[6 + b]);
            t[2][b] = (REAL)0.5 * (g[b] - g[3 + b] + g[6 + b]);
            t[3][b] = g[6 + b];
        }
        for (int a = 0; a < 4; ++a) {
            const realm u[4] = {t[a][0], (REAL)0.5 * (t[a][0] + t[a][1] + t[a][2]),
                                (REAL)0.5 * (t[a][0] - t[a][1] + t[a][2]), t[a][2]};
            for (int c = 0; c < 4; ++c) {
#if MR_IS_VECTOR
                WCAT(vstore, MR)(u[c], 0, o + (ulong)(a * 4 + c) * ustride);
#else
                o[(ulong)(a * 4 + c) * ustride + r] = u[c];
#endif
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * V[xi][c][t] in packed-B layout, block xi at vp + vp_off + xi*vstride with
 * vstride >= ceil(T/NR)*NR*C; tiles t >= T are written 0.
 * One work-item owns channel c of tile panel jp: NR consecutive tiles, i.e.
 * 16 contiguous runs of NR floats. The panel is cut into segments that stay
 * on one tile row (b, ty), so row validity is decided once per segment.
 * global = (C, ceil(T/NR)). */
static inline __attribute__((always_inline)) void
input_panel(const int c, const int jp, const __global REAL *x, ulong x_off, __global REAL *vp,
            ulong vp_off, ulong vstride, int C, int H, int W, int tp, int tq, int pt, int pl, int nimg)
{
    const int T = nimg * tp * tq;
    if (c >= C || jp * NR >= T) return;
    __global REAL *o = vp + vp_off + (ulong)jp * C * NR + (ulong)c * NR;

    const int t0 = jp * NR;
    int b = t0 / (tp * tq);
    int ty = (t0 - b * tp * tq) / tq;
    int tx0 = t0 - b * tp * tq - ty * tq;
    /* Row transform B^T d first, on whole input rows: the 2*seg+2 columns a
     * segment touches are loaded once (tiles overlap by 2 columns) and the
     * loop is elementwise along w. Then the column transform reads u at
     * stride 2. Both loops are branch-free. */
    REAL u[4][2 * NR + 2];
    int jj = 0;
    while (jj < NR) {
        const int seg = min(NR - jj, tq - tx0);
        __global REAL *ot = o + jj;
        if (b >= nimg) {
            for (int xi = 0; xi < 16; ++xi)
                for (int t = 0; t < seg; ++t) ot[(ulong)xi * vstride + t] = (REAL)0;
        } else {
            const __global REAL *xc = x + x_off + ((ulong)b * C + c) * H * W;
            const int h0 = 2 * ty - pt, w0 = 2 * tx0 - pl;
            const __global REAL *row0 = xc + clamp(h0, 0, H - 1) * W;
            const __global REAL *row1 = xc + clamp(h0 + 1, 0, H - 1) * W;
            const __global REAL *row2 = xc + clamp(h0 + 2, 0, H - 1) * W;
            const __global REAL *row3 = xc + clamp(h0 + 3, 0, H - 1) * W;
            /* select, not multiply by 0/1: 0*Inf would leak NaN from a real row */
            const bool m0 = h0 >= 0 && h0 < H, m1 = h0 + 1 >= 0 && h0 + 1 < H;
            const bool m2 = h0 + 2 >= 0 && h0 + 2 < H, m3 = h0 + 3 >= 0 && h0 + 3 < H;
            const int ncol = 2 * seg + 2;
            /* in-bounds column range [lo, hi) of this segment */
            const int lo = clamp(-w0, 0, ncol), hi = clamp(W - w0, lo, ncol);
            for (int e = 0; e < lo; ++e) u[0][e] = u[1][e] = u[2][e] = u[3][e] = (REAL)0;
            for (int e = lo; e < hi; ++e) {
                const int iw = w0 + e;
                const REAL d0 = m0 ? row0[iw] : (REAL)0, d1 = m1 ? row1[iw] : (REAL)0;
                const REAL d2 = m2 ? row2[iw] : (REAL)0, d3 = m3 ? row3[iw] : (REAL)0;
                u[0][e] = d0 - d2;
                u[1][e] = d1 + d2;
                u[2][e] = d2 - d1;
                u[3][e] = d1 - d3;
            }
            for (int e = hi; e < ncol; ++e) u[0][e] = u[1][e] = u[2][e] = u[3][e] = (REAL)0;
            for (int a = 0; a < 4; ++a) {
                __global REAL *oa = ot + (ulong)(a * 4) * vstride;
                for (int t = 0; t < seg; ++t) {
                    const REAL e0 = u[a][2 * t], e1 = u[a][2 * t + 1];
                    const REAL e2 = u[a][2 * t + 2], e3 = u[a][2 * t + 3];
                    oa[t] = e0 - e2;
                    oa[vstride + t] = e1 + e2;
                    oa[2 * vstride + t] = e2 - e1;
                    oa[3 * vstride + t] = e1 - e3;
                }
            }
        }
        jj += seg;
        tx0 = 0;
        if (++ty == tp) { ty = 0; ++b; }
    }
}

__kernel void winograd_input_transform(__global const REAL *restrict x, ulong x_off,
                                       __global REAL *restrict vp, ulong vp_off, ulong vstride,
                                       int C, int H, int W, int tp, int tq, int pt, int pl,
                                       int nimg)
{
    input_panel(get_global_id(0), get_global_id(1), x, x_off, vp, vp_off, vstride, C, H, W, tp, tq,
                pt, pl, nimg);
}

/* winograd_input_transform with its work-groups claimed from claims[claim] (claim.h). */
__kernel void winograd_input_transform_claimed(__global const REAL *restrict x, ulong x_off,
                                               __global REAL *restrict vp, ulong vp_off,
                                               ulong vstride, int C, int H, int W, int tp, int tq,
                                               int pt, int pl, int nimg,
                                               __global volatile int *claims, const int claim)
{
    __local volatile int taken;
    const int g = claim_group(claims + claim, &taken);
    if (g < 0) return;
    input_panel(claimed_id(g, 0), claimed_id(g, 1), x, x_off, vp, vp_off, vstride, C, H, W, tp, tq,
                pt, pl, nimg);
}

/* ---------------------------------------------------------------------------
 * y[b][k][2ty .. 2ty+1][2tx .. 2tx+1] = act(bias[k] + (A^T M A)), where
 * M[xi][k][t] = m[m_off + xi*mstride + k*ldm + t] is the row-major GEMM output.
 * One work-item does WOT_RUN consecutive tiles of one tile row: 16 contiguous
 * read streams and 2 contiguous output rows; the odd last column (Q odd) and
 * the odd last row (P odd) are peeled so the main loop is branch-free.
 * global = (ceil(tq/WOT_RUN), tp, K*nimg), id 2 = k*nimg + b: a contiguous
 * range of it is a range of output channels, what one of several devices
 * sharing the pass computes. bias must be valid even when has_bias == 0. */
#define WINO_OUT_TILE(T_)                                                        \
    REAL v[16];                                                                  \
    for (int xi = 0; xi < 16; ++xi) v[xi] = src[(ulong)xi * mstride + (T_)];     \
    REAL s0[4], s1[4];                                                           \
    for (int e = 0; e < 4; ++e) {                                                \
        s0[e] = v[e] + v[4 + e] + v[8 + e];                                      \
        s1[e] = v[4 + e] - v[8 + e] - v[12 + e];                                 \
    }                                                                            \
    REAL y00 = s0[0] + s0[1] + s0[2] + bv, y01 = s0[1] - s0[2] - s0[3] + bv;     \
    REAL y10 = s1[0] + s1[1] + s1[2] + bv, y11 = s1[1] - s1[2] - s1[3] + bv;     \
    if (relu) {                                                                  \
        y00 = fmax(y00, (REAL)0); y01 = fmax(y01, (REAL)0);                      \
        y10 = fmax(y10, (REAL)0); y11 = fmax(y11, (REAL)0);                      \
    }

typedef WCAT(REAL, WOT_RUN) realw; /* one value of WOT_RUN consecutive tiles */

/* Row of WOT_RUN full tiles: columns 2t and 2t+1 come from lanes t of a and b. */
void wino_out_row(realw a, realw b, __global REAL *dst)
{
    REAL pa[WOT_RUN], pb[WOT_RUN];
    WCAT(vstore, WOT_RUN)(a, 0, pa);
    WCAT(vstore, WOT_RUN)(b, 0, pb);
    for (int t = 0; t < WOT_RUN; ++t) {
        dst[2 * t] = pa[t];
        dst[2 * t + 1] = pb[t];
    }
}

/* A run of WOT_RUN tiles that are all inside the output (the common case), a
 * lane per tile: the 16 read streams become vector loads. */
void wino_out_full_run(const __global REAL *src, ulong mstride, REAL bias_v, int relu,
                       __global REAL *yo, int Q)
{
    realw v[16];
    for (int xi = 0; xi < 16; ++xi) v[xi] = WCAT(vload, WOT_RUN)(0, src + (ulong)xi * mstride);
    realw s0[4], s1[4];
    for (int e = 0; e < 4; ++e) {
        s0[e] = v[e] + v[4 + e] + v[8 + e];
        s1[e] = v[4 + e] - v[8 + e] - v[12 + e];
    }
    const realw bv = (realw)bias_v;
    realw y00 = s0[0] + s0[1] + s0[2] + bv, y01 = s0[1] - s0[2] - s0[3] + bv;
    realw y10 = s1[0] + s1[1] + s1[2] + bv, y11 = s1[1] - s1[2] - s1[3] + bv;
    if (relu) {
        y00 = fmax(y00, (realw)0); y01 = fmax(y01, (realw)0);
        y10 = fmax(y10, (realw)0); y11 = fmax(y11, (realw)0);
    }
    wino_out_row(y00, y01, yo);
    wino_out_row(y10, y11, yo + Q);
}

__kernel void winograd_output_transform(__global const REAL *restrict m, ulong m_off,
                                        ulong mstride, int ldm,
                                        __global const REAL *restrict bias,
                                        __global REAL *restrict y, ulong y_off,
                                        int K, int P, int Q, int tp, int tq, int nimg,
                                        int has_bias, int relu)
{
    const int tb = get_global_id(0), ty = get_global_id(1), kb = get_global_id(2);
    const int tx0 = tb * WOT_RUN;
    if (tx0 >= tq || ty >= tp || kb >= K * nimg) return;
    const int k = kb / nimg, b = kb - k * nimg;
    const int n = min(WOT_RUN, tq - tx0);
    /* tiles whose right column exists */
    const int nfull = (2 * (tx0 + n) <= Q) ? n : n - 1;
    const __global REAL *src = m + m_off + (ulong)k * ldm + (ulong)(b * tp + ty) * tq + tx0;
    const REAL bv = has_bias ? bias[k] : (REAL)0;
    const int oh = 2 * ty;
    __global REAL *yo = y + y_off + (((ulong)b * K + k) * P + oh) * Q + 2 * tx0;

    if (n == WOT_RUN && nfull == n && oh + 1 < P) {
        wino_out_full_run(src, mstride, bv, relu, yo, Q);
    } else if (oh + 1 < P) {
        for (int t = 0; t < nfull; ++t) {
            WINO_OUT_TILE(t)
            yo[2 * t] = y00; yo[2 * t + 1] = y01;
            yo[Q + 2 * t] = y10; yo[Q + 2 * t + 1] = y11;
        }
        if (nfull < n) {
            WINO_OUT_TILE(nfull)
            yo[2 * nfull] = y00;
            yo[Q + 2 * nfull] = y10;
            (void)y01; (void)y11;
        }
    } else {
        for (int t = 0; t < nfull; ++t) {
            WINO_OUT_TILE(t)
            yo[2 * t] = y00; yo[2 * t + 1] = y01;
            (void)y10; (void)y11;
        }
        if (nfull < n) {
            WINO_OUT_TILE(nfull)
            yo[2 * nfull] = y00;
            (void)y01; (void)y10; (void)y11;
        }
    }
}
