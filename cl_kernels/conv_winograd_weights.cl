/* anycl convolution: Winograd F(2x2, 3x3) backward-weights for 3x3 filters,
 * stride 1, dilation 1, groups 1, any (asymmetric) padding, float.
 * The forward and backward-data passes are conv_winograd.cl; the tiles are
 * theirs (winograd_tile.h).
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device). MR, NR, VW and KU are the packed GEMM's (gemm_packed.cl): the host
 * builds this family with that family's values.
 *   REAL     element type (float)
 *   MR, NR   register tile: output channels x channels of one product
 *   VW, KU   vector width and k-unroll of the products' register tile
 *   TC       most tiles a work-group transforms into local memory at a time
 *            (16*TC*(NR*panels + MR*rows) REALs); the host passes the count
 *            it uses, TC or less when local memory holds less
 *   STAGE    host: 1 reads NCHW x and dy in place (the transforms walk
 *            runs of tiles along input rows); 2 stages them channels-last in
 *            workspace first, where a tile position's channels are vector
 *            loads (winograd_bwdw_tiles_nchw and winograd_bwdw_tiles)
 *   GROUP_ROWS  host: fewest output channels a work-group's products cover
 *            (more groups transform x more often; fewer hold more partial
 *            sums each)
 *   GROUPS_PER_CU  host: work-groups (row groups times segments) a compute
 *            unit gets
 *   PACKED_MIN_CHANNELS  host: fewest channels and output channels (each)
 *            of an NCHW call that takes the packed path (winograd_bwdw_products)
 *            when its panels fit the workspace
 *   PACK_TILES  tiles a work-item of the packed path's packing kernels
 *            transforms (the host sizes their launch by it)
 *   BWDW_AHEAD  channels-last tiles ahead whose x and dy pixels the transforms
 *            prefetch (clang-built kernels only); 0: none
 * All kernels guard their global ids, so global sizes may be rounded up. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef MR
#define MR 4        /* output channels of a product's register tile */
#endif
#ifndef NR
#define NR 8        /* channels of a product's register tile; a multiple of VW */
#endif
#ifndef VW
#define VW 4        /* vector width of the products' accumulators: 1, 2, 4, 8 or 16 */
#endif
#ifndef KU
#define KU 1        /* tile-loop unroll of the products */
#endif
#ifndef TC
#define TC 8        /* most tiles per pass through local memory (host: read only) */
#endif
#ifndef STAGE
#define STAGE 1     /* host: 1 reads NCHW x and dy in place, 2 stages them channels-last */
#endif
#ifndef GROUP_ROWS
#define GROUP_ROWS 128 /* host: fewest output channels a work-group covers */
#endif
#ifndef GROUPS_PER_CU
#define GROUPS_PER_CU 2 /* host: work-groups a compute unit gets */
#endif
#ifndef PACKED_MIN_CHANNELS
#define PACKED_MIN_CHANNELS 512 /* host: fewest of K and C each on the packed path */
#endif
#ifndef PACK_TILES
#define PACK_TILES 16 /* tiles a packing work-item transforms */
#endif
#ifndef BWDW_AHEAD
#define BWDW_AHEAD 0 /* channels-last: tiles ahead whose x and dy pixels are prefetched; 0: none */
#endif

/* Both operands of the products are in the work-group's local memory. */
#define MICRO_TILE_A_SPACE __local
#define MICRO_TILE_B_SPACE __local

#include "common.h"
#include "micro_tile.h"
#include "winograd_tile.h"
#include "prefetch.h"

/* ---------------------------------------------------------------------------
 * Backward-weights, the transposed algorithm: forward y = A^T [U (.) V] A
 * gives dw = G^T [sum over tiles (A dy A^T) (.) V] G, so per plane xi
 *   M[xi] (K x C) = Y[xi] (K x T) V[xi]^T (T x C),  Y[xi] = (A dy A^T)[xi],
 * a product whose reduction runs over the tiles. The tiles are the
 * forward's: tile (ty, tx) pairs dy rows 2ty, 2ty+1 (zero from P on) with x
 * rows 2ty-pt .. 2ty-pt+3, so any padding works. x and dy are NCHW (read
 * along rows, input_rows_lanes or input_rows_vector:
 * winograd_bwdw_tiles_nchw) or NHWC (a position's channels adjacent: vector
 * loads, input_tile_panel: winograd_bwdw_tiles).
 * winograd_bwdw_tiles: work-group (g, r, s) owns segment s of `seg`
 * consecutive tiles, the gcols channel panels from g*gcols and the output
 * channels of its work-items (the host gives as few groups along 0 and 1 as
 * keep the cores busy and local memory fits, so tiles are transformed few
 * times). It walks the segment tc tiles at a time, transforms x into local
 * vl[jl][xi][tt][cc] (channel (g*gcols + jl)*NR + cc) and dy into
 * yl[ip][xi][tt][kk] (output channel ip*MR + kk, its rows only; on NCHW
 * rows a vector wide or more, yl[ip][xi][kk][tt], whole vectors of tiles
 * from the transform), then work-item ip adds its 16 x gcols products of
 * MR x NR to its rows of the segment's partial sums
 *   mp[((s*16 + xi)*Kp + k)*Cp + c]   (Kp, Cp: K, C rounded up to MR, NR),
 * which only it touches (add = 0: the first tc tiles overwrite them). Fused,
 * so that neither Y nor V reach global memory (26 MB each on a 64-channel
 * 56x56 layer at batch 8). winograd_bwdw_output then sums the segments in
 * order (deterministic) and folds M into dw = G^T M G. With `direct` (one
 * segment, one launch for the batch) the last pass folds its sums into dw
 * itself (store_dw), the same values, and winograd_bwdw_output does not run:
 * that saves the last write of the 16 planes and their read back.
 * Each plane of tc tiles in local memory is `pad` REALs longer than it needs:
 * planes a multiple of 4 KB apart made the transforms' 16 stores a tile
 * fight over one cache set.
 * global = (column groups, row panels rounded up to the local size,
 * segments); local = (1, rows, 1); vl holds 16*(tc*NR + pad) REALs a channel
 * panel of the group, yl 16*(tc*MR + pad) a work-item. */

/* Element strides of an image tensor (b, c, h, w) in NCHW or channels-last
 * (NHWC) order: channels c x rows h x columns w per image. */
typedef struct {
    ulong b, c, h, w;
} Strides;

static inline Strides strides_of(const int channels_last, const int c, const int h, const int w)
{
    Strides s;
    s.b = (ulong)c * h * w;
    s.c = channels_last ? 1 : (ulong)h * w;
    s.h = channels_last ? (ulong)w * c : (ulong)w;
    s.w = channels_last ? (ulong)c : 1;
    return s;
}

/* The NR channels from p, `stride` apart, as NV vectors, zero from channel n
 * on: whole vector loads when they are adjacent (channels-last). */
static inline __attribute__((always_inline)) void
panel_vectors(REALV *out, const __global REAL *p, const ulong stride, const int n)
{
    if (stride == 1 && n == NR) {
        for (int v = 0; v < NV; ++v) out[v] = VLOAD(p + v * VW);
        return;
    }
    REAL g[NR];
    for (int cc = 0; cc < NR; ++cc) g[cc] = cc < n ? p[(ulong)cc * stride] : (REAL)0;
    for (int v = 0; v < NV; ++v) out[v] = VLOAD(g + v * VW);
}

/* V of tile t (image b, tile row ty, column tx) for the NR channels of panel
 * jp, at o + xi*vplane: B^T d B on REALV vectors of channels, so the 16
 * planes are written as whole vectors; each patch position is checked
 * against the image once for all the panel's channels. */
static inline __attribute__((always_inline)) void
input_tile_panel(const __global REAL *x, const Strides xs, const int jp, const int b, const int ty, const int tx,
                 const int C, const int H, const int W, const int pt, const int pl,
                 __local REAL *o, const int vplane)
{
    const int h0 = 2 * ty - pt, w0 = 2 * tx - pl, c0 = jp * NR;
    const __global REAL *xb = x + b * xs.b + c0 * xs.c;
    const int nc = min(NR, C - c0);
    REALV d[4][4][NV];
    for (int a = 0; a < 4; ++a)
        for (int e = 0; e < 4; ++e) {
            const int ih = h0 + a, iw = w0 + e;
            const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            panel_vectors(d[a][e], xb + (inside ? ih * xs.h + iw * xs.w : 0), xs.c, inside ? nc : 0);
        }
    for (int v = 0; v < NV; ++v) {
        REALV u[4][4];
        for (int e = 0; e < 4; ++e) {
            u[0][e] = d[0][e][v] - d[2][e][v];
            u[1][e] = d[1][e][v] + d[2][e][v];
            u[2][e] = d[2][e][v] - d[1][e][v];
            u[3][e] = d[1][e][v] - d[3][e][v];
        }
        for (int a = 0; a < 4; ++a) {
            VSTORE(u[a][0] - u[a][2], o + (a * 4 + 0) * vplane + v * VW);
            VSTORE(u[a][1] + u[a][2], o + (a * 4 + 1) * vplane + v * VW);
            VSTORE(u[a][2] - u[a][1], o + (a * 4 + 2) * vplane + v * VW);
            VSTORE(u[a][1] - u[a][3], o + (a * 4 + 3) * vplane + v * VW);
        }
    }
}

/* NCHW in place, for rows narrower than a vector (the lanes path below
 * would waste most of its lanes on them): a work-item walks a run of tiles
 * on one tile row, so each input column is loaded and row-transformed once
 * for the two tiles that share it. It does VW channels of x, MR of dy at
 * once, a vector of them gathered a position at a time, so its 16 stores a
 * tile are whole vectors as in the channels-last path. */

/* g[l] = p[l*cs] for the `lanes` lanes, zero from lane nc on (loads stay on
 * real channels). */
static inline __attribute__((always_inline)) void
gather_lanes(REAL *g, const __global REAL *p, const ulong cs, const int nc, const int lanes)
{
    for (int l = 0; l < lanes; ++l) g[l] = l < nc ? p[(ulong)min(l, max(nc - 1, 0)) * cs] : (REAL)0;
}

/* The VW channels from p, cs apart, as a vector; zero from lane nc on. */
static inline __attribute__((always_inline)) REALV
channel_vector(const __global REAL *p, const ulong cs, const int nc)
{
    REAL g[VW];
    gather_lanes(g, p, cs, nc, VW);
    return VLOAD(g);
}

/* B^T d of input column iw of the 4 rows for the VW channels (nc real). */
static inline __attribute__((always_inline)) void
column_rows_v(const __global REAL *const row[4], const bool inside[4], const int iw, const int W, const ulong cs,
              const int nc, REALV u[4])
{
    const bool in_col = iw >= 0 && iw < W;
    const int w = clamp(iw, 0, W - 1);
    REALV d[4];
    for (int k = 0; k < 4; ++k) d[k] = channel_vector(row[k] + w, cs, inside[k] && in_col ? nc : 0);
    u[0] = d[0] - d[2];
    u[1] = d[1] + d[2];
    u[2] = d[2] - d[1];
    u[3] = d[1] - d[3];
}

/* dy's MR output channels as one value: a vector when MR is a vector width,
 * else one channel at a time. */
#define WCAT_(a, b) a##b
#define WCAT(a, b) WCAT_(a, b)
#if MR == 2 || MR == 4 || MR == 8 || MR == 16
typedef WCAT(REAL, MR) realm;
#define M_LANES MR
#define LOAD_M(p) WCAT(vload, MR)(0, (p))
#define STORE_M(v, p) WCAT(vstore, MR)((v), 0, (p))
#else
typedef REAL realm;
#define M_LANES 1
#define LOAD_M(p) (*(p))
#define STORE_M(v, p) (*(p) = (v))
#endif

/* The M_LANES output channels from p, cs apart; zero from lane nk on. */
static inline __attribute__((always_inline)) realm
lanes_m(const __global REAL *p, const ulong cs, const int nk)
{
    REAL g[M_LANES];
    gather_lanes(g, p, cs, nk, M_LANES);
    return LOAD_M(g);
}

/* The same, one vector load when the channels are adjacent and all there. */
static inline __attribute__((always_inline)) realm
channels_m(const __global REAL *p, const ulong cs, const int nk)
{
    return cs == 1 && nk == M_LANES ? LOAD_M(p) : lanes_m(p, cs, nk);
}

/* A d A^T of one tile's 2x2 block of dy (d00 d01 / d10 d11) for M_LANES
 * channels, A the rows d0, d0 + d1, d0 - d1, -d1: plane xi in y[xi]. */
static inline __attribute__((always_inline)) void
dy_tile_transform(const realm d00, const realm d01, const realm d10, const realm d11, realm y[16])
{
    const realm u[4][2] = {{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {-d10, -d11}};
    for (int a = 0; a < 4; ++a) {
        y[a * 4 + 0] = u[a][0];
        y[a * 4 + 1] = u[a][0] + u[a][1];
        y[a * 4 + 2] = u[a][0] - u[a][1];
        y[a * 4 + 3] = -u[a][1];
    }
}

/* Y of one tile for the MR output channels from k0, at o + xi*yplane (zero
 * past P, Q, K), M_LANES channels at once, so a plane's values are stored as
 * a vector (a value at a time, the channels-last tile kernel took 1.33x the
 * time on a 64-channel 56x56 layer). */
static inline __attribute__((always_inline)) void
dy_tile_panel(const __global REAL *dy, const Strides ds, const int k0, const int b, const int p0, const int q0,
              const int K, const int P, const int Q, __local REAL *o, const int yplane)
{
    const int n = clamp(K - k0, 0, MR);
    const bool right = q0 + 1 < Q, below = p0 + 1 < P;
    const __global REAL *d = dy + b * ds.b + (n ? k0 : 0) * ds.c + p0 * ds.h + q0 * ds.w;
    for (int kk = 0; kk < MR; kk += M_LANES) {
        const int nk = clamp(n - kk, 0, M_LANES);
        const __global REAL *dk = d + (nk ? kk : 0) * ds.c;
        const realm d00 = channels_m(dk, ds.c, nk), d01 = channels_m(dk + ds.w, ds.c, right ? nk : 0);
        const realm d10 = channels_m(dk + ds.h, ds.c, below ? nk : 0);
        const realm d11 = channels_m(dk + ds.h + ds.w, ds.c, right && below ? nk : 0);
        realm y[16];
        dy_tile_transform(d00, d01, d10, d11, y);
        for (int xi = 0; xi < 16; ++xi) STORE_M(y[xi], o + xi * yplane + kk);
    }
}

/* NCHW rows at least VW wide (input_rows_lanes, dy_rows_lanes): the
 * transforms run VW tiles of one tile row at a time, a channel at a time,
 * the tiles in the lanes, so an input row loads as whole vectors (its even
 * and odd columns split by permutes) where the gathers above load a lane a
 * plane of H*W floats from the next. V's planes are then transposed into a
 * vector of channels a tile; Y's are stored as they come, a row of tiles an
 * output channel, which the products read as A's rows. */

/* The even and the odd lanes of the 2*VW lanes (a, b), lane by lane: the
 * compiler makes one two-source permute of each (a swizzle crashes Oclgrind's
 * uninitialised-value check, shuffle2 compiles to a lane loop on POCL). */
static inline REALV even_lanes(const REALV a, const REALV b)
{
#if VW == 1
    return a;
#elif VW == 2
    return (REALV)(a.s0, b.s0);
#elif VW == 4
    return (REALV)(a.s0, a.s2, b.s0, b.s2);
#elif VW == 8
    return (REALV)(a.s0, a.s2, a.s4, a.s6, b.s0, b.s2, b.s4, b.s6);
#else
    return (REALV)(a.s0, a.s2, a.s4, a.s6, a.s8, a.sa, a.sc, a.se, b.s0, b.s2, b.s4, b.s6, b.s8, b.sa, b.sc, b.se);
#endif
}

static inline REALV odd_lanes(const REALV a, const REALV b)
{
#if VW == 1
    return b;
#elif VW == 2
    return (REALV)(a.s1, b.s1);
#elif VW == 4
    return (REALV)(a.s1, a.s3, b.s1, b.s3);
#elif VW == 8
    return (REALV)(a.s1, a.s3, a.s5, a.s7, b.s1, b.s3, b.s5, b.s7);
#else
    return (REALV)(a.s1, a.s3, a.s5, a.s7, a.s9, a.sb, a.sd, a.sf, b.s1, b.s3, b.s5, b.s7, b.s9, b.sb, b.sd, b.sf);
#endif
}

/* r as a VW x VW matrix, transposed in place: log2(VW) rounds of splitting
 * rows 2i and 2i+1 into their even lanes (row i) and odd lanes (row
 * i + VW/2). */
static inline __attribute__((always_inline)) void transpose_lanes(REALV r[VW])
{
#pragma unroll
    for (int s = 1; s < VW; s *= 2) {
        REALV z[VW];
#pragma unroll
        for (int i = 0; i < VW / 2; ++i) {
            z[i] = even_lanes(r[2 * i], r[2 * i + 1]);
            z[i + VW / 2] = odd_lanes(r[2 * i], r[2 * i + 1]);
        }
#pragma unroll
        for (int i = 0; i < VW; ++i) r[i] = z[i];
    }
}

/* Columns o .. o+VW-1 of a row of W >= VW, zero outside [0, W). Across an
 * edge, the vector inside the row nearest o is moved into place through a
 * zero-padded copy. */
static inline __attribute__((always_inline)) REALV row_span(const __global REAL *row, const int o, const int W)
{
    if (o >= 0 && o + VW <= W) return VLOAD(row + o);
    if (o >= W || o + VW <= 0) return (REALV)0;
    const int inside = clamp(o, 0, W - VW);
    REAL g[3 * VW];
    VSTORE((REALV)0, g);
    VSTORE(VLOAD(row + inside), g + VW);
    VSTORE((REALV)0, g + 2 * VW);
    return VLOAD(g + VW + o - inside);
}

/* Columns o + 2l (even) and o + 2l + 1 (odd) of a row, lane l. */
static inline __attribute__((always_inline)) void
row_pairs(const __global REAL *row, const int o, const int W, REALV *even, REALV *odd)
{
    const REALV a = row_span(row, o, W), b = row_span(row, o + VW, W);
    *even = even_lanes(a, b);
    *odd = odd_lanes(a, b);
}

/* V = B^T d B of the VW tiles whose patches start at row h0, columns
 * w0 + 2l, of one channel's plane xc (zero outside H x W): v[a*4 + e]. */
static inline __attribute__((always_inline)) void
tiles_input(const __global REAL *xc, const int h0, const int w0, const int H, const int W, REALV v[16])
{
    REALV r[4][4]; /* d B of row k */
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        REALV d[4] = {(REALV)0, (REALV)0, (REALV)0, (REALV)0}; /* columns w0 + 2l + j */
        if (h0 + k >= 0 && h0 + k < H) {
            const __global REAL *row = xc + (h0 + k) * W;
            row_pairs(row, w0, W, &d[0], &d[1]);
            row_pairs(row, w0 + 2, W, &d[2], &d[3]);
        }
        r[k][0] = d[0] - d[2];
        r[k][1] = d[1] + d[2];
        r[k][2] = d[2] - d[1];
        r[k][3] = d[1] - d[3];
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        v[0 * 4 + e] = r[0][e] - r[2][e];
        v[1 * 4 + e] = r[1][e] + r[2][e];
        v[2 * 4 + e] = r[2][e] - r[1][e];
        v[3 * 4 + e] = r[1][e] - r[3][e];
    }
}

/* Y = A d A^T of the VW tiles whose 2x2 blocks start at row p0, columns
 * q0 + 2l, of one output channel's plane dyk (zero outside P x Q), A the
 * rows d0, d0 + d1, d0 - d1, -d1: y[a*4 + e]. */
static inline __attribute__((always_inline)) void
tiles_dy(const __global REAL *dyk, const int p0, const int q0, const int P, const int Q, REALV y[16])
{
    REALV d[2][2] = {{(REALV)0, (REALV)0}, {(REALV)0, (REALV)0}}; /* row p0 + r, columns q0 + 2l + j */
#pragma unroll
    for (int r = 0; r < 2; ++r)
        if (p0 + r < P) row_pairs(dyk + (p0 + r) * Q, q0, Q, &d[r][0], &d[r][1]);
    const REALV u[4][2] = {{d[0][0], d[0][1]},
                           {d[0][0] + d[1][0], d[0][1] + d[1][1]},
                           {d[0][0] - d[1][0], d[0][1] - d[1][1]},
                           {-d[1][0], -d[1][1]}};
#pragma unroll
    for (int a = 0; a < 4; ++a) {
        y[a * 4 + 0] = u[a][0];
        y[a * 4 + 1] = u[a][0] + u[a][1];
        y[a * 4 + 2] = u[a][0] - u[a][1];
        y[a * 4 + 3] = -u[a][1];
    }
}

/* The row transforms, once writing the work-group's local tiles (the fused
 * kernels), once the packed global panels of winograd_bwdw_products. */
#define ROWS_SPACE __local
#define ROWS_FN(name) name
#include "winograd_bwdw_rows.h"
#undef ROWS_SPACE
#undef ROWS_FN
#define ROWS_SPACE __global
#define ROWS_FN(name) name##_global
#include "winograd_bwdw_rows.h"
#undef ROWS_SPACE
#undef ROWS_FN

/* input_rows_vector's V, the tiles in the lanes: a run's planes come out a
 * channel at a time and are transposed into a vector of channels a tile.
 * Not inlined: inlined, POCL kept its private arrays per work-item in
 * memory. */
static __attribute__((noinline)) void
input_rows_lanes(const __global REAL *x, const int c0, const int t0, const int n, const int tp, const int tq,
                 const int C, const int H, const int W, const int pt, const int pl, __local REAL *o, const int vplane)
{
    const ulong cs = (ulong)H * W;
    for (int tt = 0; tt < n;) {
        int b, ty, tx;
        tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
        const int run = min(min(n - tt, tq - tx), VW);
        REALV v[VW][16];
        for (int cc = 0; cc < VW; ++cc) {
            if (c0 + cc < C)
                tiles_input(x + ((ulong)b * C + c0 + cc) * cs, 2 * ty - pt, 2 * tx - pl, H, W, v[cc]);
            else
#pragma unroll
                for (int xi = 0; xi < 16; ++xi) v[cc][xi] = (REALV)0;
        }
        for (int xi = 0; xi < 16; ++xi) {
            REALV t[VW];
#pragma unroll
            for (int cc = 0; cc < VW; ++cc) t[cc] = v[cc][xi];
            transpose_lanes(t);
            for (int l = 0; l < run; ++l) VSTORE(t[l], o + xi * vplane + (tt + l) * NR);
        }
        tt += run;
    }
}

/* dy_rows_panel's Y, the tiles in the lanes, and laid out so: plane xi of
 * channel k0 + kk at o + xi*yplane + kk*krow, tile tt at tt. A run's vector
 * may spill past it into the slots of later runs, which overwrite them; the
 * last run is stored lane by lane. */
static __attribute__((noinline)) void
dy_rows_lanes(const __global REAL *dy, const int k0, const int t0, const int n, const int tp, const int tq,
              const int K, const int P, const int Q, __local REAL *o, const int yplane, const int krow)
{
    const ulong cs = (ulong)P * Q;
    for (int tt = 0; tt < n;) {
        int b, ty, tx;
        tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
        const int run = min(min(n - tt, tq - tx), VW);
        for (int kk = 0; kk < MR; ++kk) {
            REALV y[16];
            if (k0 + kk < K)
                tiles_dy(dy + ((ulong)b * K + k0 + kk) * cs, 2 * ty, 2 * tx, P, Q, y);
            else
#pragma unroll
                for (int xi = 0; xi < 16; ++xi) y[xi] = (REALV)0;
            __local REAL *ok = o + kk * krow + tt;
            if (tt + VW <= n) {
#pragma unroll
                for (int xi = 0; xi < 16; ++xi) VSTORE(y[xi], ok + xi * yplane);
            } else {
                for (int xi = 0; xi < 16; ++xi) {
                    REAL g[VW];
                    VSTORE(y[xi], g);
                    for (int l = 0; l < run; ++l) ok[xi * yplane + l] = g[l];
                }
            }
        }
        tt += run;
    }
}

/* dw[k][c..c+VW) = G^T v G, v the 4x4 sums of output channel k and the VW
 * channels from c (those from C on skipped), G = [[1,0,0],[.5,.5,.5],
 * [.5,-.5,.5],[0,0,1]]; dw is KCRS or, with dw_nhwc, KRSC. */
static inline __attribute__((always_inline)) void
store_taps(const REALV v[4][4], __global REAL *dw, const int k, const int c, const int C, const int dw_nhwc)
{
    REALV h[3][4]; /* G^T v */
    for (int e = 0; e < 4; ++e) {
        h[0][e] = v[0][e] + (REAL)0.5 * (v[1][e] + v[2][e]);
        h[1][e] = (REAL)0.5 * (v[1][e] - v[2][e]);
        h[2][e] = (REAL)0.5 * (v[1][e] + v[2][e]) + v[3][e];
    }
    REAL t[9][VW]; /* tap e of channel c + l */
    for (int r = 0; r < 3; ++r) {
        VSTORE(h[r][0] + (REAL)0.5 * (h[r][1] + h[r][2]), t[r * 3 + 0]);
        VSTORE((REAL)0.5 * (h[r][1] - h[r][2]), t[r * 3 + 1]);
        VSTORE((REAL)0.5 * (h[r][1] + h[r][2]) + h[r][3], t[r * 3 + 2]);
    }
    const int nc = min(VW, C - c);
    __global REAL *o = dw + (ulong)k * C * 9;
    if (dw_nhwc) {
        for (int e = 0; e < 9; ++e)
            for (int l = 0; l < nc; ++l) o[(ulong)e * C + c + l] = t[e][l];
    } else {
        for (int l = 0; l < nc; ++l)
            for (int e = 0; e < 9; ++e) o[(ulong)(c + l) * 9 + e] = t[e][l];
    }
}

/* The 16 sums of output channels k0.. (MR) and channels c0.. (NR) into dw,
 * rows past K and channels past C skipped. */
static inline __attribute__((always_inline)) void
store_dw(REALV acc[16][MR][NV], __global REAL *dw, const int k0, const int c0, const int K, const int C,
         const int dw_nhwc)
{
    for (int r = 0; r < min(MR, K - k0); ++r)
        for (int cv = 0; cv < NV && c0 + cv * VW < C; ++cv) {
            REALV v[4][4];
            for (int xi = 0; xi < 16; ++xi) v[xi / 4][xi % 4] = acc[xi][r][cv];
            store_taps(v, dw, k0 + r, c0 + cv * VW, C, dw_nhwc);
        }
}

/* Every cache line of channels-last tile t's x pixels and dy block (whole pixels). The
 * transforms' loads of a tile's 16 pixels missed the prefetchers: 4 tiles ahead took the tile
 * kernel of a 64-channel 56x56 layer to 0.6x its time on a 2-core AVX-512 EPYC. */
static inline void prefetch_tile(const __global REAL *x, const __global REAL *dy, const int t, const int tp,
                                 const int tq, const int C, const int H, const int W, const int K, const int P,
                                 const int Q, const int pt, const int pl)
{
    int b, ty, tx;
    tile_at(t, tp, tq, &b, &ty, &tx);
    const int w0 = max(2 * tx - pl, 0), w1 = min(2 * tx - pl + 4, W);
    for (int a = 0; a < 4; ++a) {
        const int ih = 2 * ty - pt + a;
        if (ih >= 0 && ih < H && w1 > w0) prefetch_run(x + (((ulong)b * H + ih) * W + w0) * C, (w1 - w0) * C);
    }
    const int q1 = min(2 * tx + 2, Q);
    for (int a = 0; a < 2 && 2 * ty + a < P; ++a)
        prefetch_run(dy + (((ulong)b * P + 2 * ty + a) * Q + 2 * tx) * K, (q1 - 2 * tx) * K);
}

/* The tile kernels' body: channels_last (a constant in each kernel, so each
 * compiles only its own transforms) picks NHWC x and dy or NCHW. No
 * restrict here: inlined, it leaves scope intrinsics Oclgrind cannot run. */
static inline __attribute__((always_inline)) void
bwdw_tiles(const __global REAL *x, const __global REAL *dy, const int C, const int H, const int W,
           const int K, const int P, const int Q, const int pt, const int pl, const int channels_last, const int tp,
           const int tq, const int nimg, const int seg, const int tc, const int pad, const int gcols, const int add,
           __global REAL *mp, __local REAL *vl, __local REAL *yl, __global REAL *dw, const int direct,
           const int dw_nhwc)
{
    const int ip = get_global_id(1), s = get_global_id(2);
    const int lid = (int)get_local_id(1), lsize = (int)get_local_size(1);
    const int k0 = (int)get_group_id(1) * lsize * MR; /* the group's first output channel */
    const int T = nimg * tp * tq, t_begin = s * seg, t_end = min(T, t_begin + seg);
    const int Kp = (K + MR - 1) / MR * MR, Cp = (C + NR - 1) / NR * NR;
    const int vplane = tc * NR + pad, yplane = tc * MR + pad;
    const int jp0 = (int)get_group_id(0) * gcols, ncols = min(gcols, Cp / NR - jp0); /* the group's panels */
    const Strides xs = strides_of(channels_last, C, H, W), ds = strides_of(channels_last, K, P, Q);
    /* NCHW rows at least a vector wide: the transforms take the tiles in the
     * lanes, and Y's planes hold an output channel's tiles in a row (A's rows
     * tc apart in the products); else a tile's MR channels are adjacent */
    const bool rows_in_lanes = !channels_last && min(W, Q) >= VW;
    const int y_rows = rows_in_lanes ? tc : 1, y_step = rows_in_lanes ? 1 : MR;
    for (int t0 = t_begin; t0 < t_end; t0 += tc) {
        const int n = min(tc, t_end - t0);
        barrier(CLK_LOCAL_MEM_FENCE); /* the last tiles' products are done with vl, yl */
        if (channels_last) {
            for (int i = lid; i < n * ncols; i += lsize) {
                const int tt = i / ncols, jl = i - tt * ncols;
                int b, ty, tx;
#if BWDW_AHEAD
                if (jl == 0 && t0 + tt + BWDW_AHEAD < T)
                    prefetch_tile(x, dy, t0 + tt + BWDW_AHEAD, tp, tq, C, H, W, K, P, Q, pt, pl);
#endif
                tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
                input_tile_panel(x, xs, jp0 + jl, b, ty, tx, C, H, W, pt, pl, vl + jl * 16 * vplane + tt * NR,
                                 vplane);
            }
            for (int i = lid; i < n * lsize; i += lsize) {
                const int tt = i / lsize, panel = i - tt * lsize;
                int b, ty, tx;
                tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
                dy_tile_panel(dy, ds, k0 + panel * MR, b, 2 * ty, 2 * tx, K, P, Q,
                              yl + panel * 16 * yplane + tt * MR, yplane);
            }
        } else {
            /* a unit: VW channels over at most 16 tiles, so that on a
             * device running work-items in parallel more of them have one */
            const int sub_tiles = 16, nvec = ncols * NV, nsub = (n + sub_tiles - 1) / sub_tiles;
            for (int i = lid; i < nvec * nsub; i += lsize) {
                const int sub = i / nvec, v = i - sub * nvec, ts = sub * sub_tiles;
                __local REAL *o = vl + v / NV * 16 * vplane + v % NV * VW + ts * NR;
                if (rows_in_lanes)
                    input_rows_lanes(x, jp0 * NR + v * VW, t0 + ts, min(sub_tiles, n - ts), tp, tq, C, H, W, pt, pl,
                                     o, vplane);
                else
                    input_rows_vector(x, jp0 * NR + v * VW, t0 + ts, min(sub_tiles, n - ts), tp, tq, C, H, W, pt,
                                      pl, o, vplane);
            }
            if (rows_in_lanes)
                dy_rows_lanes(dy, k0 + lid * MR, t0, n, tp, tq, K, P, Q, yl + lid * 16 * yplane, yplane, tc);
            else
                dy_rows_panel(dy, k0 + lid * MR, t0, n, tp, tq, K, P, Q, yl + lid * 16 * yplane, yplane);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (ip * MR >= K) continue;
        const bool fresh = t0 == t_begin && !add;
        if (direct && t0 + tc >= t_end) {
            /* the only segment's last pass: its sums folded straight into dw */
            for (int jl = 0; jl < ncols; ++jl) {
                REALV acc[16][MR][NV];
                for (int xi = 0; xi < 16; ++xi) {
                    const __global REAL *mo = mp + (((ulong)s * 16 + xi) * Kp + ip * MR) * Cp + (jp0 + jl) * NR;
                    micro_tile_rows(acc[xi], yl + (lid * 16 + xi) * yplane, y_rows, y_step,
                                    vl + (jl * 16 + xi) * vplane, n);
                    if (!fresh)
                        for (int r = 0; r < MR; ++r)
                            for (int c = 0; c < NV; ++c) acc[xi][r][c] += VLOAD(mo + r * Cp + c * VW);
                }
                store_dw(acc, dw, ip * MR, (jp0 + jl) * NR, K, C, dw_nhwc);
            }
            continue;
        }
        for (int xi = 0; xi < 16; ++xi)
            for (int jl = 0; jl < ncols; ++jl) {
                __global REAL *mo = mp + (((ulong)s * 16 + xi) * Kp + ip * MR) * Cp + (jp0 + jl) * NR;
                REALV acc[MR][NV];
                micro_tile_rows(acc, yl + (lid * 16 + xi) * yplane, y_rows, y_step, vl + (jl * 16 + xi) * vplane, n);
                for (int r = 0; r < MR; ++r)
                    for (int c = 0; c < NV; ++c)
                        VSTORE(fresh ? acc[r][c] : acc[r][c] + VLOAD(mo + r * Cp + c * VW), mo + r * Cp + c * VW);
            }
    }
}

/* x and dy NHWC (channels-last calls, or NCHW ones staged so, STAGE 2). */
__kernel void winograd_bwdw_tiles(__global const REAL *restrict x, ulong x_off,
                                  __global const REAL *restrict dy, ulong dy_off,
                                  int C, int H, int W, int K, int P, int Q, int pt, int pl,
                                  int tp, int tq, int nimg, int seg, int tc, int pad, int gcols, int add,
                                  __global REAL *mp, __local REAL *vl, __local REAL *yl, __global REAL *dw,
                                  int direct, int dw_nhwc)
{
    bwdw_tiles(x + x_off, dy + dy_off, C, H, W, K, P, Q, pt, pl, 1, tp, tq, nimg, seg, tc, pad, gcols, add, mp, vl, yl,
               dw, direct, dw_nhwc);
}

/* x and dy NCHW, read in place. */
__kernel void winograd_bwdw_tiles_nchw(__global const REAL *restrict x, ulong x_off,
                                       __global const REAL *restrict dy, ulong dy_off,
                                       int C, int H, int W, int K, int P, int Q, int pt, int pl,
                                       int tp, int tq, int nimg, int seg, int tc, int pad, int gcols, int add,
                                       __global REAL *mp, __local REAL *vl, __local REAL *yl, __global REAL *dw,
                                       int direct, int dw_nhwc)
{
    bwdw_tiles(x + x_off, dy + dy_off, C, H, W, K, P, Q, pt, pl, 0, tp, tq, nimg, seg, tc, pad, gcols, add, mp, vl, yl,
               dw, direct, dw_nhwc);
}

/* dw[k][c] = G^T M[k][c] G (store_taps), M the sum of the segments' partial
 * sums in segment order, VW channels a work-item; dw is KCRS or, with
 * channels_last, KRSC.
 * global = (ceil(C/VW), K). */
__kernel void winograd_bwdw_output(__global const REAL *restrict mp, __global REAL *restrict dw,
                                   int K, int C, int segments, int channels_last)
{
    const int c = get_global_id(0) * VW, k = get_global_id(1);
    if (c >= C || k >= K) return;
    const int Kp = (K + MR - 1) / MR * MR, Cp = (C + NR - 1) / NR * NR;
    const ulong plane = (ulong)Kp * Cp;
    REALV v[4][4];
    for (int xi = 0; xi < 16; ++xi) {
        REALV sum = (REALV)0;
        for (int s = 0; s < segments; ++s) sum += VLOAD(mp + (s * 16 + xi) * plane + (ulong)k * Cp + c);
        v[xi / 4][xi % 4] = sum;
    }
    store_taps(v, dw, k, c, C, channels_last);
}

/* ---------------------------------------------------------------------------
 * The packed path, for layers whose K x C sums outgrow what local memory's
 * passes keep cheap: x and dy are transformed once into global panels packed
 * for the products, then each work-item reduces over every tile in its
 * registers and folds its sums straight into dw, so no partial sums are
 * written and read back (on a 512-channel 7x7 layer, local memory held ~20
 * tiles a pass, and each pass re-read and re-wrote 16 MB of them).
 * Panels: V of channel panel jp, plane xi at vp + (jp*16 + xi)*T*NR (tile t's
 * NR channels at t*NR); Y of output-channel panel ip, plane xi at
 * yp + (ip*16 + xi)*T*MR. T: the tiles of the batch. */

/* V of every tile, packed; VW channels a work-item.
 * global = (channel panels * NV, ceil(T / PACK_TILES)). */
__kernel void winograd_bwdw_pack_x_nchw(__global const REAL *restrict x, ulong x_off, int C, int H, int W,
                                        int pt, int pl, int tp, int tq, int T, __global REAL *restrict vp)
{
    const int v = get_global_id(0), t0 = get_global_id(1) * PACK_TILES;
    if (v >= (C + NR - 1) / NR * NV || t0 >= T) return;
    input_rows_vector_global(x + x_off, v * VW, t0, min(PACK_TILES, T - t0), tp, tq, C, H, W, pt, pl,
                             vp + ((ulong)(v / NV) * 16 * T + t0) * NR + v % NV * VW, T * NR);
}

/* Y of every tile, packed; MR output channels a work-item.
 * global = (output-channel panels, ceil(T / PACK_TILES)). */
__kernel void winograd_bwdw_pack_dy_nchw(__global const REAL *restrict dy, ulong dy_off, int K, int P, int Q,
                                         int tp, int tq, int T, __global REAL *restrict yp)
{
    const int ip = get_global_id(0), t0 = get_global_id(1) * PACK_TILES;
    if (ip * MR >= K || t0 >= T) return;
    dy_rows_panel_global(dy + dy_off, ip * MR, t0, min(PACK_TILES, T - t0), tp, tq, K, P, Q,
                         yp + ((ulong)ip * 16 * T + t0) * MR, T * MR);
}

/* The register tile again, over the global panels: micro_tile_global. */
#undef MICRO_TILE_A_SPACE
#undef MICRO_TILE_B_SPACE
#undef MICRO_TILE_FN
#define MICRO_TILE_A_SPACE __global
#define MICRO_TILE_B_SPACE __global
#define MICRO_TILE_FN(name) name##_global
#include "micro_tile.h"

/* dw of output-channel panel ip and channel panel jp from all 16 planes'
 * products over the T tiles; dw is KCRS or, with dw_nhwc, KRSC.
 * global = (channel panels, output-channel panels rounded up to the local
 * size); local = (1, L): a group's work-items share their channel panel's V,
 * and none run side by side in one vector (which local size 1 along 0 keeps
 * POCL from doing). */
__kernel void winograd_bwdw_products(__global const REAL *restrict yp, __global const REAL *restrict vp, int K,
                                     int C, int T, __global REAL *restrict dw, int dw_nhwc)
{
    const int jp = get_global_id(0), ip = get_global_id(1);
    if (ip * MR >= K || jp * NR >= C) return;
    REALV acc[16][MR][NV];
    for (int xi = 0; xi < 16; ++xi)
        micro_tile_global(acc[xi], yp + ((ulong)ip * 16 + xi) * T * MR, vp + ((ulong)jp * 16 + xi) * T * NR, T);
    store_dw(acc, dw, ip * MR, jp * NR, K, C, dw_nhwc);
}
