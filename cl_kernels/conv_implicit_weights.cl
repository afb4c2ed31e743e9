/* anycl convolution: implicit-GEMM backward-weights for few input channels
 * and large or strided filters (the 7x7 stride-2 stem), NCHW float. The
 * forward pass is conv_implicit.cl; this pass reads the same staged input
 * (conv_ig_stage_x: zero-padded rows split into their `sw` phases,
 * xs[img][c][hh][ph][j] = x[img][c][hh - pt][j*sw + ph - pl]), so no im2col
 * column matrix is written.
 *
 *   dw[k][c][r][s] = sum over (img, p, q) of dy[img][k][p][q] *
 *                    xs[img][c][p*sh + r*dh][(s*dw) % sw][q + (s*dw) / sw]
 *
 * conv_igw_tiles: a work-group takes one segment of the output rows (the
 *   batch's images one after another) and its work-items the register tiles
 *   of dw: MR output channels by NT taps (flattened (c, r, s)), each an
 *   MR x NT block of VW-wide accumulators along q, fed by MR dy vectors and
 *   one staged-x vector a tap (MR*NT FMAs for MR + NT loads). At the end the
 *   lanes are summed in a fixed order and the tile written to the segment's
 *   partial dw.
 * conv_igw_sum: dw = the segments' partials summed in segment order (plus
 *   dw itself for a later batch chunk): no atomics, the same bits every run.
 *
 * Tunables (every one a -D define; the defaults are correct on any OpenCL
 * 1.2 device):
 *   REAL   element type (float)
 *   VW     vector width along output columns: 1, 2, 4, 8 or 16
 *   MR     output channels per work-item
 *   NT     filter taps per work-item
 *   IGW_WG        host: work-items per work-group (tiles sharing a segment,
 *                 whose dy and staged x stay in cache between them)
 *   IGW_SEG_ROWS  host: output rows a segment (a work-group along the
 *                 reduction, one partial dw) sums; the count follows from
 *                 the problem alone, so the result is the same bits on any
 *                 device or sub-device
 *
 * Layouts: xs as above (Hs rows of sw phases of Ws floats a channel, Ws at
 * least Q rounded up to VW plus the widest tap offset), dy[n][K][P][Q],
 * dw[K][Cg][R][S], part[segment][K][Cg*R*S]; Cg = C/groups, Kg = K/groups. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef VW
#define VW 4        /* vector width along output columns */
#endif
#ifndef MR
#define MR 4        /* output channels per work-item */
#endif
#ifndef NT
#define NT 4        /* filter taps per work-item */
#endif
#ifndef IGW_WG
#define IGW_WG 16   /* host: work-items per work-group */
#endif
#ifndef IGW_SEG_ROWS
#define IGW_SEG_ROWS 64 /* host: output rows a segment sums */
#endif

#include "common.h"

#if VW > 1
#define INTV CONCAT(int, VW)
#endif

/* The lanes summed in halves (a fixed order): a few adds, not a serial chain of VW. */
static inline REAL igw_lane_sum(const REALV v)
{
#if VW == 1
    return v;
#else
#if VW == 16
    const CONCAT(REAL, 8) v8 = v.lo + v.hi;
#elif VW == 8
    const CONCAT(REAL, 8) v8 = v;
#endif
#if VW >= 8
    const CONCAT(REAL, 4) v4 = v8.lo + v8.hi;
#elif VW == 4
    const CONCAT(REAL, 4) v4 = v;
#endif
#if VW >= 4
    const CONCAT(REAL, 2) v2 = v4.lo + v4.hi;
#else
    const CONCAT(REAL, 2) v2 = v;
#endif
    return v2.x + v2.y;
#endif
}

/* Work-item (tile, seg): tile = (group, channel block, tap block), tap blocks
 * fastest so neighbouring work-items share dy rows; rows [seg*seg_rows, ..)
 * of the nimg*P output rows from dy_off on.
 * dy_end: dy's length in elements, so a last vector past Q is read whole only inside it.
 * global = (tiles rounded up to IGW_WG, segments); local = (IGW_WG, 1) or any. */
__kernel void conv_igw_tiles(__global const REAL *restrict xs, __global const REAL *restrict dy,
                             const ulong dy_off, __global REAL *restrict part, const int C, const int Cg,
                             const int K, const int Kg, const int R, const int S, const int P, const int Q,
                             const int sh, const int sw, const int dh, const int dw, const int Hs,
                             const int Ws, const int kblocks, const int tblocks, const int tiles,
                             const int rows, const int seg_rows, const ulong dy_end)
{
    const int tile = get_global_id(0), seg = get_global_id(1);
    if (tile >= tiles) return;
    const int per_group = kblocks * tblocks, grp = tile / per_group;
    const int kb = (tile - grp * per_group) / tblocks, tb = tile - grp * per_group - kb * tblocks;
    const int taps = Cg * R * S, RS = R * S, k0 = grp * Kg + kb * MR, t0 = tb * NT;
    const ulong phase_row = (ulong)sw * Ws, plane = (ulong)Hs * phase_row, row_step = (ulong)sh * phase_row;

    /* Each tap's offset within an image's staged x; taps past the last read tap 0. */
    ulong toff[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const int tap = t0 + t < taps ? t0 + t : 0, c = tap / RS, rs = tap - c * RS, r = rs / S, s = rs - r * S;
        toff[t] = (ulong)(grp * Cg + c) * plane + (ulong)r * dh * phase_row + (ulong)((s * dw) % sw) * Ws +
                  (ulong)((s * dw) / sw);
    }
    /* Channels past the group's last read its first. */
    int kk[MR];
#pragma unroll
    for (int i = 0; i < MR; ++i) kk[i] = kb * MR + i < Kg ? k0 + i : k0;

    REALV acc[MR][NT];
#pragma unroll
    for (int i = 0; i < MR; ++i)
#pragma unroll
        for (int t = 0; t < NT; ++t) acc[i][t] = (REALV)0;

    const int qfull = Q - Q % VW, row_end = min(rows, (seg + 1) * seg_rows);
#if VW > 1
    INTV tail_lanes; /* all bits set in the lanes of the last vector before Q */
    {
        int lanes[VW];
        for (int e = 0; e < VW; ++e) lanes[e] = qfull + e < Q ? -1 : 0;
        tail_lanes = CONCAT(vload, VW)(0, lanes);
    }
#endif
    for (int row = seg * seg_rows; row < row_end; ++row) {
        const int img = row / P, p = row - img * P;
        __global const REAL *xrow = xs + (ulong)img * C * plane + (ulong)p * row_step;
        __global const REAL *dyrow[MR];
#pragma unroll
        for (int i = 0; i < MR; ++i) dyrow[i] = dy + dy_off + ((ulong)(img * K + kk[i]) * P + p) * Q;
        for (int q = 0; q < qfull; q += VW) {
            REALV dv[MR];
#pragma unroll
            for (int i = 0; i < MR; ++i) dv[i] = VLOAD(dyrow[i] + q);
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const REALV xv = VLOAD(xrow + toff[t] + q);
#pragma unroll
                for (int i = 0; i < MR; ++i) acc[i][t] = fma(dv[i], xv, acc[i][t]);
            }
        }
#if VW > 1
        if (qfull < Q) {
            /* The last columns: dy zero past Q (the staged x is readable up to Ws). A
             * vector that stays inside dy is loaded whole and masked. */
            REALV dv[MR];
#pragma unroll
            for (int i = 0; i < MR; ++i) {
                if ((ulong)(dyrow[i] - dy) + qfull + VW <= dy_end) {
                    dv[i] = select((REALV)0, VLOAD(dyrow[i] + qfull), tail_lanes);
                } else {
                    REAL tmp[VW];
                    for (int e = 0; e < VW; ++e) tmp[e] = qfull + e < Q ? dyrow[i][qfull + e] : (REAL)0;
                    dv[i] = VLOAD(tmp);
                }
            }
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const REALV xv = VLOAD(xrow + toff[t] + qfull);
#pragma unroll
                for (int i = 0; i < MR; ++i) acc[i][t] = fma(dv[i], xv, acc[i][t]);
            }
        }
#endif
    }

    /* No early exit from these loops: every acc index stays a constant, so the
     * compiler keeps the tile in registers across the rows instead of in memory. */
    __global REAL *out = part + (ulong)seg * K * taps;
#pragma unroll
    for (int i = 0; i < MR; ++i)
#pragma unroll
        for (int t = 0; t < NT; ++t)
            if (kb * MR + i < Kg && t0 + t < taps) out[(ulong)(k0 + i) * taps + t0 + t] = igw_lane_sum(acc[i][t]);
}

/* dw[e] = (accumulate ? dw[e] : 0) + sum over seg < segments of part[seg][e], in
 * segment order. global = (count). */
__kernel void conv_igw_sum(__global const REAL *restrict part, __global REAL *restrict dw, const int count,
                           const int segments, const int accumulate)
{
    const int e = get_global_id(0);
    if (e >= count) return;
    REAL s = accumulate ? dw[e] : (REAL)0;
    for (int seg = 0; seg < segments; ++seg) s += part[(ulong)seg * count + e];
    dw[e] = s;
}
