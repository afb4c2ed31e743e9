/* anycl convolution: Winograd F(m x m, 3x3), m = WINO_M (2 or 4), for 3x3
 * filters, stride 1, dilation 1, groups 1, any (asymmetric) padding. NCHW
 * float. The transform matrices and their points: winograd_transform.h.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device). MR, NR, VW and KU are the packed GEMM's (gemm_packed.cl):
 * the host builds this family with that family's values.
 *   REAL     element type (float)
 *   WINO_M   output tile edge: 2 (F(2x2, 3x3), 16 products on 4x4 input
 *            tiles) or 4 (F(4x4, 3x3), 36 products on 6x6 tiles: 2.25
 *            multiplies an output instead of 4, at a looser error bound)
 *   MR       packed-A panel height
 *   NR       packed-B panel width: the tiles of one work-group (a tile panel)
 *   VW, KU   vector width and k-unroll of the products' register tile
 *   KC       most input channels a work-group transforms into local memory at
 *            a time (PLANES*KC*NR REALs, PLANES = (WINO_M+2)^2); the host
 *            passes the chunk it uses, KC or less when the device's local
 *            memory holds less
 *   FC       input channels of filters winograd_tiles_fused transforms at a
 *            time into its work-item's scratch (PLANES*FC*MR REALs, kept in
 *            cache between the transform and the products)
 *   WINO_PREFETCH  1: winograd_tiles_fused prefetches the next FC channels
 *            of its flipped (backward-data) filters, whose MR rows a channel
 *            lie a filter row of every channel apart, a stride hardware
 *            prefetchers miss; needs a clang-based compiler (else ignored)
 *   WINO_X_AHEAD  0: off; else a work-item staging an NCHW tile panel's
 *            input prefetches the rows of the channel it stages that many
 *            turns on (a plane apart, a stride hardware prefetchers miss);
 *            needs what WINO_PREFETCH needs and a runtime that links
 *            __builtin_prefetch (Oclgrind does not)
 *   FT_J     K-dims (consecutive j) one winograd_filter_transform work-item
 *            covers, held in private memory (PLANES*FT_J*MR REALs) and
 *            stored a plane at a time: FT_J*MR contiguous REALs a plane
 *   WINOGRAD_STAGED_CHANNELS  host dispatch: a single-device NCHW pass of
 *            at least this many input and output channels and too many tile
 *            panels to fuse runs staged (winograd_input_staged, one batched
 *            GEMM for the products, winograd_output_staged): U is read once,
 *            not once a tile panel, for V and M through global memory, a
 *            trade that pays with channels (U grows as C*K, V and M as C+K);
 *            4096: in effect never
 *   WINOGRAD_FUSE_PANELS  host dispatch: the filter transform runs inside the
 *            tile kernel (winograd_tiles_fused, U never in global memory)
 *            while a pass has fewer tile panels than this (each panel
 *            transforms every filter again: at two panels of a 512-channel
 *            7x7 layer that already costs what U's traffic does); 1: never
 *
 * Pipeline (xi = 0..PLANES-1 indexes the transform domain, row-major):
 *   U[xi] = (G g G^T)[xi]     packed-A, M = K, K-dim = C   (filter transform)
 *   V[xi] = (B^T d B)[xi]     packed-B, K-dim = C, N = T   (input transform)
 *   y     = A^T (U[xi] V[xi]) A (+bias, ReLU)  the products over a chunk
 *           of channels, their output transform added up over the chunks
 * The filter transform is one kernel; the other two run in one kernel, a
 * panel of NR tiles a work-group, with V in local memory (winograd_tiles).
 * Tiles: tp = ceil(P/m), tq = ceil(Q/m), tile t = (b*tp + ty)*tq + tx over the
 * nimg images of the host's batch chunk, T = nimg*tp*tq. Tile (ty, tx) reads
 * input rows m*ty-pt .. m*ty-pt+m+1 and cols m*tx-pl .. m*tx-pl+m+1 (zero
 * outside).
 *
 * Backward-data uses the same kernels: dx = forward Winograd on dy (C_in = K,
 * C_out = C) with winograd_filter_transform(flip = 1) and padding
 * (2-pt, 2-pl, 2-pb, 2-pr) (needs every pad <= 2), no bias, no ReLU.
 * Backward-weights: conv_winograd_weights.cl (F(2x2) whatever WINO_M).
 * channels_last (a kernel argument): x and y are NHWC and the filters OHWI
 * instead (docs/layouts.md); the same tiles, transforms and products.
 * All kernels guard their global ids, so global sizes may be rounded up. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef WINO_M
#define WINO_M 2    /* output tile edge: 2 or 4 */
#endif
#ifndef MR
#define MR 4        /* packed-A panel height */
#endif
#ifndef NR
#define NR 8        /* packed-B panel width; a multiple of VW */
#endif
#ifndef VW
#define VW 4        /* vector width of the products' accumulators: 1, 2, 4, 8 or 16 */
#endif
#ifndef KU
#define KU 1        /* k-loop unroll of the products */
#endif
#ifndef KC
#define KC 16       /* most input channels per pass through local memory (host: read only) */
#endif
#ifndef FC
#define FC 16       /* filter channels per fused transform step */
#endif
#ifndef WINOGRAD_FUSE_PANELS
#define WINOGRAD_FUSE_PANELS 2 /* host dispatch: fuse the filter transform below this many tile panels */
#endif
#ifndef WINOGRAD_STAGED_CHANNELS
#define WINOGRAD_STAGED_CHANNELS 4096 /* host dispatch: staged from this many channels each way */
#endif
#ifndef WINO_PREFETCH
#define WINO_PREFETCH 0 /* 1: prefetch the flipped filters' next FC channels (clang-built kernels only) */
#endif
#ifndef WINO_X_AHEAD
#define WINO_X_AHEAD 0 /* a work-item's channels ahead whose input rows it prefetches; 0: none */
#endif
#ifndef FT_J
#define FT_J 1      /* K-dims j one winograd_filter_transform work-item transforms */
#endif
#ifndef WINOGRAD_MIN_CHANNELS
#define WINOGRAD_MIN_CHANNELS 32 /* host dispatch: Winograd once C and K are both >= this */
#endif

/* The products read V from the work-group's local memory. */
#define MICRO_TILE_B_SPACE __local

#include "common.h"
#include "claim.h"
#include "winograd_tile.h"
#include "winograd_transform.h"
#include "micro_tile.h"
#include "prefetch.h"

/* ---------------------------------------------------------------------------
 * U[xi][i][j] in packed-A layout (rows i < M, K-dim j < Kd), block xi at
 * up + xi*ustride with ustride = ceil(M/MR)*MR*Kd; padded rows are written 0.
 *   flip = 0 (forward):        M = K, Kd = C, g = w[i][j][r][s]
 *   flip = 1 (backward-data):  M = C, Kd = K, g = w[j][i][2-r][2-s]
 * (channels_last: w[i][r][s][j] and w[j][2-r][2-s][i], OHWI).
 * A work-item transforms the MR filters of one packed row at FT_J consecutive
 * K-dims, so its outputs per plane are FT_J*MR contiguous values (one filter a
 * work-item would make PLANES scattered stores per filter).
 * global = (ceil(Kd/FT_J), ceil(M/MR)). */
#define WCAT_(a, b) a##b
#define WCAT(a, b) WCAT_(a, b)

/* The 9 taps of filter row i (zero for a padding row i >= M), in forward order. */
REAL filter_tap(const __global REAL *w, int i, int j, int M, int Kd, int flip, int channels_last, int e)
{
    if (i >= M) return (REAL)0;
    if (channels_last)
        return flip ? w[((ulong)j * 9 + (8 - e)) * M + i] : w[((ulong)i * 9 + e) * Kd + j];
    return flip ? w[((ulong)j * M + i) * 9 + (8 - e)] : w[((ulong)i * Kd + j) * 9 + e];
}

#define MR_IS_VECTOR (MR == 2 || MR == 4 || MR == 8 || MR == 16) /* an OpenCL vector width */

#if MR_IS_VECTOR
typedef WCAT(REAL, MR) realm; /* one value of the MR filters of a packed row */
#else
typedef REAL realm;           /* odd MR: a scalar per filter (the loop below) */
#endif

/* U at K-dim j of the MR filters of packed row ip (rows ip*MR.., zero past M;
 * an MR that is no vector width: of filter row ip*MR + r alone), plane xi in u[xi]. */
static inline __attribute__((always_inline)) void
filter_points(const __global REAL *w, const int ip, const int r, const int j, const int M, const int Kd,
              const int flip, const int channels_last, realm u[WINO_PLANES])
{
    realm g[9]; /* tap e of the filters */
#if MR_IS_VECTOR
    if (!channels_last && ip * MR + MR <= M) {
        /* KCRS: each filter's 9 taps are contiguous (flipped, the MR filters' 9*MR too), so
         * they load as runs and the lanes are taken at constant indices: a gather a tap ran
         * the transform of 512-channel filters 15-28% slower on a 2-core AVX-512 EPYC. */
        REAL blk[MR][9];
#pragma unroll
        for (int q = 0; q < MR; ++q)
#pragma unroll
            for (int e = 0; e < 9; ++e) blk[q][e] = filter_tap(w, ip * MR + q, j, M, Kd, flip, 0, e);
#pragma unroll
        for (int e = 0; e < 9; ++e) {
            REAL lane[MR];
#pragma unroll
            for (int q = 0; q < MR; ++q) lane[q] = blk[q][e];
            g[e] = WCAT(vload, MR)(0, lane);
        }
    } else if (channels_last && flip && ip * MR + MR <= M) {
        /* Flipped OHWI: tap e of the MR filters is one run of MR values (taken lane by lane,
         * the transform of 256-channel filters took 2.4x the time on a 2-core AVX-512 EPYC). */
#pragma unroll
        for (int e = 0; e < 9; ++e) g[e] = WCAT(vload, MR)(0, w + ((ulong)j * 9 + (8 - e)) * M + ip * MR);
    } else
#endif
    for (int e = 0; e < 9; ++e) {
#if MR_IS_VECTOR
        REAL lane[MR];
        for (int q = 0; q < MR; ++q) lane[q] = filter_tap(w, ip * MR + q, j, M, Kd, flip, channels_last, e);
        g[e] = WCAT(vload, MR)(0, lane);
#else
        g[e] = filter_tap(w, ip * MR + r, j, M, Kd, flip, channels_last, e);
#endif
    }
    /* G g: ALPHA x 3, then (G g) G^T: ALPHA x ALPHA */
    realm t[WINO_ALPHA][3];
    for (int a = 0; a < WINO_ALPHA; ++a)
        for (int b = 0; b < 3; ++b)
            t[a][b] = wino_g[a][0] * g[b] + wino_g[a][1] * g[3 + b] + wino_g[a][2] * g[6 + b];
    for (int a = 0; a < WINO_ALPHA; ++a)
        for (int c = 0; c < WINO_ALPHA; ++c)
            u[a * WINO_ALPHA + c] = wino_g[c][0] * t[a][0] + wino_g[c][1] * t[a][1] + wino_g[c][2] * t[a][2];
}

/* U of the MR filters of packed row ip at K-dim j: plane xi's MR values at
 * o + xi*plane_stride. */
static inline __attribute__((always_inline)) void
filter_rows(const __global REAL *w, const int ip, const int j, const int M, const int Kd, const int flip,
            const int channels_last, __global REAL *o, const ulong plane_stride)
{
#if MR_IS_VECTOR
    realm u[WINO_PLANES];
    filter_points(w, ip, 0, j, M, Kd, flip, channels_last, u);
    for (int xi = 0; xi < WINO_PLANES; ++xi) WCAT(vstore, MR)(u[xi], 0, o + (ulong)xi * plane_stride);
#else
    for (int r = 0; r < MR; ++r) {
        realm u[WINO_PLANES];
        filter_points(w, ip, r, j, M, Kd, flip, channels_last, u);
        for (int xi = 0; xi < WINO_PLANES; ++xi) o[(ulong)xi * plane_stride + r] = u[xi];
    }
#endif
}

/* Plane by plane stores: one K-dim's 36 scattered stores at a time ran at half
 * the write rate on a 2-core AVX-512 EPYC. */
__kernel void winograd_filter_transform(__global const REAL *restrict w,
                                        __global REAL *restrict up, ulong ustride,
                                        int M, int Kd, int flip, int channels_last, int plain)
{
    const int j0 = get_global_id(0) * FT_J, ip = get_global_id(1);
    if (j0 >= Kd || ip * MR >= M) return;
    /* plain: each plane's U row-major (M x Kd, U[i][j] at i*Kd + j), the
     * staged products' A operand; rows past M are not stored. A work-item's
     * rows then take FT_J contiguous values a plane each. */
    const ulong rstride = plain ? (ulong)Kd : 1, jstride = plain ? 1 : MR;
    __global REAL *o = up + (ulong)ip * Kd * MR + (ulong)j0 * jstride;
    const int rows = plain ? min(MR, M - ip * MR) : MR, nj = min(FT_J, Kd - j0);
#if MR_IS_VECTOR
    realm u[FT_J][WINO_PLANES];
    for (int jj = 0; jj < nj; ++jj) filter_points(w, ip, 0, j0 + jj, M, Kd, flip, channels_last, u[jj]);
    for (int xi = 0; xi < WINO_PLANES; ++xi) {
        __global REAL *d = o + (ulong)xi * ustride;
        if (!plain) {
            for (int jj = 0; jj < nj; ++jj) WCAT(vstore, MR)(u[jj][xi], 0, d + jj * MR);
            continue;
        }
        REAL lanes[FT_J][MR];
        for (int jj = 0; jj < nj; ++jj) WCAT(vstore, MR)(u[jj][xi], 0, lanes[jj]);
        for (int r = 0; r < rows; ++r)
            for (int jj = 0; jj < nj; ++jj) d[r * rstride + jj] = lanes[jj][r];
    }
#else
    for (int jj = 0; jj < nj; ++jj)
        for (int r = 0; r < rows; ++r) {
            realm u[WINO_PLANES];
            filter_points(w, ip, r, j0 + jj, M, Kd, flip, channels_last, u);
            for (int xi = 0; xi < WINO_PLANES; ++xi) o[(ulong)xi * ustride + r * rstride + jj * jstride] = u[xi];
        }
#endif
}

/* Prefetches the rows of NCHW channel c that input_panel reads for tile
 * panel jp, as one run (a plane's rows are contiguous): from its first
 * tile row's first input row to its last tile row's last, in the panel's
 * first image. */
static inline void prefetch_panel_rows(const __global REAL *x, const ulong x_off, const int c, const int jp,
                                       const int C, const int H, const int W, const int tp, const int tq,
                                       const int pt, const int nimg)
{
    int b, ty, tx, bl, tyl, txl;
    tile_at(jp * NR, tp, tq, &b, &ty, &tx);
    tile_at(jp * NR + NR - 1, tp, tq, &bl, &tyl, &txl);
    if (b >= nimg) return;
    if (bl != b) tyl = tp - 1;
    const int h0 = max(WINO_M * ty - pt, 0), h1 = min(WINO_M * tyl - pt + WINO_ALPHA, H);
    if (h1 > h0) prefetch_run(x + x_off + ((ulong)b * C + c) * H * W + (ulong)h0 * W, (h1 - h0) * W);
}

/* Prefetches the flipped filter taps of rows ip*MR.. at K-dims j0 .. j0+FC-1
 * (< Kd) that filter_rows will read: per K-dim, MR*9 contiguous REALs, or
 * (channels_last) MR a tap: a quarter less time for the backward-data pass
 * of a 512-channel 7x7 layer on an AVX-512 CPU. */
static inline void prefetch_flipped(const __global REAL *w, const int ip, const int j0, const int M,
                                    const int Kd, const int channels_last)
{
#if WINO_PREFETCH
    for (int j = j0; j < min(j0 + FC, Kd); ++j) {
        if (channels_last) {
            for (int e = 0; e < 9; ++e) prefetch_line(w + ((ulong)j * 9 + e) * M + ip * MR);
        } else {
            prefetch_run(w + ((ulong)j * M + ip * MR) * 9, MR * 9);
        }
    }
#endif
}

/* Lanes lo .. hi-1 of the VW values at row[w*ws], row[(w+1)*ws], ..., zero
 * elsewhere (only those lanes are loaded). */
static inline __attribute__((always_inline)) REALV
row_vector(const __global REAL *row, const int w, const int ws, const int lo, const int hi)
{
    if (ws == 1 && lo <= 0 && hi >= VW) return VLOAD(row + w);
    REAL g[VW];
#pragma unroll
    for (int l = 0; l < VW; ++l) g[l] = l >= lo && l < hi ? row[(ulong)(w + l) * ws] : (REAL)0;
    return VLOAD(g);
}

/* ---------------------------------------------------------------------------
 * Channel c of tile panel jp (its NR consecutive tiles) in the transform
 * domain: plane xi's NR values at o + xi*vstride; tiles t >= T are written 0.
 * x's element (c, h, w) of an image is c*cs + h*hs + w*ws: the callers pass
 * constants, so each layout gets its own inlined copy (NCHW's rows load as
 * vectors).
 * The row transform B^T d comes first, VW input columns at a time, on the
 * whole rows of each segment (a run of the panel's tiles on one tile row, so
 * row validity is decided once a segment): the m*seg+2 columns a segment
 * touches are loaded once (its tiles overlap by 2). The segments' columns
 * follow each other in u, tile t's from first[t]. Then the column transform,
 * VW tiles at a time, each tile's columns gathered from u, so its products
 * and stores are whole vectors (a tile at a time they were scalar: forward
 * winograd_tiles on the 64-channel 56x56 layer at batch 32 took 16.2-17.8
 * against 13.7-14.3 ms on a 2-core AVX-512 EPYC). */
static inline __attribute__((always_inline)) void
input_panel(const int c, const int jp, const __global REAL *x, ulong x_off, __local REAL *o,
            int vstride, int C, int H, int W, int tp, int tq, int pt, int pl, int nimg,
            const ulong cs, const int hs, const int ws)
{
    int b, ty, tx;
    tile_at(jp * NR, tp, tq, &b, &ty, &tx);
    /* every tile its own segment at worst; a segment's last vector may run VW-1 past it */
    REAL u[WINO_ALPHA][(WINO_M + 2) * NR + VW];
    int first[NR];
    for (int jj = 0, col = 0; jj < NR; tx = 0) {
        const int seg = min(NR - jj, tq - tx), ncol = WINO_M * seg + 2;
        for (int t = 0; t < seg; ++t) first[jj + t] = col + WINO_M * t;
        const __global REAL *xc = x + x_off + (ulong)min(b, nimg - 1) * C * H * W + c * cs;
        const int h0 = WINO_M * ty - pt, w0 = WINO_M * tx - pl;
        const __global REAL *row[WINO_ALPHA];
        bool inside[WINO_ALPHA]; /* a select, not a multiply by 0/1: 0*Inf would leak NaN from a real row */
#pragma unroll
        for (int k = 0; k < WINO_ALPHA; ++k) {
            row[k] = xc + (ulong)clamp(h0 + k, 0, H - 1) * hs;
            inside[k] = b < nimg && h0 + k >= 0 && h0 + k < H;
        }
        /* in-bounds column range [lo, hi) of this segment */
        const int lo = clamp(-w0, 0, ncol), hi = clamp(W - w0, lo, ncol);
        for (int e = 0; e < ncol; e += VW) {
            REALV d[WINO_ALPHA], r[WINO_ALPHA];
#pragma unroll
            for (int k = 0; k < WINO_ALPHA; ++k)
                d[k] = row_vector(row[k], w0 + e, ws, inside[k] ? lo - e : 0, inside[k] ? hi - e : 0);
            wino_input_1d(d, r);
#pragma unroll
            for (int a = 0; a < WINO_ALPHA; ++a) VSTORE(r[a], &u[a][col + e]);
        }
        col += ncol;
        jj += seg;
        if (++ty == tp) { ty = 0; ++b; }
    }
    for (int q = 0; q < NV; ++q)
        for (int a = 0; a < WINO_ALPHA; ++a) {
            REALV d[WINO_ALPHA], r[WINO_ALPHA];
#pragma unroll
            for (int k = 0; k < WINO_ALPHA; ++k) {
                REAL g[VW];
#pragma unroll
                for (int l = 0; l < VW; ++l) g[l] = u[a][first[q * VW + l] + k];
                d[k] = VLOAD(g);
            }
            wino_input_1d(d, r);
#pragma unroll
            for (int k = 0; k < WINO_ALPHA; ++k) VSTORE(r[k], o + (a * WINO_ALPHA + k) * vstride + q * VW);
        }
}

/* ---------------------------------------------------------------------------
 * The input transform, the products and the output transform, one panel of
 * NR tiles a work-group, without V or M in global memory:
 *   y[b][k][m ty+i][m tx+j] = act(bias[k] + sum_xi A^T[i][xi/ALPHA] A^T[j][xi%ALPHA] (U[xi] V[xi])[k][t]).
 * The group transforms its tiles' input kc channels at a time (the host's
 * chunk, at most KC) into local memory vl, in packed-B layout (plane xi at
 * xi*kc*NR, channel c's NR tiles at c*NR: PLANES*kc*NR REALs); then
 * work-item (tj, ti), which owns output channels ti*MR.. of tiles tj*NR..,
 * runs the PLANES panel products of the packed GEMM's micro-kernel over
 * those channels and adds their output transform to its m*m outputs. Fused, so that V and the products never reach
 * global memory: as separate stages they are PLANES C x T and K x T planes
 * (26 MB each on a 64-channel 56x56 layer at batch 8 with m = 2), each
 * written by one kernel and read back by the next. U is as the filter
 * transform writes it (packed-A, blocks ustride apart).
 * global = (ceil(T/NR), ceil(K/MR)); local (1, ceil(K/MR)), or less where
 * the device's work-group limit asks or where the host splits the rows of
 * too few tile panels over several groups (each transforming the panel):
 * every work-item of a group helps transform, those past K only that. bias must be valid even when
 * has_bias == 0. */

#define WINO_OUTS (WINO_M * WINO_M) /* outputs of a tile, e = i*m + j */

/* A^T p A for one vector of tiles: their m*m outputs y[e] from the products p[xi] of the
 * transform domain, rows first, then columns. */
static inline __attribute__((always_inline)) void
wino_output_tile(const REALV p[WINO_PLANES], REALV y[WINO_OUTS])
{
    REALV rows[WINO_ALPHA][WINO_M];
#pragma unroll
    for (int a = 0; a < WINO_ALPHA; ++a) wino_output_1d(p + a * WINO_ALPHA, rows[a]);
#pragma unroll
    for (int j = 0; j < WINO_M; ++j) {
        REALV v[WINO_ALPHA], col[WINO_M];
#pragma unroll
        for (int a = 0; a < WINO_ALPHA; ++a) v[a] = rows[a][j];
        wino_output_1d(v, col);
#pragma unroll
        for (int i = 0; i < WINO_M; ++i) y[i * WINO_M + j] = col[i];
    }
}

/* Row r's m*m outputs of NR tiles (o[e], e = i*m + j) to y: tile t = (b*tp + ty)*tq + tx. */
static inline __attribute__((always_inline)) void
wino_store_row(REAL o[WINO_OUTS][NR], const int t0, const int T, const REAL bv, const int relu,
               __global REAL *yk, const ulong image, const int P, const int Q, const int tp, const int tq)
{
    int b, ty, tx;
    tile_at(t0, tp, tq, &b, &ty, &tx);
    const int n = min(NR, T - t0);
    for (int c = 0; c < n; ++c) {
        __global REAL *yo = yk + (ulong)b * image + (ulong)(WINO_M * ty) * Q + WINO_M * tx;
        const int rows = min(WINO_M, P - WINO_M * ty), cols = min(WINO_M, Q - WINO_M * tx);
        for (int i = 0; i < rows; ++i)
            for (int j = 0; j < cols; ++j) {
                const REAL v = o[i * WINO_M + j][c] + bv;
                yo[i * Q + j] = relu ? fmax(v, (REAL)0) : v;
            }
        if (++tx == tq) {
            tx = 0;
            if (++ty == tp) { ty = 0; ++b; }
        }
    }
}

/* Channels-last: output channels i0.. (rows of them, at most MR) of the NR
 * tiles from t0, MR adjacent floats a pixel, so the work-items of a group
 * write neighbouring parts of each pixel's K channels. */
static inline __attribute__((always_inline)) void
wino_store_nhwc(REALV out[WINO_OUTS][MR][NV], const int t0, const int T, const int i0, const int rows,
                __global const REAL *bias, const int has_bias, const int relu, __global REAL *y,
                const int K, const int P, const int Q, const int tp, const int tq)
{
    REAL bv[MR];
    for (int r = 0; r < MR; ++r) bv[r] = has_bias && r < rows ? bias[i0 + r] : (REAL)0;
    const int n = min(NR, T - t0);
    for (int e = 0; e < WINO_OUTS; ++e) {
        REAL o[MR][NR];
        for (int r = 0; r < MR; ++r)
            for (int c = 0; c < NV; ++c) VSTORE(out[e][r][c], &o[r][c * VW]);
        int b, ty, tx;
        tile_at(t0, tp, tq, &b, &ty, &tx);
        for (int t = 0; t < n; ++t) {
            const int p = WINO_M * ty + e / WINO_M, q = WINO_M * tx + e % WINO_M;
            if (p < P && q < Q) {
                __global REAL *yo = y + (((ulong)b * P + p) * Q + q) * K + i0;
                for (int r = 0; r < rows; ++r) {
                    const REAL v = o[r][t] + bv[r];
                    yo[r] = relu ? fmax(v, (REAL)0) : v;
                }
            }
            if (++tx == tq) {
                tx = 0;
                if (++ty == tp) { ty = 0; ++b; }
            }
        }
    }
}

static inline __attribute__((always_inline)) void
tile_panel(const int tj, const int ti, __global const REAL *up, const ulong ustride,
           const __global REAL *x, const ulong x_off, const int C, const int H, const int W,
           const int pt, const int pl, const int K, __global const REAL *bias, __global REAL *y,
           const ulong y_off, const int P, const int Q, const int tp, const int tq, const int nimg,
           const int has_bias, const int relu, const int channels_last, const int kc, __local REAL *vl,
           const int fused, const __global REAL *w, const int flip, __global REAL *us,
           const __global REAL *vs, const int tpad)
{
    const int T = nimg * tp * tq, i0 = ti * MR, t0 = tj * NR;
    if (t0 >= T) return; /* the whole group: its local size along tiles is 1 */
    const int lid = (int)get_local_id(1), lsize = (int)get_local_size(1);
    /* Per chunk: the products of every transform point, then their output transform added
     * to the m*m outputs. prod lives within a chunk only, so a device that runs a group's
     * work-items one after the other between barriers keeps one copy of it, and only out
     * (m*m of the (m+2)^2 planes) for each work-item across chunks. */
    REALV out[WINO_OUTS][MR][NV];
    for (int c0 = 0; c0 < C; c0 += kc) {
        const int n = min(kc, C - c0);
        barrier(CLK_LOCAL_MEM_FENCE); /* the last chunk's products are done with vl */
        if (channels_last) {
            /* A run of neighbouring channels a work-item, so the cache lines of its
             * rows (a pixel's channels) serve its next channel while still in L1. */
            const int per = (n + lsize - 1) / lsize;
            for (int c = lid * per; c < min(n, (lid + 1) * per); ++c)
                input_panel(c0 + c, tj, x, x_off, vl + c * NR, kc * NR, C, H, W, tp, tq, pt, pl, nimg,
                            1, W * C, C);
        } else if (tpad) {
            /* V already transformed (winograd_input_staged's layout): copied in. */
            for (int c = lid; c < n; c += lsize)
                for (int xi = 0; xi < WINO_PLANES; ++xi) {
                    const __global REAL *src = vs + ((ulong)xi * C + c0 + c) * tpad + tj * NR;
                    __local REAL *dst = vl + xi * kc * NR + c * NR;
                    for (int q = 0; q < NV; ++q) VSTORE(VLOAD(src + q * VW), dst + q * VW);
                }
        } else {
            for (int c = lid; c < n; c += lsize) {
#if WINO_X_AHEAD
                if (c0 + c + WINO_X_AHEAD * lsize < C)
                    prefetch_panel_rows(x, x_off, c0 + c + WINO_X_AHEAD * lsize, tj, C, H, W, tp, tq, pt, nimg);
#endif
                input_panel(c0 + c, tj, x, x_off, vl + c * NR, kc * NR, C, H, W, tp, tq, pt, pl, nimg,
                            (ulong)H * W, W, 1);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (i0 >= K) continue;
        REALV prod[WINO_PLANES][MR][NV];
        if (fused) {
            /* FC channels of this work-item's filters at a time into its scratch us
             * (packed-A: plane xi at xi*FC*MR), each step's products added on in
             * channel order, as the unfused kernel adds them. */
            for (int s = 0; s < n; s += FC) {
                const int ns = min(FC, n - s);
                if (flip) prefetch_flipped(w, ti, c0 + s + FC, K, C, channels_last);
                for (int c = 0; c < ns; ++c)
                    filter_rows(w, ti, c0 + s + c, K, C, flip, channels_last, us + c * MR, FC * MR);
                for (int xi = 0; xi < WINO_PLANES; ++xi) {
                    if (s == 0)
                        micro_tile(prod[xi], us + xi * FC * MR, vl + xi * kc * NR, ns);
                    else
                        micro_tile_add(prod[xi], us + xi * FC * MR, vl + xi * kc * NR + s * NR, ns);
                }
            }
        } else {
            for (int xi = 0; xi < WINO_PLANES; ++xi)
                micro_tile(prod[xi], up + xi * ustride + ((ulong)ti * C + c0) * MR, vl + xi * kc * NR, n);
        }
        for (int r = 0; r < MR; ++r)
            for (int c = 0; c < NV; ++c) {
                REALV p[WINO_PLANES], t[WINO_OUTS];
#pragma unroll
                for (int xi = 0; xi < WINO_PLANES; ++xi) p[xi] = prod[xi][r][c];
                wino_output_tile(p, t);
#pragma unroll
                for (int e = 0; e < WINO_OUTS; ++e) {
                    if (c0 == 0) out[e][r][c] = t[e];
                    else out[e][r][c] += t[e];
                }
            }
    }
    if (i0 >= K) return;
    if (channels_last) {
        wino_store_nhwc(out, t0, T, i0, min(MR, K - i0), bias, has_bias, relu, y + y_off, K, P, Q, tp, tq);
        return;
    }
    const ulong image = (ulong)K * P * Q;
    for (int r = 0; r < min(MR, K - i0); ++r) {
        REAL o[WINO_OUTS][NR];
        for (int e = 0; e < WINO_OUTS; ++e)
            for (int c = 0; c < NV; ++c) VSTORE(out[e][r][c], &o[e][c * VW]);
        const int k = i0 + r;
        wino_store_row(o, t0, T, has_bias ? bias[k] : (REAL)0, relu, y + y_off + (ulong)k * P * Q,
                       image, P, Q, tp, tq);
    }
}

__kernel void winograd_tiles(__global const REAL *restrict up, ulong ustride,
                             __global const REAL *restrict x, ulong x_off, int C, int H, int W,
                             int pt, int pl, int K, __global const REAL *restrict bias,
                             __global REAL *restrict y, ulong y_off, int P, int Q, int tp, int tq,
                             int nimg, int has_bias, int relu, int channels_last, int kc,
                             __local REAL *vl)
{
    tile_panel(get_global_id(0), get_global_id(1), up, ustride, x, x_off, C, H, W, pt, pl, K, bias,
               y, y_off, P, Q, tp, tq, nimg, has_bias, relu, channels_last, kc, vl, 0, up, 0, 0, x, 0);
}

/* winograd_tiles with the filter transform inside: each work-item transforms
 * its own MR filters, FC channels at a time, into its slice of us (PLANES*FC*MR
 * REALs at slice (gid0*gsize1 + gid1)), then runs their products, so U never
 * goes to global memory: for a pass of few tile panels (a 7x7 layer at batch
 * 8 is one), where U (PLANES*K*C REALs) would be written once and read once
 * a panel, its traffic costs as much as the products. w and flip as
 * winograd_filter_transform's (M = K, Kd = C). global and local as
 * winograd_tiles'. tpad 0: each group transforms its panel's input; else
 * vs holds V as winograd_input_staged writes it (tpad tiles a row, NCHW),
 * which the host does once when several groups share a panel. */
__kernel void winograd_tiles_fused(__global const REAL *restrict w, int flip,
                                   __global REAL *restrict us,
                                   __global const REAL *restrict x, ulong x_off, int C, int H, int W,
                                   int pt, int pl, int K, __global const REAL *restrict bias,
                                   __global REAL *restrict y, ulong y_off, int P, int Q, int tp, int tq,
                                   int nimg, int has_bias, int relu, int channels_last, int kc,
                                   __local REAL *vl, __global const REAL *restrict vs, int tpad)
{
    const ulong slice = (ulong)get_global_id(0) * get_global_size(1) + get_global_id(1);
    tile_panel(get_global_id(0), get_global_id(1), w, 0, x, x_off, C, H, W, pt, pl, K, bias, y, y_off,
               P, Q, tp, tq, nimg, has_bias, relu, channels_last, kc, vl, 1, w, flip,
               us + slice * (WINO_PLANES * FC * MR), vs, tpad);
}

/* winograd_tiles with its tile panels claimed from claims[claim]: each
 * group takes guided runs of consecutive panels (claim.h, claim_guided,
 * a 1/(2 x groups) of what is left) until none is left. global = (a few
 * groups, the plain kernel's ceil(K/MR) rounded up), the same on every
 * device. Runs, not one panel a claim: neighbouring panels computed by two
 * devices at once write the same cache lines of y (one panel a claim ran at
 * 0.80x of a fixed split on two 1-core devices). */
__kernel void winograd_tiles_claimed(__global const REAL *restrict up, ulong ustride,
                                     __global const REAL *restrict x, ulong x_off, int C, int H,
                                     int W, int pt, int pl, int K,
                                     __global const REAL *restrict bias, __global REAL *restrict y,
                                     ulong y_off, int P, int Q, int tp, int tq, int nimg,
                                     int has_bias, int relu, int channels_last, int kc,
                                     __local REAL *vl,
                                     __global volatile int *claims, const int claim)
{
    __local volatile int taken[2];
    const int panels = (nimg * tp * tq + NR - 1) / NR, row_groups = (int)get_num_groups(1);
    const int divisor = 2 * (int)get_num_groups(0);
    for (;;) {
        int end;
        const int first = claim_guided(claims + claim, panels * row_groups, divisor, taken, &end);
        if (first == end) return;
        for (int i = first; i < end; ++i)
            tile_panel(i / row_groups, (i % row_groups) * (int)get_local_size(1) + (int)get_local_id(1),
                       up, ustride, x, x_off, C, H, W, pt, pl, K, bias, y, y_off, P, Q, tp, tq, nimg,
                       has_bias, relu, channels_last, kc, vl, 0, up, 0, 0, x, 0);
    }
}

/* ---------------------------------------------------------------------------
 * The staged form, for passes of many channels (the host's
 * WINOGRAD_STAGED_CHANNELS): V and the products M in global memory, so the
 * PLANES products are one batched GEMM (the host's pick of GEMM kernel for
 * the shape: U is each plane's M x Kd A, V its B) that reads U once,
 * where winograd_tiles reads all of U again for every tile panel.
 * V of plane xi: C x tpad row-major at v + xi*C*tpad (tile t's value of
 * channel c at c*tpad + t, zero for t >= T); M of plane xi: K x tpad at
 * m + xi*K*tpad. NCHW x and y only. */

/* V of channel c (gid 1) over the NR tiles of tile panel jp (gid 0),
 * transformed through the work-item's PLANES*NR REALs of local memory.
 * local = (1, 1). */
__kernel void winograd_input_staged(__global const REAL *restrict x, ulong x_off, int C, int H, int W,
                                    int pt, int pl, int tp, int tq, int nimg, int tpad,
                                    __global REAL *restrict v, __local REAL *scratch)
{
    const int jp = get_global_id(0), c = get_global_id(1);
    if (jp * NR >= tpad || c >= C) return;
    input_panel(c, jp, x, x_off, scratch, NR, C, H, W, tp, tq, pt, pl, nimg, (ulong)H * W, W, 1);
    for (int xi = 0; xi < WINO_PLANES; ++xi) {
        __global REAL *d = v + ((ulong)xi * C + c) * tpad + jp * NR;
        for (int q = 0; q < NV; ++q) VSTORE(VLOAD(scratch + xi * NR + q * VW), d + q * VW);
    }
}

/* y of output channel k (gid 1) at the NR tiles of panel jp (gid 0) from
 * M: A^T M A (+bias, ReLU), as winograd_tiles' last step. */
__kernel void winograd_output_staged(__global const REAL *restrict m, int K, int tpad,
                                     __global const REAL *restrict bias, int has_bias, int relu,
                                     __global REAL *restrict y, ulong y_off, int P, int Q, int tp, int tq,
                                     int T)
{
    const int jp = get_global_id(0), k = get_global_id(1), t0 = jp * NR;
    if (t0 >= T || k >= K) return;
    REAL o[WINO_OUTS][NR];
    for (int q = 0; q < NV; ++q) {
        REALV p[WINO_PLANES], t[WINO_OUTS];
#pragma unroll
        for (int xi = 0; xi < WINO_PLANES; ++xi) p[xi] = VLOAD(m + ((ulong)xi * K + k) * tpad + t0 + q * VW);
        wino_output_tile(p, t);
#pragma unroll
        for (int e = 0; e < WINO_OUTS; ++e) VSTORE(t[e], &o[e][q * VW]);
    }
    wino_store_row(o, t0, T, has_bias ? bias[k] : (REAL)0, relu, y + y_off + (ulong)k * P * Q,
                   (ulong)K * P * Q, P, Q, tp, tq);
}
