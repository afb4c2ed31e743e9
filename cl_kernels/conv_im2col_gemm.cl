/* anycl convolution: forward im2col fused into the packed GEMM (NCHW, float).
 * A work-group gathers one NR-wide column panel of the im2col matrix straight
 * from x into local memory, then each of its work-items multiplies one packed
 * filter panel (MR output channels) by it with the packed GEMM's register tile.
 * The column matrix is never written to global memory: on ResNet-18's stride-2
 * 3x3 layers writing it took the im2col path a sixth to a quarter of its time.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device). VW, MR, NR and KU come from the packed GEMM's table (the filter is
 * packed by its pack_a, so MR must match):
 *   REAL       element type (float)
 *   VW         vector width of the micro-tile's B loads and accumulators
 *   MR         rows of a packed filter panel = output channels a work-item owns
 *   NR         columns of the gathered panel = output pixels of a work-group
 *   KU         k-loop unroll of the micro-tile
 *   FUSED_WG   host: work-items of a work-group (filter panels sharing one
 *              gathered panel); unused by the code
 *   GATHER_AHEAD  0: off; else a work-item prefetches, while it gathers a
 *              channel, the cache lines of its channel this many turns on
 *              (each channel's rows lie a plane apart, a stride hardware
 *              prefetchers miss); needs a clang-based compiler (else ignored)
 *              whose runtime links __builtin_prefetch (Oclgrind does not)
 *   GATHER_RUNS  most strided runs (output rows) a VW-column block is
 *              gathered from by vector loads; blocks over more rows, a float
 *              at a time
 *
 * Layouts: x[n][C][H][W], packed filter Ap[(i/MR)*K*MR + kk*MR + i%MR] =
 * w_g[i][kk] (one group, kk = (c*R + r)*S + s), y[n][K][P][Q]. Output columns
 * j = f*P*Q + p*Q + q run over the nimg images of the launch side by side. */
#ifndef REAL
#define REAL float
#endif
#ifndef VW
#define VW 4
#endif
#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 8
#endif
#ifndef KU
#define KU 1
#endif
#ifndef FUSED_WG
#define FUSED_WG 16
#endif
#ifndef GATHER_AHEAD
#define GATHER_AHEAD 0 /* prefetch distance in a work-item's channels; 0: none */
#endif
#ifndef GATHER_RUNS
#define GATHER_RUNS 4 /* most stride-sw runs a planned VW-column block reads */
#endif
#define GATHER_PLAN (GATHER_RUNS + 3) /* ints of a block's plan: count, lowest, highest, starts */

#define MICRO_TILE_B_SPACE __local
#include "common.h"
#include "micro_tile.h"
#include "prefetch.h"

/* Where each column of the panel reads x for each tap: offs[(r*S + s)*NR + jj] =
 * the offset of x[b][0][p*sh + r*dh - pt][q*sw + s*dw - pl] from image 0,
 * channel 0, for column jj's (b, p, q) (the panel's first is image b0, pixel
 * (p0, q0)), or -1 where that is padding or past image nimg - 1. The taps are
 * shared out over the work-group; columns are walked with counters, no division. */
static void tap_offsets(__local int *offs, int lid, int lsize, int H, int W, int R, int S, int P, int Q,
                        int sh, int sw, int pt, int pl, int dh, int dw, int b0, int p0, int q0, int nimg,
                        int image)
{
    for (int rs = lid; rs < R * S; rs += lsize) {
        const int r = rs / S, s = rs - r * S;
        int b = b0, p = p0, q = q0;
        for (int jj = 0; jj < NR; ++jj) {
            const int ih = p * sh + r * dh - pt, iw = q * sw + s * dw - pl;
            const int inside = b < nimg && ih >= 0 && ih < H && iw >= 0 && iw < W;
            offs[rs * NR + jj] = inside ? b * image + ih * W + iw : -1;
            if (++q == Q) {
                q = 0;
                if (++p == P) { p = 0; ++b; }
            }
        }
    }
}

/* `count` entries of a channel's panel rows through the offset table: a loop
 * of unconditional loads (padding reads the channel's first element and
 * is replaced by 0) that the compiler can vectorise: the table is built once
 * a panel, whereas per-channel segment copies redo the geometry for every
 * channel. xc is channel c of image 0. */
static void gather_scalar(__local REAL *out, const __global REAL *xc, const __local int *offs, int count)
{
    for (int i = 0; i < count; ++i) {
        const int o = offs[i];
        const REAL v = xc[max(o, 0)];
        out[i] = o >= 0 ? v : (REAL)0;
    }
}

#if (VW == 8 || VW == 16) && NR % VW == 0
#define GATHER_INTV CONCAT(int, VW)
#if VW == 8
#define GATHER_LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define GATHER_EVENS(a, b) ((REALV)((a).s0, (a).s2, (a).s4, (a).s6, (b).s1, (b).s3, (b).s5, (b).s7))
#else
#define GATHER_LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define GATHER_EVENS(a, b) ((REALV)((a).s0, (a).s2, (a).s4, (a).s6, (a).s8, (a).sa, (a).sc, (a).se, \
                                    (b).s1, (b).s3, (b).s5, (b).s7, (b).s9, (b).sb, (b).sd, (b).sf))
#endif

/* Lanes xc[at + u*sw], u < VW, for sw 1 or 2 (the even lanes of two loads,
 * the second ending on the last one; lane by lane, as Oclgrind cannot run
 * .even/.odd concatenated). */
static REALV gather_run(const __global REAL *xc, int at, int sw)
{
    if (sw == 1) return VLOAD(xc + at);
    const REALV a = VLOAD(xc + at), b = VLOAD(xc + at + VW - 1);
    return GATHER_EVENS(a, b);
}

/* How every channel reads VW-column block b of the panel's tap rows (the
 * channels' offsets differ by their plane only), made once a panel: the
 * block's inside columns as at most GATHER_RUNS stride-sw runs (a run per
 * output row it touches), plan = runs + b*GATHER_PLAN: plan[0] the count,
 * plan[1] and plan[2] the lowest and highest first offset, plan[3 + i] run
 * i's first offset (that of lane 0, read or not) and masks[(b*GATHER_RUNS +
 * i)*VW ..] the lanes it gives. plan[0] = -1 (more runs, or a stride other
 * than 1 and 2): the block is gathered a float at a time. */
static void plan_block(__local int *runs, __local int *masks, const __local int *offs, int b, int sw)
{
    const __local int *o = offs + b * VW;
    __local int *plan = runs + b * GATHER_PLAN;
    int count = sw == 1 || sw == 2 ? 0 : -1, lowest = INT_MAX, highest = INT_MIN;
    for (int u = 0; u < VW && count >= 0; ++u) {
        if (o[u] < 0) continue;
        const int at = o[u] - u * sw;
        int i = 0;
        while (i < count && plan[3 + i] != at) ++i;
        if (i < count) continue;
        if (count == GATHER_RUNS) {
            count = -1;
            break;
        }
        plan[3 + count++] = at;
        lowest = min(lowest, at);
        highest = max(highest, at);
    }
    plan[0] = count;
    plan[1] = lowest;
    plan[2] = highest;
    const GATHER_INTV ov = CONCAT(vload, VW)(0, o);
    for (int i = 0; i < count; ++i)
        CONCAT(vstore, VW)((ov >= 0) & (ov == (GATHER_INTV)plan[3 + i] + GATHER_LANES * sw), 0,
                           masks + (b * GATHER_RUNS + i) * VW);
}

/* The blocks of the tap rows tap_offsets gave work-item lid (it wrote them:
 * no barrier between). */
static void plan_panel(__local int *runs, __local int *masks, const __local int *offs, int lid, int lsize,
                       int taps, int sw)
{
    for (int rs = lid; rs < taps; rs += lsize)
        for (int b = rs * NR / VW; b < (rs + 1) * NR / VW; ++b) plan_block(runs, masks, offs, b, sw);
}

/* Channel c's R*S rows of the panel, VW columns at a time, as plan_block
 * planned them: a planned block is a strided vector load (two for stride 2)
 * and a select a run (one float a lane took a third of ResNet-18's 56x56
 * stride-2 forward layer; a 16-lane hardware gather an eighth of its 14x14
 * and 7x7 ones); other blocks, and loads that would leave [lo, hi) (x around
 * xc), take gather_scalar. */
static void gather_channel(__local REAL *out, const __global REAL *xc, const __local int *offs,
                           const __local int *runs, const __local int *masks, int taps, int sw, int lo, int hi)
{
    const int span = (VW - 1) * sw;
    for (int b = 0; b < taps * NR / VW; ++b) {
        const __local int *plan = runs + b * GATHER_PLAN;
        const int count = plan[0];
        if (count >= 0 && plan[1] >= lo && plan[2] + span < hi) {
            REALV v = (REALV)0;
            for (int i = 0; i < count; ++i)
                v = select(v, gather_run(xc, plan[3 + i], sw),
                           CONCAT(vload, VW)(0, masks + (b * GATHER_RUNS + i) * VW));
            VSTORE(v, out + b * VW);
        } else {
            gather_scalar(out + b * VW, xc, offs + b * VW, VW);
        }
    }
}
#else
static void gather_channel(__local REAL *out, const __global REAL *xc, const __local int *offs,
                           const __local int *runs, const __local int *masks, int taps, int sw, int lo, int hi)
{
    gather_scalar(out, xc, offs, taps * NR);
}
static void plan_panel(__local int *runs, __local int *masks, const __local int *offs, int lid, int lsize,
                       int taps, int sw)
{
}
#endif

/* Prefetches the cache lines of channel xc that its panel's R*S taps read:
 * per filter row, a line's worth of columns of its first tap at a time and
 * its last tap's last column (the row's other taps read between them). */
static void prefetch_channel(const __global REAL *xc, const __local int *offs, int R, int S, int sw)
{
#if GATHER_AHEAD
    const int step = max(1, LINE_REALS / sw);
    for (int r = 0; r < R; ++r) {
        const __local int *first = offs + r * S * NR, *last = first + (S - 1) * NR;
        for (int jj = 0; jj < NR; jj += step)
            if (first[jj] >= 0) prefetch_line(xc + first[jj]);
        if (last[NR - 1] >= 0) prefetch_line(xc + last[NR - 1]);
    }
#endif
}

/* The MR x NR tile at output channels i0.., columns j0.. into y (channel 0 of
 * image 0), masked to m channels and n columns; columns wrap into the next
 * image every P*Q. */
static inline __attribute__((always_inline)) void
store_tile(REALV acc[MR][NV], __global REAL *y, const int m, const int n, const int i0, const int j0,
           const int PQ, const ulong image)
{
    const int f = j0 / PQ, pq0 = j0 - f * PQ;
    __global REAL *yrow = y + (ulong)f * image + (ulong)i0 * PQ + pq0;
    const int rows = min(MR, m - i0), cols = min(NR, n - j0);
    const int whole = cols == NR && pq0 + NR <= PQ;
#pragma unroll
    for (int r = 0; r < MR; ++r, yrow += PQ) {
        if (r >= rows) break;
        if (whole) {
#pragma unroll
            for (int c = 0; c < NV; ++c) VSTORE(acc[r][c], yrow + c * VW);
            continue;
        }
        REAL tmp[NR];
#pragma unroll
        for (int c = 0; c < NV; ++c) VSTORE(acc[r][c], tmp + c * VW);
        __global REAL *ys = yrow;
        for (int j = 0, pq = pq0; j < cols; ++j, ++pq) {
            if (pq == PQ) {
                pq = 0;
                ys += image - PQ;
            }
            ys[j] = tmp[j];
        }
    }
}

/* y_g = W_g * im2col(x_g) for group grp of nimg images. Work-group (jp, .)
 * owns output columns [jp*NR, jp*NR + NR); its work-items first gather the
 * panel's channels (channel c by local item c mod size), then item ti owns
 * output channels [ti*MR, ti*MR + MR) of the group. panel holds Cg*R*S*NR
 * floats, then R*S*NR ints (tap_offsets'), then R*S*NR/VW blocks' plans:
 * GATHER_PLAN ints each (runs) and GATHER_RUNS*VW ints each (masks)
 * (plan_block's); Ap is the group's packed filter;
 * x (at most INT_MAX floats) and y start at image 0.
 * global = (ceil(nimg*P*Q/NR), ceil(Kg/MR) rounded up to the local size, 1),
 * local = (1, FUSED_WG, 1) or any (1, L, 1). */
__kernel void conv_im2col_gemm(__global const REAL *restrict x, __global const REAL *restrict Ap,
                               __global REAL *restrict y, const ulong y_off, __local REAL *panel,
                               const int C, const int H,
                               const int W, const int Cg, const int grp, const int R, const int S,
                               const int P, const int Q, const int sh, const int sw, const int pt,
                               const int pl, const int dh, const int dw, const int nimg, const int K,
                               const int Kg)
{
    const int jp = get_global_id(0), ti = get_global_id(1);
    const int lid = get_local_id(1), lsize = get_local_size(1);
    const int PQ = P * Q, n = nimg * PQ, taps = Cg * R * S;
    const ulong plane = (ulong)H * W;

    const int j0 = jp * NR;
    const int rs_taps = R * S;
    __local int *offs = (__local int *)(panel + (ulong)taps * NR);
    __local int *runs = offs + rs_taps * NR, *masks = runs + GATHER_PLAN * rs_taps * NR / VW;
    if (j0 < n) {  /* uniform over the work-group, so the barriers below are safe */
        const int f0 = j0 / PQ, pq0 = j0 - f0 * PQ, p0 = pq0 / Q, q0 = pq0 - p0 * Q;
        tap_offsets(offs, lid, lsize, H, W, R, S, P, Q, sh, sw, pt, pl, dh, dw, f0, p0, q0, nimg,
                    C * (int)plane);
        plan_panel(runs, masks, offs, lid, lsize, rs_taps, sw);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (j0 < n)
        for (int c = lid; c < Cg; c += lsize) {
            const int ahead = c + GATHER_AHEAD * lsize;
            if (GATHER_AHEAD && ahead < Cg)
                prefetch_channel(x + (ulong)(grp * Cg + ahead) * plane, offs, R, S, sw);
            gather_channel(panel + (ulong)c * rs_taps * NR, x + (ulong)(grp * Cg + c) * plane, offs, runs, masks,
                           rs_taps, sw, -(grp * Cg + c) * (int)plane, (nimg * C - grp * Cg - c) * (int)plane);
        }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (j0 >= n || ti * MR >= Kg) return;

    REALV acc[MR][NV];
    micro_tile(acc, Ap + (ulong)ti * taps * MR, panel, taps);
    store_tile(acc, y + y_off + (ulong)grp * Kg * PQ, Kg, n, ti * MR, j0, PQ, (ulong)K * PQ);
}
