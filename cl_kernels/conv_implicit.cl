/* anycl convolution: implicit GEMM for few input channels and large or
 * strided filters (the 7x7 stride-2 stem of ResNet-style networks), forward,
 * NCHW or NHWC float. The GEMM's K dimension (Cg*R*S taps) is walked straight over the
 * input, so no im2col column matrix is ever written.
 *
 * Two staging kernels make the inner loop branch-free and contiguous:
 *   conv_ig_stage_x: every input row zero-padded and split into its `sw`
 *     phases, xs[img][c][hh][ph][j] = x[img][c][hh - pt][j*sw + ph - pl]
 *     (0 outside), so the taps of one filter column for VW consecutive output
 *     pixels are VW consecutive floats of one phase row, whatever the stride
 *     and dilation;
 *   conv_ig_pack_w: the filter in MR-row panels, wp[block][tap][i] (0 past a
 *     group's last output channel), read with one broadcast a channel, and
 *     each tap's offset in the staged x, so the tap loop is one flat loop
 *     of pointer steps (a (c, r, s) loop nest spends a third of the loop's
 *     instructions on its phase and column bookkeeping).
 * conv_ig_fwd then runs an MR x (TP*TQ*VW) register tile: MR output channels
 * by TP output rows of TQ vectors of VW pixels, each row the packed GEMM's
 * micro-tile step (micro_tile.h: one broadcast filter value and one FMA per
 * channel and vector per tap), bias and ReLU applied on the way out.
 *
 * Tunables (every one a -D define; the defaults are correct on any OpenCL 1.2
 * device):
 *   REAL   element type (float)
 *   VW     vector width along output pixels: 1, 2, 4, 8 or 16
 *   MR     output channels per work-item (broadcast filter values per tap)
 *   TQ     vectors along an output row per work-item
 *   TP     output rows per work-item
 *   IG_WG  host: work-items per work-group along the channel blocks; they
 *          share one input tile, which stays in cache between them
 *   IMPLICIT_MAX_CHANNELS  host dispatch: Auto runs this family when the
 *          input channels per group are at most this ...
 *   IMPLICIT_MIN_TAPS      ... and the filter has at least this many taps or
 *          a stride above 1 (both unused by the code); 9 takes in 3x3
 *          layers on 1-4 channels, whose backward-weights im2col ran 3.6x
 *          slower (3 channels 64x64 -> 16, batch 8)
 *
 * Layouts: x[n][C][H][W], w[K][Cg][R][S], y[n][K][P][Q], or with the
 * kernels' channels_last argument x[n][H][W][C], w[K][R][S][Cg] (OHWI),
 * y[n][P][Q][K], read and written in place; Cg = C/groups, Kg = K/groups.
 * The host passes element offsets to the first image of a batch chunk. */
#ifndef REAL
#define REAL float
#endif
#ifndef VW
#define VW 4
#endif
#ifndef MR
#define MR 8
#endif
#ifndef TQ
#define TQ 2
#endif
#ifndef TP
#define TP 1
#endif
#ifndef IG_WG
#define IG_WG 1
#endif
#ifndef IMPLICIT_MAX_CHANNELS
#define IMPLICIT_MAX_CHANNELS 4
#endif
#ifndef IMPLICIT_MIN_TAPS
#define IMPLICIT_MIN_TAPS 9
#endif

#define NR (TQ * VW) /* micro_tile.h's tile width: the vectors of one output row */
#define KU 1         /* micro_tile.h's k-loop unroll (its micro_tile() is unused here) */

#include "common.h"
#include "micro_tile.h"

/* Staging of x, one work-item a phase row (hh, ph) of one (image, channel):
 * xs[((img*C + c)*Hs + hh)*sw + ph][j] for j < Ws, from NCHW x or, with
 * channels_last, NHWC x (a pixel's C channels adjacent). The in-bounds run
 * of NCHW rows is copied with vector loads for strides 1 and 2 (the stem's),
 * element by element otherwise.
 * global = (nimg*C, Hs*sw); local (1, L, 1), any L. */
__kernel void conv_ig_stage_x(__global const REAL *restrict x, const ulong x_off,
                              __global REAL *restrict xs, const int C, const int H, const int W,
                              const int Hs, const int Ws, const int sw, const int pt,
                              const int pl, const int planes, const int channels_last)
{
    const int plane = get_global_id(0), row = get_global_id(1);
    if (row >= Hs * sw || plane >= planes) return;
    const int hh = row / sw, ph = row - hh * sw, ih = hh - pt;
    __global REAL *dst = xs + ((ulong)plane * Hs * sw + row) * Ws;
    if (ih < 0 || ih >= H) {
        for (int j = 0; j < Ws; ++j) dst[j] = (REAL)0;
        return;
    }
    /* Column j reads x column j*sw - first; the run [j0, j1) is inside [0, W). */
    const int first = pl - ph;
    const int j0 = min(Ws, first <= 0 ? 0 : (first + sw - 1) / sw);
    const int j1 = max(j0, min(Ws, W - 1 + first < 0 ? 0 : (W - 1 + first) / sw + 1));
    const int img = plane / C, c = plane - img * C, step = channels_last ? C : 1;
    __global const REAL *src = x + x_off + (channels_last ? ((ulong)img * H + ih) * W * C + c
                                                          : ((ulong)plane * H + ih) * W);
    for (int j = 0; j < j0; ++j) dst[j] = (REAL)0;
    int j = j0;
    if (sw == 1 && !channels_last) {
        for (; j + 8 <= j1; j += 8) vstore8(vload8(0, src + j - first), 0, dst + j);
    } else if (sw == 2 && !channels_last) {
        /* 16 consecutive columns hold the next 8 of this phase at the even places. */
        for (; j + 8 <= j1 && 2 * j + 15 - first < W; j += 8) vstore8(vload16(0, src + 2 * j - first).even, 0, dst + j);
    }
    for (; j < j1; ++j) dst[j] = src[(j * sw - first) * step];
    for (j = j1; j < Ws; ++j) dst[j] = (REAL)0;
}

/* Filter panels and tap offsets. wp[(grp*kblocks + kb)*taps*MR + t*MR + i] = filter tap
 * t = (c, r, s) of channel grp*Kg + kb*MR + i, 0 for kb*MR + i >= Kg; w is KCRS or, with
 * channels_last, OHWI (w[k][r][s][c]). Behind the blocks*taps*MR panel floats,
 * toff[t] = the offset of tap t's first pixel from the tile's in the staged x
 * (channel c, row r*dh, phase (s*dw) % sw, column (s*dw) / sw), so conv_ig_fwd's tap loop
 * is one flat loop. global = (taps, groups*kblocks). */
__kernel void conv_ig_pack_w(__global const REAL *restrict w, __global REAL *restrict wp,
                             const int Kg, const int taps, const int kblocks, const int blocks,
                             const int R, const int S, const int sw, const int dh, const int dw,
                             const int Hs, const int Ws, const int channels_last)
{
    const int t = get_global_id(0), blk = get_global_id(1);
    if (t >= taps || blk >= blocks) return;
    const int grp = blk / kblocks, k0 = (blk - grp * kblocks) * MR;
    const int RS = R * S, c = t / RS, rs = t - c * RS, r = rs / S, s = rs - r * S;
    const int src_tap = channels_last ? rs * (taps / RS) + c : t;
    __global REAL *dst = wp + ((ulong)blk * taps + t) * MR;
#pragma unroll
    for (int i = 0; i < MR; ++i)
        dst[i] = k0 + i < Kg ? w[((ulong)grp * Kg + k0 + i) * taps + src_tap] : (REAL)0;
    if (blk == 0) {
        __global int *toff = (__global int *)(wp + (ulong)blocks * taps * MR);
        toff[t] = ((c * Hs + r * dh) * sw + (s * dw) % sw) * Ws + (s * dw) / sw;
    }
}

/* y rows p0.. of channels k0.. at columns q0..: acc + bias, ReLU, masked at the edges. */
static inline __attribute__((always_inline)) void
ig_store(REALV acc[TP][MR][NV], __global REAL *y, const int rows, const int P, const int Q,
         const int p0, const int q0, __global const REAL *bias, const int has_bias, const int relu)
{
#pragma unroll
    for (int i = 0; i < MR; ++i) {
        if (i >= rows) break;
        const REAL b = has_bias ? bias[i] : (REAL)0;
#pragma unroll
        for (int tp = 0; tp < TP; ++tp) {
            if (p0 + tp >= P) break;
            __global REAL *yrow = y + ((ulong)i * P + p0 + tp) * Q;
#pragma unroll
            for (int tq = 0; tq < TQ; ++tq) {
                REALV v = acc[tp][i][tq] + (REALV)(b);
                if (relu) v = fmax(v, (REALV)0);
                const int q = q0 + tq * VW;
                if (q + VW <= Q) {
                    VSTORE(v, yrow + q);
                } else {
                    REAL tmp[VW];
                    VSTORE(v, tmp);
                    for (int e = 0; e < VW && q + e < Q; ++e) yrow[q + e] = tmp[e];
                }
            }
        }
    }
}

/* The same tile into NHWC y (y at the image's pixel (0, 0), channel k0): each pixel's
 * MR channels are adjacent, so the tile is written pixel by pixel. */
static inline __attribute__((always_inline)) void
ig_store_nhwc(REALV acc[TP][MR][NV], __global REAL *y, const int rows, const int K, const int P,
              const int Q, const int p0, const int q0, __global const REAL *bias, const int has_bias,
              const int relu)
{
    REAL b[MR];
#pragma unroll
    for (int i = 0; i < MR; ++i) b[i] = has_bias && i < rows ? bias[i] : (REAL)0;
#pragma unroll
    for (int tp = 0; tp < TP; ++tp) {
        if (p0 + tp >= P) break;
#pragma unroll
        for (int tq = 0; tq < TQ; ++tq) {
            REALV v[MR];
#pragma unroll
            for (int i = 0; i < MR; ++i) {
                v[i] = acc[tp][i][tq] + (REALV)(b[i]);
                if (relu) v[i] = fmax(v[i], (REALV)0);
            }
            const int q = q0 + tq * VW;
            __global REAL *ypix = y + ((ulong)(p0 + tp) * Q + q) * K;
            if (rows == MR && q + VW <= Q) {
                /* Whole tiles: every lane a constant index, so no private copy. */
#pragma unroll
                for (int e = 0; e < VW; ++e)
#pragma unroll
                    for (int i = 0; i < MR; ++i) ypix[(ulong)e * K + i] = VELEM(v[i], e);
                continue;
            }
            REAL tmp[MR][VW];
#pragma unroll
            for (int i = 0; i < MR; ++i) VSTORE(v[i], tmp[i]);
            for (int e = 0; e < VW && q + e < Q; ++e, ypix += K)
                for (int i = 0; i < rows; ++i) ypix[i] = tmp[i][e];
        }
    }
}

/* Forward. Work-item (qt, blk, pt_img) owns channels [k0, k0 + MR) of group
 * blk / kblocks, output rows [p0, p0 + TP) and columns [q0, q0 + TQ*VW) of
 * image pt_img / ptiles of the chunk. xs as conv_ig_stage_x wrote it (Hs
 * rows of sw phases of Ws floats a channel), wp as conv_ig_pack_w.
 * global = (ceil(Q/(TQ*VW)), groups*kblocks rounded up to IG_WG, nimg*ptiles);
 * local = (1, IG_WG, 1) or any. */
__kernel void conv_ig_fwd(__global const REAL *restrict xs, __global const REAL *restrict wp,
                          __global const REAL *restrict bias, __global REAL *restrict y,
                          const ulong y_off, const int C, const int Cg, const int K,
                          const int Kg, const int R, const int S, const int P, const int Q,
                          const int sh, const int sw, const int dh, const int dw, const int Hs,
                          const int Ws, const int kblocks, const int blocks, const int ptiles,
                          const int has_bias, const int relu, const int channels_last)
{
    const int qt = get_global_id(0), blk = get_global_id(1), tile = get_global_id(2);
    if (blk >= blocks) return;
    const int grp = blk / kblocks, kl = (blk - grp * kblocks) * MR;
    const int img = tile / ptiles, p0 = (tile - img * ptiles) * TP, q0 = qt * (TQ * VW);
    const ulong phase_row = (ulong)sw * Ws, row_step = (ulong)sh * phase_row;
    __global const REAL *xc = xs + ((ulong)(img * C + grp * Cg) * Hs + (ulong)p0 * sh) * phase_row + q0;
    const int taps = Cg * R * S;
    __global const REAL *wt = wp + (ulong)blk * taps * MR;
    __global const int *toff = (__global const int *)(wp + (ulong)blocks * taps * MR);

    REALV acc[TP][MR][NV];
#pragma unroll
    for (int tp = 0; tp < TP; ++tp)
#pragma unroll
        for (int i = 0; i < MR; ++i)
#pragma unroll
            for (int v = 0; v < NV; ++v) acc[tp][i][v] = (REALV)0;

    /* One GEMM k step a tap and row: the packed filter column against the row's pixels
     * (the filter broadcasts are shared between the rows). */
    for (int t = 0; t < taps; ++t, wt += MR) {
        __global const REAL *xt = xc + toff[t];
#pragma unroll
        for (int tp = 0; tp < TP; ++tp) micro_tile_step(acc[tp], wt, xt + tp * row_step);
    }
    const int k0 = grp * Kg + kl;
    __global REAL *yimg = y + y_off + (ulong)img * K * P * Q;
    if (channels_last)
        ig_store_nhwc(acc, yimg + k0, min(MR, Kg - kl), K, P, Q, p0, q0, bias + k0, has_bias, relu);
    else
        ig_store(acc, yimg + (ulong)k0 * P * Q, min(MR, Kg - kl), P, Q, p0, q0, bias + k0, has_bias, relu);
}
