/* anycl convolution: depthwise (groups == C == K), channels-last float: x and
 * y NHWC, filters OHWI (w[c][r][s], one input channel a group); any stride,
 * dilation and padding.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL           element type (float)
 *   DWN_VW         channels per vector: 4, 8 or 16
 *   DWN_QB         output columns a work-item computes at once inside a row
 *   DWN_GROUPS_CU  host: work-groups launched per compute unit (read only here)
 *   DWN_SMAX       widest filter row backward-weights accumulates in registers
 *                  (the host runs wider filters between layout transforms)
 *   DWN_STREAM     1: output blocks are stored non-temporally when the host
 *                  passes `stream` (outputs larger than the device's cache, a
 *                  block a whole cache line): no read of the lines they
 *                  overwrite (clang's __builtin_nontemporal_store)
 *   DWN_AHEAD      input pixels ahead of an interior block whose channel
 *                  block's line is prefetched (clang-built kernels only); 0: off
 *
 * Channels are contiguous in NHWC, so a vector holds DWN_VW channels of one
 * pixel (as oneDNN's blocked layout has them): every tap of every output is
 * one vector load and one FMA, at any stride, with no lane permutes, and the
 * filter taps of a channel block are DWN_VW-wide vectors in local memory.
 * Columns whose taps all lie inside the image run without bounds checks,
 * DWN_QB of them at once; the few at the borders check each tap. */
#ifndef REAL
#define REAL float   /* element type */
#endif
#ifndef DWN_VW
#define DWN_VW 8     /* channels per vector */
#endif
#ifndef DWN_QB
#define DWN_QB 4     /* output columns computed at once inside a row */
#endif
#ifndef DWN_GROUPS_CU
#define DWN_GROUPS_CU 8  /* host: work-groups per compute unit */
#endif
#ifndef DWN_SMAX
#define DWN_SMAX 7   /* widest filter row of backward-weights */
#endif
#ifndef DWN_STREAM
#define DWN_STREAM 0 /* 1: whole-line output blocks stored non-temporally when the host asks */
#endif
#ifndef DWN_AHEAD
#define DWN_AHEAD 0  /* input pixels prefetched ahead of an interior block (0: off) */
#endif

#include "prefetch.h"

#define DWNCAT_(a, b) a##b
#define DWNCAT(a, b) DWNCAT_(a, b)
typedef DWNCAT(REAL, DWN_VW) realv;
#define VLOAD DWNCAT(vload, DWN_VW)
#define VSTORE DWNCAT(vstore, DWN_VW)

/* The DWN_VW channels at p, of which the first nc exist (zeros for the rest):
 * one vector load for a full block; a partial one (the last block when C is
 * not a multiple of DWN_VW) reads no float past the channels. */
static inline realv dwn_load(const __global REAL *p, int nc)
{
    if (nc == DWN_VW) return VLOAD(0, p);
    REAL part[DWN_VW];
    for (int t = 0; t < DWN_VW; ++t) part[t] = t < nc ? p[t] : (REAL)0;
    return VLOAD(0, part);
}

static inline void dwn_store(__global REAL *p, realv v, int nc, int stream)
{
#if DWN_STREAM
    if (stream && nc == DWN_VW && (ulong)p % sizeof(realv) == 0) {
        __builtin_nontemporal_store(v, (__global realv *)p);
        return;
    }
#endif
    if (nc == DWN_VW) {
        VSTORE(v, 0, p);
        return;
    }
    REAL part[DWN_VW];
    VSTORE(v, 0, part);
    for (int t = 0; t < nc; ++t) p[t] = part[t];
}

/* Row or column `v` of the input upsampled by `up` with zeros between (up is
 * 1 but for backward-data at a stride): the input index, or -1 for padding
 * and the zeros between. */
static inline int dwn_source(int v, int up, int n)
{
    if (v < 0 || v % up != 0) return -1;
    return v / up < n ? v / up : -1;
}

/* One output pixel with every tap checked (the columns at the borders, and
 * every column when the input is upsampled along the width). `img` is the
 * block's first channel of image b's input; `wl` the block's taps, DWN_VW
 * floats each. */
static inline __attribute__((always_inline)) realv dwn_edge(const __global REAL *img, const __local REAL *wl,
                                                           realv acc, int p, int q, int H, int W, int C, int R,
                                                           int S, int sh, int sw, int pt, int pl, int dh, int dw,
                                                           int up_h, int up_w, int nc)
{
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int ih = dwn_source(p * sh - pt + r * dh, up_h, H);
        if (ih < 0) continue;
#pragma unroll
        for (int s = 0; s < S; ++s) {
            const int iw = dwn_source(q * sw - pl + s * dw, up_w, W);
            if (iw < 0) continue;
            acc = fma(dwn_load(img + ((ulong)ih * W + iw) * C, nc), VLOAD(0, wl + (r * S + s) * DWN_VW), acc);
        }
    }
    return acc;
}

/* Output row p of one channel block: the border columns checked, the interior
 * (every tap inside the row; not upsampled along the width) DWN_QB columns
 * at a time, which share the filter vectors. `yrow` is the block's first
 * channel of the row's first output. */
static inline __attribute__((always_inline)) void dwn_row(const __global REAL *img, __global REAL *yrow,
                                                          const __local REAL *wl, realv b0, int p, int H, int W,
                                                          int C, int Q, int R, int S, int sh, int sw, int pt, int pl,
                                                          int dh, int dw, int up_h, int up_w, int nc, int relu,
                                                          int stream)
{
    int qlo = Q, qhi = Q;
    if (up_w == 1) {
        /* q*sw - pl >= 0 and q*sw - pl + (S-1)*dw <= W-1 */
        qlo = min(Q, (pl + sw - 1) / sw);
        const int span = W - 1 + pl - (S - 1) * dw;
        qhi = span < 0 ? qlo : clamp(span / sw + 1, qlo, Q);
    }
    for (int q = 0; q < qlo; ++q) {
        realv acc = dwn_edge(img, wl, b0, p, q, H, W, C, R, S, sh, sw, pt, pl, dh, dw, up_h, up_w, nc);
        dwn_store(yrow + (ulong)q * C, relu ? fmax(acc, (realv)0) : acc, nc, stream);
    }
    int q = qlo;
    for (; q + DWN_QB <= qhi; q += DWN_QB) {
        realv acc[DWN_QB];
#pragma unroll
        for (int j = 0; j < DWN_QB; ++j) acc[j] = b0;
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int ih = dwn_source(p * sh - pt + r * dh, up_h, H);
            if (ih < 0) continue;
            const __global REAL *xr = img + ((ulong)ih * W + (q * sw - pl)) * C;
#if DWN_AHEAD
            /* this block's line of pixels to come, C floats apart: a stride the prefetchers miss */
            for (int j = DWN_AHEAD; j < DWN_AHEAD + DWN_QB * sw && q * sw - pl + j < W; ++j)
                prefetch_line(xr + (ulong)j * C);
#endif
#pragma unroll
            for (int s = 0; s < S; ++s) {
                const realv wv = VLOAD(0, wl + (r * S + s) * DWN_VW);
#pragma unroll
                for (int j = 0; j < DWN_QB; ++j)
                    acc[j] = fma(dwn_load(xr + (ulong)(j * sw + s * dw) * C, nc), wv, acc[j]);
            }
        }
#pragma unroll
        for (int j = 0; j < DWN_QB; ++j)
            dwn_store(yrow + (ulong)(q + j) * C, relu ? fmax(acc[j], (realv)0) : acc[j], nc, stream);
    }
    for (; q < Q; ++q) {
        realv acc = dwn_edge(img, wl, b0, p, q, H, W, C, R, S, sh, sw, pt, pl, dh, dw, up_h, up_w, nc);
        dwn_store(yrow + (ulong)q * C, relu ? fmax(acc, (realv)0) : acc, nc, stream);
    }
}

/* The taps of channels c0 .. c0+nc-1 into wl as DWN_VW-wide vectors, tap e
 * at wl + e*DWN_VW (rotated when flip), zeros past nc. */
static void dwn_stage_taps(__local REAL *wl, const __global REAL *w, int c0, int nc, int RS, int flip)
{
    for (int e = 0; e < RS; ++e)
        for (int t = 0; t < DWN_VW; ++t)
            wl[e * DWN_VW + t] = t < nc ? w[(ulong)(c0 + t) * RS + (flip ? RS - 1 - e : e)] : (REAL)0;
}

/* ---------------------------------------------------------------------------
 * out[b][p][q][c] = act(bias[c] + sum_{r,s} in[b][p*sh - pt + r*dh][q*sw - pl + s*dw][c] * w[c][r'][s'])
 * with (r', s') = (r, s), or (R-1-r, S-1-s) when flip: backward-data is this
 * on dy upsampled by the stride (up_h x up_w, zeros between) with the filter
 * rotated and pads (R-1)*dh - pt, ...; ih_ x iw_ is dy's own size then.
 * Tasks are (channel block, image row) pairs, the block major, so a
 * work-item's run of per_group tasks stages its taps about once.
 * wl: R*S*DWN_VW floats of local memory.
 * global = (ceil(blocks * nimg * oh / per_group)), local = (1). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_dwn_fwd(__global const REAL *restrict in, __global const REAL *restrict w, int flip,
                  __global const REAL *restrict bias, __global REAL *restrict out,
                  int C, int ih_, int iw_, int R, int S, int oh, int ow, int sh, int sw, int pt, int pl,
                  int dh, int dw, int up_h, int up_w, int nimg, int per_group, int has_bias, int relu,
                  int stream, __local REAL *wl)
{
    const int rows = nimg * oh;
    const int tasks = (C + DWN_VW - 1) / DWN_VW * rows;
    const int first = get_group_id(0) * per_group, last = min(tasks, first + per_group);
    int staged = -1;
    realv b0 = (realv)0;
    for (int t = first; t < last; ++t) {
        const int cb = t / rows, row = t - cb * rows;
        const int c0 = cb * DWN_VW, nc = min(DWN_VW, C - c0);
        if (cb != staged) {
            dwn_stage_taps(wl, w, c0, nc, R * S, flip);
            REAL part[DWN_VW];
            for (int i = 0; i < DWN_VW; ++i) part[i] = has_bias && i < nc ? bias[c0 + i] : (REAL)0;
            b0 = VLOAD(0, part);
            staged = cb;
        }
        const int b = row / oh, p = row - b * oh;
        const __global REAL *img = in + (ulong)b * ih_ * iw_ * C + c0;
        __global REAL *yrow = out + (ulong)row * ow * C + c0;
        const int square = nc == DWN_VW && R == S && sh == sw && dh == 1 && dw == 1 && up_h == up_w;
        const int plain = square && up_w == 1, upsampled = square && up_w == 2 && sw == 1;
        if (upsampled && R == 3) /* backward-data at stride 2 */
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 3, 3, 1, 1, pt, pl, 1, 1, 2, 2, DWN_VW, relu, stream);
        else if (upsampled && R == 5)
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 5, 5, 1, 1, pt, pl, 1, 1, 2, 2, DWN_VW, relu, stream);
        else if (plain && R == 3 && sw == 1)
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 3, 3, 1, 1, pt, pl, 1, 1, 1, 1, DWN_VW, relu, stream);
        else if (plain && R == 3 && sw == 2)
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 3, 3, 2, 2, pt, pl, 1, 1, 1, 1, DWN_VW, relu, stream);
        else if (plain && R == 5 && sw == 1)
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 5, 5, 1, 1, pt, pl, 1, 1, 1, 1, DWN_VW, relu, stream);
        else if (plain && R == 5 && sw == 2)
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, 5, 5, 2, 2, pt, pl, 1, 1, 1, 1, DWN_VW, relu, stream);
        else
            dwn_row(img, yrow, wl, b0, p, ih_, iw_, C, ow, R, S, sh, sw, pt, pl, dh, dw, up_h, up_w, nc, relu,
                    stream);
    }
}

/* Output column q's products with every tap checked (the border columns). */
static inline __attribute__((always_inline)) void dwn_grad_edge(realv *acc, const __global REAL *g_row,
                                                                const __global REAL *xr, int q, int C, int W, int S,
                                                                int sw, int pl, int dw, int nc)
{
    const realv g = dwn_load(g_row + (ulong)q * C, nc);
#pragma unroll
    for (int s = 0; s < S; ++s) {
        const int iw = q * sw - pl + s * dw;
        if (iw >= 0 && iw < W) acc[s] = fma(g, dwn_load(xr + (ulong)iw * C, nc), acc[s]);
    }
}

/* The S taps of filter row r of channels c0 .. c0+nc-1 over the whole batch:
 * acc[s] += dy * x at each output and tap in a fixed order (deterministic),
 * and dbias the sum of dy when with_bias. Each call site has its own
 * accumulators, which stay in registers once S is literal there. */
static inline __attribute__((always_inline)) void dwn_grad(const __global REAL *x, const __global REAL *dy,
                                                           __global REAL *dwt, __global REAL *dbias, int c0, int r,
                                                           int C, int H, int W, int R, int S, int P, int Q, int sh,
                                                           int sw, int pt, int pl, int dh, int dw, int nimg, int nc,
                                                           int with_bias)
{
    realv acc[DWN_SMAX], accb = (realv)0;
#pragma unroll
    for (int s = 0; s < S; ++s) acc[s] = (realv)0;
    const int qlo = min(Q, (pl + sw - 1) / sw);
    const int span = W - 1 + pl - (S - 1) * dw;
    const int qhi = span < 0 ? qlo : clamp(span / sw + 1, qlo, Q);
    for (int b = 0; b < nimg; ++b) {
        for (int p = 0; p < P; ++p) {
            const int ih = p * sh - pt + r * dh;
            const int inside = ih >= 0 && ih < H;
            if (!inside && !with_bias) continue;
            const __global REAL *g_row = dy + ((ulong)b * P + p) * Q * C + c0;
            const __global REAL *xr = x + ((ulong)b * H + (inside ? ih : 0)) * W * C + c0;
            if (with_bias)
                for (int q = 0; q < Q; ++q) accb += dwn_load(g_row + (ulong)q * C, nc);
            if (!inside) continue;
            for (int q = 0; q < qlo; ++q) dwn_grad_edge(acc, g_row, xr, q, C, W, S, sw, pl, dw, nc);
            for (int q = qlo; q < qhi; ++q) { /* every tap inside the row */
                const realv g = dwn_load(g_row + (ulong)q * C, nc);
                const __global REAL *xq = xr + (ulong)(q * sw - pl) * C;
#pragma unroll
                for (int s = 0; s < S; ++s) acc[s] = fma(g, dwn_load(xq + (ulong)(s * dw) * C, nc), acc[s]);
            }
            for (int q = qhi; q < Q; ++q) dwn_grad_edge(acc, g_row, xr, q, C, W, S, sw, pl, dw, nc);
        }
    }
    REAL lanes[DWN_VW];
#pragma unroll
    for (int s = 0; s < S; ++s) {
        VSTORE(acc[s], 0, lanes);
        for (int t = 0; t < nc; ++t) dwt[(ulong)(c0 + t) * R * S + r * S + s] = lanes[t];
    }
    if (with_bias) {
        VSTORE(accb, 0, lanes);
        for (int t = 0; t < nc; ++t) dbias[c0 + t] = lanes[t];
    }
}

/* ---------------------------------------------------------------------------
 * Backward-weights: dwt[c][r][s] = sum over b < nimg, p, q of dy[b][p][q][c] *
 * x[b][p*sh - pt + r*dh][q*sw - pl + s*dw][c], and dbias[c] = the sum of dy
 * (when has_dbias). One work-item per (channel block, filter row r), S vector
 * accumulators (at most DWN_SMAX; the host sends wider filters elsewhere);
 * the r == 0 item also sums dbias.
 * global = (blocks * R), local = (1). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_dwn_bwd_weights(__global const REAL *restrict x, __global const REAL *restrict dy,
                          __global REAL *restrict dwt, __global REAL *restrict dbias,
                          int C, int H, int W, int R, int S, int P, int Q, int sh, int sw, int pt, int pl,
                          int dh, int dw, int nimg, int has_dbias)
{
    const int blocks = (C + DWN_VW - 1) / DWN_VW;
    const int id = get_group_id(0);
    if (id >= blocks * R || S > DWN_SMAX) return;
    const int cb = id / R, r = id - cb * R;
    const int c0 = cb * DWN_VW, nc = min(DWN_VW, C - c0);
    const int with_bias = has_dbias && r == 0;
    const int plain = nc == DWN_VW && sh == sw && dh == 1 && dw == 1;
    if (plain && S == 3 && sw == 1)
        dwn_grad(x, dy, dwt, dbias, c0, r, C, H, W, R, 3, P, Q, 1, 1, pt, pl, 1, 1, nimg, DWN_VW, with_bias);
    else if (plain && S == 3 && sw == 2)
        dwn_grad(x, dy, dwt, dbias, c0, r, C, H, W, R, 3, P, Q, 2, 2, pt, pl, 1, 1, nimg, DWN_VW, with_bias);
    else if (plain && S == 5 && sw == 1)
        dwn_grad(x, dy, dwt, dbias, c0, r, C, H, W, R, 5, P, Q, 1, 1, pt, pl, 1, 1, nimg, DWN_VW, with_bias);
    else if (plain && S == 5 && sw == 2)
        dwn_grad(x, dy, dwt, dbias, c0, r, C, H, W, R, 5, P, Q, 2, 2, pt, pl, 1, 1, nimg, DWN_VW, with_bias);
    else
        dwn_grad(x, dy, dwt, dbias, c0, r, C, H, W, R, S, P, Q, sh, sw, pt, pl, dh, dw, nimg, nc, with_bias);
}
