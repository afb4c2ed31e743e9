/* anycl convolution: im2col / col2im family and the packing kernels that feed
 * the GEMM family's packed micro-kernel (NCHW, float).
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL        element type (float)
 *   MR          row-panel height of packed A; must equal the GEMM's MR
 *   NR          column-panel width of packed B; must equal the GEMM's NR
 *   I2C_VW      vector width of the copies in im2col_packed and conv_pack_x_1x1_strided
 *   C2I_VW      dx elements along w produced by one col2im work-item (its
 *               stride-2 path: 4, 8 or a multiple of 16)
 *   C2I_AHEAD   0: off; else col2im's stride-2 path prefetches, for each tap
 *               it reads, the col row this many rows on, which the work-group
 *               that many dx row pairs on reads (the R*S streams lie a plane
 *               apart, more than hardware prefetchers follow); needs a
 *               clang-based compiler (else ignored) whose runtime links
 *               __builtin_prefetch (Oclgrind does not)
 *   PACK_AHEAD  0: off; else conv_pack_x_1x1_strided prefetches its run of the
 *               channel this many on, which a later work-group reads (a
 *               group's rows are a short stream in one plane, too short for
 *               hardware prefetchers); needs what C2I_AHEAD needs
 *   DYA_PIX     pixels (columns of packed A) one conv_pack_dy_a work-item writes
 *   DBIAS_LWS   work-group size of conv_dbias (power of two, fixed by
 *               reqd_work_group_size, so the host must launch with it)
 *   C2I_MAX_COL host: most col floats one backward-data chunk of images
 *               writes before col2im reads them (unused by the code)
 *   BWW_MAX_K   host: longest reduction (images x output pixels) of one
 *               im2col backward-weights GEMM over gathered x; longer ones run
 *               in chunks of images summed with beta = 1, so the work-items'
 *               packed panels stay in L2 (unused by the code)
 *
 * Packed layouts (GEMM contract, all matrices row-major):
 *   Ap[(i/MR)*K*MR + kk*MR + i%MR] = A[i][kk], rows >= M zero-filled to MR
 *   Bp[(j/NR)*K*NR + kk*NR + j%NR] = B[kk][j], cols >= N zero-filled to NR
 *
 * Conventions shared by all kernels: x[n][C][H][W], w[K][Cg][R][S],
 * y[n][K][P][Q]; Cg = C/groups, Kg = K/groups; grp selects the group. The
 * host chunks the batch, so every tensor comes with a ulong element offset
 * pointing at the first image of the chunk and nimg is the chunk size.
 * All kernels guard their global ids, so global sizes may be rounded up to
 * any local size. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef MR
#define MR 4        /* packed-A panel height; must match the GEMM */
#endif
#ifndef NR
#define NR 8        /* packed-B panel width; must match the GEMM */
#endif
#ifndef C2I_VW
#define C2I_VW 8    /* dx outputs along w per col2im work-item (even) */
#endif
#ifndef C2I_AHEAD
#define C2I_AHEAD 0 /* col rows col2im prefetches ahead; 0: none */
#endif
#ifndef PACK_AHEAD
#define PACK_AHEAD 0 /* channels conv_pack_x_1x1_strided prefetches ahead; 0: none */
#endif
#ifndef I2C_VW
#define I2C_VW 4    /* vector width of im2col_packed copies: 1, 2, 4, 8 or 16 */
#endif
#ifndef DYA_PIX
#define DYA_PIX 16  /* pixels a conv_pack_dy_a work-item transposes */
#endif
#ifndef DBIAS_LWS
#define DBIAS_LWS 64 /* conv_dbias work-group size (power of two) */
#endif
#ifndef C2I_MAX_COL
#define C2I_MAX_COL 4194304 /* host: col floats a backward-data chunk */
#endif
#ifndef BWW_MAX_K
#define BWW_MAX_K 4096 /* host: longest backward-weights GEMM reduction a launch */
#endif

#include "prefetch.h"

#define I2C_CAT_(a, b) a##b
#define I2C_CAT(a, b) I2C_CAT_(a, b)
#if I2C_VW == 1
#define I2C_VLOAD(i, p) ((p)[(i)])
#define I2C_VSTORE(v, i, p) ((p)[(i)] = (v))
#define I2C_EVEN(p) ((p)[0])
#else
#define I2C_VLOAD(i, p) I2C_CAT(vload, I2C_VW)((i), (p))
#define I2C_VSTORE(v, i, p) I2C_CAT(vstore, I2C_VW)((v), (i), (p))
#if I2C_VW == 16
#define I2C_EVEN(p) ((I2C_CAT(REAL, 16))(vload16(0, (p)).even, vload16(0, (p) + 16).even))
#elif I2C_VW == 8
#define I2C_EVEN(p) (vload16(0, (p)).even)
#elif I2C_VW == 4
#define I2C_EVEN(p) (vload8(0, (p)).even)
#else
#define I2C_EVEN(p) (vload4(0, (p)).even)
#endif
#endif /* I2C_EVEN(p): p[0], p[2], ... as one I2C_VW vector */

/* First t >= 0 with base + t*step >= 0 (step > 0). */
static inline int c2_first_nonneg(int base, int step) {
    return base >= 0 ? 0 : (-base + step - 1) / step;
}
/* One past the last t with base + t*step <= lim - 1 (0 if none). */
static inline int c2_end_below(int base, int step, int lim) {
    return base > lim - 1 ? 0 : (lim - 1 - base) / step + 1;
}

#if NR % 16 == 0
/* REAL is float in this family (kernel_library.cpp builds it for float only). */
typedef float16 i2c_v16;

/* Lane-by-lane vector constructors, which the compiler makes one two-source
 * permute each: the same as swizzles, (a.even, b.even), crash Oclgrind's
 * uninitialised-value check, and shuffle2 compiles to a lane loop on POCL. */
static inline i2c_v16 i2c_even(i2c_v16 a, i2c_v16 b)
{
    return (i2c_v16)(a.s0, a.s2, a.s4, a.s6, a.s8, a.sa, a.sc, a.se,
                     b.s0, b.s2, b.s4, b.s6, b.s8, b.sa, b.sc, b.se);
}
static inline i2c_v16 i2c_zip_lo(i2c_v16 a, i2c_v16 b)
{
    return (i2c_v16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3,
                     a.s4, b.s4, a.s5, b.s5, a.s6, b.s6, a.s7, b.s7);
}
static inline i2c_v16 i2c_zip_hi(i2c_v16 a, i2c_v16 b)
{
    return (i2c_v16)(a.s8, b.s8, a.s9, b.s9, a.sa, b.sa, a.sb, b.sb,
                     a.sc, b.sc, a.sd, b.sd, a.se, b.se, a.sf, b.sf);
}

/* a[i] = row i of a 16x16 tile, transposed in place: four rounds of pairing
 * row i with row i + 8 and interleaving them (a perfect shuffle). */
static inline void i2c_transpose16(i2c_v16 *a)
{
#pragma unroll
    for (int round = 0; round < 4; ++round) {
        i2c_v16 t[16];
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            t[2 * i] = i2c_zip_lo(a[i], a[i + 8]);
            t[2 * i + 1] = i2c_zip_hi(a[i], a[i + 8]);
        }
#pragma unroll
        for (int i = 0; i < 16; ++i) a[i] = t[i];
    }
}

/* Lanes t < 16: x[row + (q0 + t)*sw + soff] for lo <= t < hi, else 0. Strides
 * 1 and 2 read one window of 16*sw floats when it lies inside
 * [x_first, x_end) (lanes outside [lo, hi) are read and dropped), else, and
 * for other strides, one float per lane. */
static inline i2c_v16 i2c_row16(__global const float *x, ulong x_first, ulong x_end, ulong row,
                                int start, int sw, int lo, int hi)
{
    const long first = (long)row + start;
    if ((sw == 1 || sw == 2) && first >= (long)x_first && first + 16 * sw <= (long)x_end) {
        const __global float *xs = x + first;
        const i2c_v16 v = sw == 1 ? vload16(0, xs) : i2c_even(vload16(0, xs), vload16(0, xs + 16));
        const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        return select((i2c_v16)0, v, lane >= (int16)lo && lane < (int16)hi);
    }
    float tmp[16];
    for (int t = 0; t < 16; ++t) tmp[t] = t >= lo && t < hi ? x[row + start + t * sw] : 0.f;
    return vload16(0, tmp);
}
#endif

/* ---------------------------------------------------------------------------
 * Forward: col[(c*R + r)*S + s][j] of one group, j = f*P*Q + p*Q + q over
 * `fold` images side by side (f < fold), written straight into packed-B
 * layout (K = Cg*R*S, N = fold*P*Q) so the micro-kernel runs on it as is:
 * fold = 1 gives one block per image; a larger fold pads only the block's
 * last panel, not every image's (P*Q = 49 fills 64 columns of NR = 32).
 * One work-item owns channel c of panel jp: that is R*S*NR contiguous output
 * floats, so the (image, p, q) split happens once per work-item and the
 * inner loops only increment. Each panel row is cut into segments that stay
 * on one output row p; inside a segment the in-bounds range of q is computed
 * up front so the copy loop is branch-free (explicit vectors for strides
 * 1 and 2).
 * global = (ceil(fold*P*Q/NR), Cg, ceil(nimg/fold)) (panels fastest:
 * neighbours share input rows in cache); block bz (images bz*fold on, fewer
 * than fold in the last block) goes to colp + col_off + bz*col_stride
 * (col_stride >= ceil(fold*PQ/NR)*NR*Cg*R*S). */
__kernel void im2col_packed(__global const REAL *restrict x, ulong x_off,
                            __global REAL *restrict colp, ulong col_off, ulong col_stride,
                            int C, int H, int W, int Cg, int grp, int R, int S, int P, int Q,
                            int sh, int sw, int pt, int pl, int dh, int dw, int nimg, int fold)
{
    const int jp = get_global_id(0), c = get_global_id(1), bz = get_global_id(2);
    const int PQ = P * Q;
    if (c >= Cg || jp * NR >= fold * PQ || bz * fold >= nimg) return;

    const ulong plane = (ulong)H * W;
    const int b_end = min(nimg, (bz + 1) * fold);
    __global REAL *out = colp + col_off + (ulong)bz * col_stride +
                         (ulong)jp * Cg * R * S * NR + (ulong)c * R * S * NR;
    const int j0 = jp * NR;
    const int f0 = j0 / PQ, pq0 = j0 - f0 * PQ;
    const int p0 = pq0 / Q, q0 = pq0 - p0 * Q;

    for (int r = 0; r < R; ++r) {
        for (int s = 0; s < S; ++s, out += NR) {
            const int roff = r * dh - pt, soff = s * dw - pl;
            int jj = 0, p = p0, q = q0, b = bz * fold + f0;
            while (jj < NR) {
                const int seg = min(NR - jj, Q - q);
                const int ih = p * sh + roff;
                if (b < b_end && ih >= 0 && ih < H) {
                    const __global REAL *xr =
                        x + x_off + (ulong)b * C * plane + (ulong)(grp * Cg + c) * plane + ih * W;
                    const int iw0 = q * sw + soff;
                    int lo, hi;
                    if (sw == 1) {  /* common case: no integer division */
                        lo = clamp(-iw0, 0, seg);
                        hi = clamp(W - iw0, lo, seg);
                    } else {
                        lo = min(seg, c2_first_nonneg(iw0, sw));
                        hi = max(lo, min(seg, c2_end_below(iw0, sw, W)));
                    }
                    __global REAL *o = out + jj;
                    for (int t = 0; t < lo; ++t) o[t] = (REAL)0;
                    if (sw == 1) {
                        /* Runs are <= NR long, too short for the auto-vectoriser's
                         * main loop, hence explicit vectors. */
                        const __global REAL *xs = xr + iw0;
                        int t = lo;
                        for (; t + I2C_VW <= hi; t += I2C_VW)
                            I2C_VSTORE(I2C_VLOAD(0, xs + t), 0, o + t);
                        for (; t < hi; ++t) o[t] = xs[t];
                    } else if (sw == 2) {
                        /* The even elements of 2*I2C_VW loaded ones, 1.6x faster than
                         * scalar loads; a run's last vector load ends before its last
                         * element, so it never reads past x. */
                        const __global REAL *xs = xr + iw0;
                        int t = lo;
                        for (; t + I2C_VW < hi; t += I2C_VW)
                            I2C_VSTORE(I2C_EVEN(xs + 2 * t), 0, o + t);
                        for (; t < hi; ++t) o[t] = xs[2 * t];
                    } else {
                        for (int t = lo; t < hi; ++t) o[t] = xr[iw0 + t * sw];
                    }
                    for (int t = hi; t < seg; ++t) o[t] = (REAL)0;
                } else {
                    for (int t = 0; t < seg; ++t) out[jj + t] = (REAL)0;
                }
                jj += seg;
                q = 0;
                if (++p == P) { p = 0; ++b; }
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * Plain row-major col[(c*R + r)*S + s][p*Q + q] of one group (ld = P*Q), for
 * hosts/GEMMs that want an unpacked B. One work-item writes S rows of Q.
 * global = (P, Cg*R, nimg); image b goes to col + col_off + b*col_stride. */
__kernel void im2col(__global const REAL *restrict x, ulong x_off,
                     __global REAL *restrict col, ulong col_off, ulong col_stride,
                     int C, int H, int W, int Cg, int grp, int R, int S, int P, int Q,
                     int sh, int sw, int pt, int pl, int dh, int dw, int nimg)
{
    const int p = get_global_id(0), cr = get_global_id(1), b = get_global_id(2);
    if (p >= P || cr >= Cg * R || b >= nimg) return;
    const int c = cr / R, r = cr - c * R;
    const __global REAL *xc = x + x_off + (ulong)b * C * H * W + (ulong)(grp * Cg + c) * H * W;
    __global REAL *out = col + col_off + (ulong)b * col_stride + (ulong)cr * S * P * Q + (ulong)p * Q;
    const int ih = p * sh - pt + r * dh;
    const bool row_ok = ih >= 0 && ih < H;
    for (int s = 0; s < S; ++s, out += (ulong)P * Q) {
        const int iw0 = s * dw - pl;
        const int lo = row_ok ? min(Q, c2_first_nonneg(iw0, sw)) : Q;
        const int hi = row_ok ? max(lo, min(Q, c2_end_below(iw0, sw, W))) : Q;
        for (int q = 0; q < lo; ++q) out[q] = (REAL)0;
        for (int q = lo; q < hi; ++q) out[q] = xc[ih * W + iw0 + q * sw];
        for (int q = hi; q < Q; ++q) out[q] = (REAL)0;
    }
}

/* ---------------------------------------------------------------------------
 * col2im for strides 2x2, dilation 1: every tap (r, s) reaches the dx columns
 * of one parity from contiguous col entries, so a work-item sums, per block
 * of 16 (C2I_VW 4 or 8: C2I_VW) columns, two half vectors (even and odd
 * columns) with a vector load per tap and interleaves them in one store; runs
 * at the plane's edges take the same loads with their outside lanes zeroed.
 * C2I_VW a multiple of 16 gives a work-item C2I_VW/16 blocks, which share the
 * tap loop's index work. Taps are summed in (r, s) order like col2im's, so
 * both give bitwise the same dx. C2I_VW 4, 8 or a multiple of 16 (other
 * widths take col2im's loop). */
#if C2I_VW == 4
#define C2I_HV 2
#define C2I_BW 4
#define C2I_LANES (int2)(0, 1)
#define C2I_ZIP(e, o) ((I2C_CAT(REAL, 4))((e).s0, (o).s0, (e).s1, (o).s1))
#elif C2I_VW == 8
#define C2I_HV 4
#define C2I_BW 8
#define C2I_LANES (int4)(0, 1, 2, 3)
#define C2I_ZIP(e, o) ((I2C_CAT(REAL, 8))((e).s0, (o).s0, (e).s1, (o).s1, (e).s2, (o).s2, (e).s3, (o).s3))
#elif C2I_VW % 16 == 0
#define C2I_HV 8
#define C2I_BW 16
#define C2I_LANES (int8)(0, 1, 2, 3, 4, 5, 6, 7)
#define C2I_ZIP(e, o) ((I2C_CAT(REAL, 16))((e).s0, (o).s0, (e).s1, (o).s1, (e).s2, (o).s2, (e).s3, (o).s3, \
                                 (e).s4, (o).s4, (e).s5, (o).s5, (e).s6, (o).s6, (e).s7, (o).s7))
#endif
#ifdef C2I_HV
#define C2I_NB (C2I_VW / (2 * C2I_HV))
#define C2I_HALF I2C_CAT(REAL, C2I_HV)
#define C2I_HMASK I2C_CAT(int, C2I_HV)
#define C2I_VLOADH I2C_CAT(vload, C2I_HV)
#define C2I_VSTOREB I2C_CAT(vstore, C2I_BW)
/* Lanes u < C2I_HV: cc[at + u] for lo <= u < hi, else 0. One vector load when
 * the window lies inside the channel's col block [0, end) (lanes outside
 * [lo, hi) are read and dropped), else one float per lane. */
static C2I_HALF col2im_tap(const __global REAL *cc, long at, long end, int lo, int hi)
{
    if (at >= 0 && at + C2I_HV <= end)
        return select((C2I_HALF)0, C2I_VLOADH(0, cc + at), C2I_LANES >= (C2I_HMASK)lo && C2I_LANES < (C2I_HMASK)hi);
    REAL t[C2I_HV];
    for (int u = 0; u < C2I_HV; ++u) t[u] = u >= lo && u < hi ? cc[at + u] : (REAL)0;
    return C2I_VLOADH(0, t);
}

/* No restrict on helpers: Oclgrind cannot build the noalias scopes their inlining adds. */
static void col2im_stride2(const __global REAL *cc, __global REAL *o, int ih, int iw0, int nw,
                           int R, int S, int P, int Q, int pt, int pl, REAL beta)
{
    const int PQ = P * Q;
    const long end = (long)R * S * PQ;
    C2I_HALF even[C2I_NB], odd[C2I_NB];
#pragma unroll
    for (int k = 0; k < C2I_NB; ++k) even[k] = odd[k] = (C2I_HALF)0;
    /* Taps of the row's parity only; oh = ih + pt - r falls as r grows. */
    for (int r = (ih + pt) & 1; r < R && ih + pt - r >= 0; r += 2) {
        const int p = (ih + pt - r) >> 1;
        if (p >= P) continue;
        long at = (long)(r * S) * PQ + (long)p * Q;
#if C2I_AHEAD
        /* A row's first and last line: the hardware prefetchers stream between. */
        if (p + C2I_AHEAD < P)
            for (int s = 0; s < S; ++s) {
                const __global REAL *ahead = cc + at + (long)s * PQ + C2I_AHEAD * Q;
                prefetch_line(ahead);
                prefetch_line(ahead + Q - 1);
            }
#endif
        for (int s = 0; s < S; ++s, at += PQ) {
            const int base = iw0 + pl - s;  /* ow of column 0 of the run */
            const int par = base & 1, q0 = (base + par) >> 1;
            const int lo = max(0, -q0), hi = min(Q - q0, (nw - par + 1) / 2);
            C2I_HALF v[C2I_NB];
            if (lo == 0 && hi == C2I_NB * C2I_HV) {
#pragma unroll
                for (int k = 0; k < C2I_NB; ++k) v[k] = C2I_VLOADH(0, cc + at + q0 + k * C2I_HV);
            } else {
#pragma unroll
                for (int k = 0; k < C2I_NB; ++k)
                    v[k] = col2im_tap(cc, at + q0 + k * C2I_HV, end, lo - k * C2I_HV, hi - k * C2I_HV);
            }
            if (par) {
#pragma unroll
                for (int k = 0; k < C2I_NB; ++k) odd[k] += v[k];
            } else {
#pragma unroll
                for (int k = 0; k < C2I_NB; ++k) even[k] += v[k];
            }
        }
    }
#pragma unroll
    for (int k = 0; k < C2I_NB; ++k) {
        const int j0 = k * 2 * C2I_HV;
        const I2C_CAT(REAL, C2I_BW) mixed = C2I_ZIP(even[k], odd[k]);
        if (j0 + 2 * C2I_HV <= nw && beta == (REAL)0) {
            C2I_VSTOREB(mixed, 0, o + j0);
        } else if (j0 < nw) {
            REAL acc[2 * C2I_HV];
            C2I_VSTOREB(mixed, 0, acc);
            const int n = min(nw - j0, 2 * C2I_HV);
            if (beta == (REAL)0) {
                for (int j = 0; j < n; ++j) o[j0 + j] = acc[j];
            } else {
                for (int j = 0; j < n; ++j) o[j0 + j] = acc[j] + beta * o[j0 + j];
            }
        }
    }
}
#endif

/* ---------------------------------------------------------------------------
 * Backward-data: dx[b][grp*Cg + c][ih][iw] = beta*dx + sum over the (r, s) taps
 * that map onto (ih, iw) of col[(c*R + r)*S + s][p*Q + q], with col the
 * row-major result of W_g^T * dy_g (ld = P*Q). Gather form: each dx element is
 * owned by exactly one work-item, so no atomics and a fixed summation order
 * (r, s ascending) => bitwise deterministic. The stride congruence is solved
 * once per (r, s) instead of per element.
 * global = (ceil(W/C2I_VW), H, Cg*nimg). beta == 0 means dx is not read. */
__kernel void col2im(__global const REAL *restrict col, ulong col_off, ulong col_stride,
                     __global REAL *restrict dx, ulong dx_off,
                     int C, int H, int W, int Cg, int grp, int R, int S, int P, int Q,
                     int sh, int sw, int pt, int pl, int dh, int dw, int nimg, REAL beta)
{
    const int wb = get_global_id(0), ih = get_global_id(1), cb = get_global_id(2);
    const int iw0 = wb * C2I_VW;
    if (iw0 >= W || ih >= H || cb >= Cg * nimg) return;
    const int b = cb / Cg, c = cb - b * Cg;
    const int nw = min(C2I_VW, W - iw0);
    const int PQ = P * Q;
    const __global REAL *cc = col + col_off + (ulong)b * col_stride + (ulong)c * R * S * PQ;
#ifdef C2I_HV
    if (sh == 2 && sw == 2 && dh == 1 && dw == 1) {
        col2im_stride2(cc, dx + dx_off + (ulong)b * C * H * W + (ulong)(grp * Cg + c) * H * W + (ulong)ih * W + iw0,
                       ih, iw0, nw, R, S, P, Q, pt, pl, beta);
        return;
    }
#endif

    REAL acc[C2I_VW];
    for (int j = 0; j < C2I_VW; ++j) acc[j] = (REAL)0;
    /* Stride 2: the even and the odd dx columns of the run apart (iw0 is even). */
    REAL by_parity[2][C2I_VW / 2];
    for (int u = 0; u < C2I_VW / 2; ++u) by_parity[0][u] = by_parity[1][u] = (REAL)0;

    for (int r = 0; r < R; ++r) {
        const int oh = ih + pt - r * dh;
        if (oh < 0 || oh % sh != 0) continue;
        const int p = oh / sh;
        if (p >= P) continue;
        for (int s = 0; s < S; ++s) {
            const __global REAL *row = cc + (ulong)(r * S + s) * PQ + (ulong)p * Q;
            const int base = iw0 + pl - s * dw;  /* ow of j = 0 */
            int j = max(0, -base);
            if (sw == 1) {  /* contiguous, branch-free: vectorises */
                const int jend = min(nw, Q - base);
                for (; j < jend; ++j) acc[j] += row[base + j];
            } else if (sw == 2) {
                /* A tap reaches every other column of the run (those of base's
                 * parity) from contiguous col entries: a fixed-length masked
                 * loop instead of a modulo and a strided walk (2x faster). */
                const int odd = base & 1, q0 = (base + odd) / 2;
                const int u_lo = max(0, -q0), u_hi = min(min(C2I_VW / 2, Q - q0), (nw - odd + 1) / 2);
                REAL v[C2I_VW / 2];
#pragma unroll
                for (int u = 0; u < C2I_VW / 2; ++u) v[u] = u >= u_lo && u < u_hi ? row[q0 + u] : (REAL)0;
                if (odd) {
#pragma unroll
                    for (int u = 0; u < C2I_VW / 2; ++u) by_parity[1][u] += v[u];
                } else {
#pragma unroll
                    for (int u = 0; u < C2I_VW / 2; ++u) by_parity[0][u] += v[u];
                }
            } else {
                const int rem = (base + j) % sw;
                if (rem) j += sw - rem;
                for (int q = (base + j) / sw; j < nw && q < Q; j += sw, ++q) acc[j] += row[q];
            }
        }
    }
    if (sw == 2)
        for (int u = 0; u < C2I_VW / 2; ++u) acc[2 * u] = by_parity[0][u], acc[2 * u + 1] = by_parity[1][u];
    __global REAL *o = dx + dx_off + (ulong)b * C * H * W + (ulong)(grp * Cg + c) * H * W +
                       (ulong)ih * W + iw0;
    if (beta == (REAL)0) {
        for (int j = 0; j < nw; ++j) o[j] = acc[j];
    } else {
        for (int j = 0; j < nw; ++j) o[j] = acc[j] + beta * o[j];
    }
}

/* ---------------------------------------------------------------------------
 * Backward-weights B operand: col^T over the reduction index kk = b*P*Q + p*Q + q
 * (K = nimg*P*Q), columns j = (c*R + r)*S + s (N = Cg*R*S), in packed-B layout.
 * One work-item owns `rows` output rows from p0 of image b in panel jp:
 * rows*Q*NR contiguous output floats. With NR a multiple of 16 it builds 16
 * columns x 16 output pixels at a time as vectors along q (vector loads of
 * the x rows, even lanes for stride 2) and transposes them in registers, so
 * every store is a full 16-float run of a panel row (scalar stride-NR stores
 * took several times the device time on ResNet-18's 56x56 stride-2 layer);
 * rows > 1 packs rows*Q <= 16 pixels of Q < 16 rows into one tile. Otherwise
 * per column j the in-bounds q range is solved up front, so the q loop is
 * branch-free (stride-NR stores, stride-sw loads).
 * global = (ceil(P/rows), ceil(Cg*R*S/NR), nimg); output block at colp + col_off. */
__kernel void im2col_t_packed(__global const REAL *restrict x, ulong x_off,
                              __global REAL *restrict colp, ulong col_off,
                              int C, int H, int W, int Cg, int grp, int R, int S, int P, int Q,
                              int sh, int sw, int pt, int pl, int dh, int dw, int nimg, int rows)
{
    const int p0 = get_global_id(0) * rows, jp = get_global_id(1), b = get_global_id(2);
    const int PQ = P * Q, RS = R * S, CRS = Cg * R * S;
    if (p0 >= P || jp * NR >= CRS || b >= nimg) return;
    const int nrows = min(rows, P - p0);
    const ulong ktot = (ulong)nimg * PQ;
    __global REAL *out = colp + col_off + (ulong)jp * ktot * NR + ((ulong)b * PQ + (ulong)p0 * Q) * NR;
#if NR % 16 == 0
    const ulong plane = (ulong)H * W;
    const ulong x_end = x_off + (ulong)nimg * C * plane;
    const ulong xg = x_off + (ulong)b * C * plane + (ulong)grp * Cg * plane;
    /* Lane t of a block is row p0 + t / nq, column qb + t % nq. Q >= 16: one
     * row, q blocks of 16, the last one moved back to end at Q (rows written
     * twice hold the same values); Q < 16: whole rows, nrows*Q <= 16 lanes. */
    const int nq = min(16, Q), lanes = nrows * nq;
    for (int q0 = 0; q0 < Q; q0 += 16) {
        const int qb = Q >= 16 ? min(q0, Q - 16) : 0;
        for (int h = 0; h < NR / 16; ++h) {
            const int j0 = jp * NR + h * 16;
            int c = j0 / RS;
            int r = (j0 - c * RS) / S;
            int s = j0 - c * RS - r * S;
            i2c_v16 tile[16];
#pragma unroll
            for (int jj = 0; jj < 16; ++jj) {
                const int soff = s * dw - pl;
                const int q_lo = c2_first_nonneg(soff, sw), q_hi = min(c2_end_below(soff, sw, W), qb + nq);
                tile[jj] = (i2c_v16)0;
                for (int rr = 0; rr < nrows; ++rr) {
                    const int ih = (p0 + rr) * sh - pt + r * dh, t0 = rr * nq - qb; /* lane of q = 0 */
                    if (c < Cg && ih >= 0 && ih < H)
                        tile[jj] = as_float16(as_int16(tile[jj]) |
                                              as_int16(i2c_row16(x, x_off, x_end, xg + (ulong)c * plane + (ulong)ih * W,
                                                                 -t0 * sw + soff, sw, t0 + q_lo, t0 + q_hi)));
                }
                if (++s == S) {
                    s = 0;
                    if (++r == R) { r = 0; ++c; }
                }
            }
            i2c_transpose16(tile);
            __global REAL *o = out + (ulong)qb * NR + h * 16;
#pragma unroll
            for (int t = 0; t < 16; ++t)
                if (t < lanes) vstore16(tile[t], 0, o + (ulong)t * NR);
        }
    }
#else
    const __global REAL *xg = x + x_off + (ulong)b * C * H * W + (ulong)grp * Cg * H * W;
    for (int rr = 0; rr < nrows; ++rr, out += (ulong)Q * NR) {
        const int ih0 = (p0 + rr) * sh - pt;
        const int j0 = jp * NR;
        int c = j0 / RS;
        int r = (j0 - c * RS) / S;
        int s = j0 - c * RS - r * S;
        for (int jj = 0; jj < NR; ++jj) {
            __global REAL *o = out + jj;
            const int ih = ih0 + r * dh;
            if (c < Cg && ih >= 0 && ih < H) {
                const __global REAL *xr = xg + (ulong)c * H * W + ih * W;
                const int soff = s * dw - pl;
                const int lo = min(Q, c2_first_nonneg(soff, sw));
                const int hi = max(lo, min(Q, c2_end_below(soff, sw, W)));
                for (int q = 0; q < lo; ++q) o[q * NR] = (REAL)0;
                for (int q = lo; q < hi; ++q) o[q * NR] = xr[q * sw + soff];
                for (int q = hi; q < Q; ++q) o[q * NR] = (REAL)0;
            } else {
                for (int q = 0; q < Q; ++q) o[q * NR] = (REAL)0;
            }
            if (++s == S) {
                s = 0;
                if (++r == R) { r = 0; ++c; }
            }
        }
    }
#endif
}

/* ---------------------------------------------------------------------------
 * Pointwise forward B operand with the batch folded into the columns:
 * B[c][b*PQ + pq] = x[b][grp*Cg + c][pq] (K = Cg, N = nimg*PQ), packed-B
 * layout. One GEMM then covers the chunk and only the last panel of the
 * chunk is padded, not the last panel of every image. One work-item copies
 * the NR floats of channel c in panel jp: runs that stay in one image.
 * global = (Cg, ceil(nimg*PQ/NR), 1), channels fastest so a work-group's
 * stores are contiguous. Stride 1 and no padding, so H*W == PQ. */
__kernel void conv_pack_x_1x1(__global const REAL *restrict x, ulong x_off,
                              __global REAL *restrict bp,
                              int C, int Cg, int grp, int PQ, int nimg)
{
    const int c = get_global_id(0), jp = get_global_id(1);
    if (c >= Cg || jp * NR >= nimg * PQ) return;
    const int j0 = jp * NR;
    int b = j0 / PQ, pq = j0 - b * PQ;
    __global REAL *out = bp + ((ulong)jp * Cg + c) * NR;
#if NR % I2C_VW == 0
    if (pq + NR <= PQ) {
        /* The panel inside one image (every panel of a plane of at least NR
         * pixels but its last): vector copies. */
        const __global REAL *src = x + x_off + ((ulong)b * C + grp * Cg + c) * PQ + pq;
#pragma unroll
        for (int t = 0; t < NR; t += I2C_VW) I2C_VSTORE(I2C_VLOAD(0, src + t), 0, out + t);
        return;
    }
#endif
    for (int jj = 0; jj < NR;) {
        const int seg = min(NR - jj, PQ - pq);
        if (b < nimg) {
            const __global REAL *src = x + x_off + ((ulong)b * C + grp * Cg + c) * PQ + pq;
            for (int t = 0; t < seg; ++t) out[jj + t] = src[t];
        } else {
            for (int t = 0; t < seg; ++t) out[jj + t] = (REAL)0;
        }
        jj += seg;
        pq = 0;
        ++b;
    }
}

/* ---------------------------------------------------------------------------
 * conv_pack_x_1x1 of a strided 1x1 filter without padding (every sampled pixel
 * inside x): B[c][b*P*Q + p*Q + q] = x[b][grp*Cg + c][p*sh][q*sw], the same
 * packed-B layout and global size. A work-item's NR floats are runs that stay
 * on one output row. The host's work-groups are 16 panels of one channel, so
 * a work-group reads neighbouring rows of one plane (16 channels of one panel
 * a work-group measured 10-20% slower). */
__kernel void conv_pack_x_1x1_strided(__global const REAL *restrict x, ulong x_off,
                                      __global REAL *restrict bp,
                                      int C, int Cg, int grp, int H, int W, int P, int Q, int sh, int sw, int nimg)
{
    const int c = get_global_id(0), jp = get_global_id(1);
    const int PQ = P * Q;
    if (c >= Cg || jp * NR >= nimg * PQ) return;
    const int j0 = jp * NR;
    int b = j0 / PQ, pq = j0 - b * PQ;
    int p = pq / Q, q = pq - p * Q;
    __global REAL *out = bp + ((ulong)jp * Cg + c) * NR;
    const ulong plane = (ulong)H * W;
    for (int jj = 0; jj < NR;) {
        const int seg = min(NR - jj, Q - q);
        __global REAL *o = out + jj;
        if (b < nimg) {
            const __global REAL *src =
                x + x_off + ((ulong)b * C + grp * Cg + c) * plane + (ulong)p * sh * W + (ulong)q * sw;
            int t = 0;
#if PACK_AHEAD
            if (c + PACK_AHEAD < Cg) prefetch_run(src + PACK_AHEAD * plane, (seg - 1) * sw + 1);
#endif
            if (sw == 1) {
                for (; t < seg; ++t) o[t] = src[t];
            } else if (sw == 2) {
                /* The even elements of 2*I2C_VW loaded ones; a vector load ends
                 * before the run's last element, so it never reads past x. */
                for (; t + I2C_VW < seg; t += I2C_VW) I2C_VSTORE(I2C_EVEN(src + 2 * t), 0, o + t);
            }
            for (; t < seg; ++t) o[t] = src[t * sw];
        } else {
            for (int t = 0; t < seg; ++t) o[t] = (REAL)0;
        }
        jj += seg;
        q = 0;
        if (++p == P) { p = 0; ++b; }
    }
}

/* ---------------------------------------------------------------------------
 * Pointwise backward-weights B operand (1x1 filter, no padding, every sampled
 * pixel inside x): col^T, B[b*P*Q + p*Q + q][c] = x[b][grp*Cg + c][p*sh][q*sw]
 * (K = nimg*P*Q, N = Cg), packed-B layout. One work-item writes output row p
 * of image b in panel jp, Q*NR contiguous floats, pixel by pixel: each store
 * run is a whole NR-float row of the panel, its loads NR channel rows read
 * side by side (im2col_t_packed, for any filter, stores at stride NR).
 * global = (nimg*P, ceil(Cg/NR), 1); output block at colp. */
__kernel void conv_pack_x_t_1x1(__global const REAL *restrict x, ulong x_off,
                                __global REAL *restrict colp,
                                int C, int Cg, int grp, int H, int W, int P, int Q, int sh, int sw, int nimg)
{
    const int row = get_global_id(0), jp = get_global_id(1);
    if (row >= nimg * P || jp * NR >= Cg) return;
    const int b = row / P, p = row - b * P;
    const ulong plane = (ulong)H * W;
    const int nc = min(NR, Cg - jp * NR);
    const __global REAL *xr =
        x + x_off + ((ulong)b * C + grp * Cg + jp * NR) * plane + (ulong)p * sh * W;
    __global REAL *out = colp + (ulong)jp * nimg * P * Q * NR + (ulong)row * Q * NR;
    for (int q = 0; q < Q; ++q, out += NR) {
        const __global REAL *xq = xr + q * sw;
        for (int jj = 0; jj < nc; ++jj) out[jj] = xq[jj * plane];
        for (int jj = nc; jj < NR; ++jj) out[jj] = (REAL)0;
    }
}

/* ---------------------------------------------------------------------------
 * Backward-weights A operand: A[k][b*P*Q + pq] = dy[b][grp*Kg + k][pq]
 * (M = Kg, K = nimg*P*Q) in packed-A layout: a transpose of MR x DYA_PIX
 * blocks. One work-item reads DYA_PIX contiguous pixels of each of the MR
 * rows of panel ib and writes them as DYA_PIX*MR contiguous floats, so loads
 * and stores are both runs (a work-item per pixel stored MR floats at stride
 * MR from neighbouring work-items: scattered stores, 2x slower).
 * global = (ceil(P*Q/DYA_PIX), ceil(Kg/MR), nimg). */
__kernel void conv_pack_dy_a(__global const REAL *restrict dy, ulong dy_off,
                             __global REAL *restrict ap, ulong ap_off,
                             int K, int Kg, int grp, int PQ, int nimg)
{
    const int blk = get_global_id(0), ib = get_global_id(1), b = get_global_id(2);
    const int pq0 = blk * DYA_PIX;
    if (pq0 >= PQ || ib * MR >= Kg || b >= nimg) return;
    const ulong ktot = (ulong)nimg * PQ;
    __global REAL *out = ap + ap_off + (ulong)ib * ktot * MR + ((ulong)b * PQ + pq0) * MR;
    const __global REAL *src = dy + dy_off + ((ulong)b * K + grp * Kg + ib * MR) * PQ + pq0;
    const int rows = min(MR, Kg - ib * MR), npix = min(DYA_PIX, PQ - pq0);
    if (rows == MR && npix == DYA_PIX) {  /* whole block: fixed trip counts, unrolled */
        REAL v[MR][DYA_PIX];
#pragma unroll
        for (int ii = 0; ii < MR; ++ii)
#pragma unroll
            for (int t = 0; t < DYA_PIX; ++t) v[ii][t] = src[(ulong)ii * PQ + t];
#pragma unroll
        for (int t = 0; t < DYA_PIX; ++t)
#pragma unroll
            for (int ii = 0; ii < MR; ++ii) out[t * MR + ii] = v[ii][t];
        return;
    }
    for (int t = 0; t < npix; ++t)
        for (int ii = 0; ii < MR; ++ii) out[t * MR + ii] = ii < rows ? src[(ulong)ii * PQ + t] : (REAL)0;
}

/* ---------------------------------------------------------------------------
 * Backward-data B operand: B[k][pq] = dy[b][grp*Kg + k][pq] (K = Kg, N = P*Q)
 * in packed-B layout, one block per image at bp + bp_off + b*bp_stride
 * (bp_stride >= ceil(PQ/NR)*NR*Kg). One work-item copies NR contiguous floats.
 * global = (Kg, ceil(P*Q/NR), nimg). */
__kernel void conv_pack_dy_b(__global const REAL *restrict dy, ulong dy_off,
                             __global REAL *restrict bp, ulong bp_off, ulong bp_stride,
                             int K, int Kg, int grp, int PQ, int nimg)
{
    const int k = get_global_id(0), jp = get_global_id(1), b = get_global_id(2);
    if (k >= Kg || jp * NR >= PQ || b >= nimg) return;
    const __global REAL *src = dy + dy_off + ((ulong)b * K + grp * Kg + k) * PQ + jp * NR;
    __global REAL *out = bp + bp_off + (ulong)b * bp_stride + (ulong)jp * Kg * NR + (ulong)k * NR;
    const int n = min(NR, PQ - jp * NR);
    for (int jj = 0; jj < n; ++jj) out[jj] = src[jj];
    for (int jj = n; jj < NR; ++jj) out[jj] = (REAL)0;
}

/* ---------------------------------------------------------------------------
 * Forward epilogue: y[b][k][pq] = act(y + bias[k]). has_bias/relu are flags
 * (bias must still be a valid buffer when has_bias == 0). Loop-free so that
 * POCL vectorises across work-items along pq.
 * global = (P*Q, K, nimg). */
__kernel void conv_bias_act(__global REAL *restrict y, ulong y_off,
                            __global const REAL *restrict bias,
                            int K, int PQ, int nimg, int has_bias, int relu)
{
    const int pq = get_global_id(0), k = get_global_id(1), b = get_global_id(2);
    if (pq >= PQ || k >= K || b >= nimg) return;
    const ulong i = y_off + ((ulong)b * K + k) * PQ + pq;
    REAL v = y[i];
    if (has_bias) v += bias[k];
    if (relu) v = fmax(v, (REAL)0);
    y[i] = v;
}

/* ---------------------------------------------------------------------------
 * dbias[k] = beta*dbias[k] + sum over b < nimg, pq of dy[b][k][pq].
 * One work-group per k; fixed strided partial sums then a local tree, so the
 * result is bitwise reproducible for a given DBIAS_LWS. beta = 1 lets the
 * host accumulate over batch chunks; beta == 0 means dbias is not read.
 * global = (K*DBIAS_LWS), local = (DBIAS_LWS). */
__kernel __attribute__((reqd_work_group_size(DBIAS_LWS, 1, 1)))
void conv_dbias(__global const REAL *restrict dy, ulong dy_off,
                __global REAL *restrict dbias, int K, int PQ, int nimg, REAL beta)
{
    __local REAL part[DBIAS_LWS];
    const int k = get_group_id(0), lid = get_local_id(0);
    if (k >= K) return;  /* uniform per work-group, so safe before the barriers */
    REAL acc = (REAL)0;
    for (int b = 0; b < nimg; ++b) {
        const __global REAL *row = dy + dy_off + ((ulong)b * K + k) * PQ;
        for (int i = lid; i < PQ; i += DBIAS_LWS) acc += row[i];
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = DBIAS_LWS / 2; h > 0; h >>= 1) {
        if (lid < h) part[lid] += part[lid + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) dbias[k] = beta == (REAL)0 ? part[0] : part[0] + beta * dbias[k];
}

/* ---------------------------------------------------------------------------
 * Backward-weights on GPU-class devices: the tiled GEMM writes one partial dW
 * per image (parallel over images, as the reduction over them cannot be);
 * this sums them in image order, so the result is deterministic.
 * out[out_off + i] = beta*out[...] + sum over s < nslices of
 * part[s*slice + i], for i < count. beta == 0 means out is not read.
 * global = (count). */
__kernel void conv_sum_slices(__global const REAL *restrict part, ulong slice, int nslices,
                              __global REAL *restrict out, ulong out_off, int count, REAL beta)
{
    const int i = get_global_id(0);
    if (i >= count) return;
    REAL acc = (REAL)0;
    for (int s = 0; s < nslices; ++s) acc += part[(ulong)s * slice + i];
    __global REAL *o = out + out_off + i;
    *o = beta == (REAL)0 ? acc : acc + beta * *o;
}

/* ---------------------------------------------------------------------------
 * Strided backward-data by output phase (dilation 1). The dx pixels
 * ih = i*sh + a, iw = j*sw + b (phase (a, b)) take only the taps
 * r = r0 + t*sh, s = s0 + u*sw, r0 = (a + pt) % sh, s0 = (b + pl) % sw: a
 * stride-1 forward convolution of dy (C' = K, K' = C) with the sub-filter
 * wp[grp*Cg + c][k][t][u] = w[grp*Kg + k][c][r0 + (Rt-1-t)*sh][s0 + (St-1-u)*sw]
 * (taps reversed: a correlation). This writes wp of every phase, phase (a, b)
 * at wp + (a*sw + b)*wp_stride. One work-item per output channel cc walks k:
 * neighbouring work-items read neighbouring taps of w[k] and each writes its
 * own contiguous run of wp (a work-item per (k, c) read a cache line per tap
 * set, lines its neighbours had not touched). global = (C). */
__kernel void conv_phase_filter(__global const REAL *restrict w, __global REAL *restrict wp, ulong wp_stride,
                                int C, int Cg, int Kg, int R, int S, int sh, int sw, int pt, int pl)
{
    const int cc = get_global_id(0);
    if (cc >= C) return;
    const int grp = cc / Cg, c = cc - grp * Cg;
    for (int a = 0; a < sh; ++a) {
        const int r0 = (a + pt) % sh, Rt = r0 < R ? (R - r0 + sh - 1) / sh : 0;
        for (int b = 0; b < sw; ++b) {
            const int s0 = (b + pl) % sw, St = s0 < S ? (S - s0 + sw - 1) / sw : 0;
            __global REAL *dst = wp + (ulong)(a * sw + b) * wp_stride + (ulong)cc * Kg * Rt * St;
            for (int k = 0; k < Kg; ++k) {
                const __global REAL *src = w + ((ulong)(grp * Kg + k) * Cg + c) * R * S;
                for (int t = 0; t < Rt; ++t)
                    for (int u = 0; u < St; ++u)
                        *dst++ = src[(r0 + (Rt - 1 - t) * sh) * S + s0 + (St - 1 - u) * sw];
            }
        }
    }
}

/* dx from the phases' results, each dx element written once: phase (a, b) of
 * all planes at phases + (a*sw + b)*phase_stride as [plane][Hph][Wph],
 * Hph = ceil((H - a)/sh), Wph = ceil((W - b)/sw). A phase no tap reaches
 * (r0 >= R or s0 >= S) is zero and not read. One work-item writes one dx row.
 * global = (H, nplanes). */
__kernel void conv_phase_interleave(__global const REAL *restrict phases, ulong phase_stride,
                                    __global REAL *restrict dx, int H, int W, int R, int S,
                                    int sh, int sw, int pt, int pl, int nplanes)
{
    const int ih = get_global_id(0), plane = get_global_id(1);
    if (ih >= H || plane >= nplanes) return;
    const int a = ih % sh, i = ih / sh;
    const int Hph = (H - a + sh - 1) / sh;
    const bool row_taps = (a + pt) % sh < R;
    __global REAL *o = dx + ((ulong)plane * H + ih) * W;
    if (sw == 2) {  /* the common stride: one sequential pass over the row */
        const int W0 = (W + 1) / 2, W1 = W / 2;
        const bool taps0 = row_taps && pl % 2 < S, taps1 = row_taps && (1 + pl) % 2 < S;
        const __global REAL *s0 = phases + (ulong)(a * 2) * phase_stride + ((ulong)plane * Hph + i) * W0;
        const __global REAL *s1 = phases + (ulong)(a * 2 + 1) * phase_stride + ((ulong)plane * Hph + i) * W1;
        for (int j = 0; j < W1; ++j) {
            o[2 * j] = taps0 ? s0[j] : (REAL)0;
            o[2 * j + 1] = taps1 ? s1[j] : (REAL)0;
        }
        if (W0 > W1) o[2 * W1] = taps0 ? s0[W1] : (REAL)0;
        return;
    }
    for (int b = 0; b < sw; ++b) {
        const int Wph = (W - b + sw - 1) / sw;
        if (row_taps && (b + pl) % sw < S) {
            const __global REAL *src =
                phases + (ulong)(a * sw + b) * phase_stride + ((ulong)plane * Hph + i) * Wph;
            for (int j = 0; j < Wph; ++j) o[j * sw + b] = src[j];
        } else {
            for (int j = 0; j < Wph; ++j) o[j * sw + b] = (REAL)0;
        }
    }
}
