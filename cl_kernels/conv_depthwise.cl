/* anycl convolution: depthwise (groups == C == K), NCHW float, stride 1 or 2
 * along the width, any stride along the height, dilation and padding.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL          element type (float)
 *   DW_VW         output columns per vector: 4, 8 or 16
 *   DW_ROWS       output rows computed at once (they share staged vectors)
 *   DW_TAPS       backward-weights: filter taps accumulated a sweep over the data
 *                 (whole filter rows where a row fits)
 *   DW_GROUPS_CU  host: work-groups launched per compute unit (read only here)
 *   DW_STRIP      host: most output rows staged per pass through local memory
 *   DW_DIRECT     forward planes whose output rows are at most this many
 *                 vectors (but the buffer's first and last plane, and filters
 *                 of at most 5x5) read their input in place, lanes past the
 *                 row masked, instead of staging it (0: every plane staged);
 *                 in place, a tap is one load and FMA (at stride 2, two loads
 *                 and one permute) with the taps and masks in registers, where
 *                 staging copies every input row through local memory first
 *   DW_PREFETCH   floats prefetched ahead of what is read: the input of
 *                 planes read in place ahead of the rows a block reads, across
 *                 the work-item's planes; staged rows ahead of the copy;
 *                 backward-weights' dy ahead of its row, and its x and dy
 *                 planes read in place when the host asks (0: off; needs a
 *                 clang-built runtime that links __builtin_prefetch,
 *                 prefetch.h)
 *   DW_STREAM     1: the forward kernel's whole-vector output stores are
 *                 non-temporal when the host passes `stream` (outputs larger
 *                 than the device's global memory cache whose rows are whole
 *                 cache lines): they then skip reading every line they
 *                 overwrite (needs clang's __builtin_nontemporal_store)
 *
 * One work-item (work-group of one) runs a run of consecutive (image, channel)
 * planes: a plane of a depthwise layer is a few hundred outputs, too little to
 * pay for scheduling a work-group of its own. Each strip of output rows first
 * stages the input rows it reads into local memory with the padding as zeros
 * (vector copies), so every product is a branch-free contiguous DW_VW-wide
 * load. At stride 2 along the width the forward staging splits each row into
 * its even and odd columns (one lane permute per staged vector, where
 * de-interleaving at the products takes one per tap and output row, as
 * backward-weights still does). Planes of rows up to DW_DIRECT vectors that
 * are not upsampled skip the staging, as do backward-data's planes at stride
 * 2 both ways (dw_plane_up2: by output parity, no zeros upsampled).
 *
 * Staged row layout (`lw` floats per row, dw_row_floats): column j holds input
 * column j - pl; rows hold input rows p0*sh - pt + i for the strip's first
 * output row p0. Unsplit: column j at j, `lw` = round_up(ow, DW_VW) * sw +
 * (S-1)*dw. Split: column j at (j % 2) * lw/2 + j / 2. The host
 * (src/ops/conv2d_depthwise.cpp) sizes the buffer as rows * lw + 2*DW_VW
 * floats: vector stores may run DW_VW - 1 past a row, which later rows
 * overwrite. */
#ifndef REAL
#define REAL float   /* element type */
#endif
#ifndef DW_VW
#define DW_VW 8      /* output columns per vector */
#endif
#ifndef DW_ROWS
#define DW_ROWS 4    /* output rows a work-item computes at once */
#endif
#ifndef DW_TAPS
#define DW_TAPS 25   /* backward-weights: taps (vector accumulators) a sweep */
#endif
#ifndef DW_GROUPS_CU
#define DW_GROUPS_CU 8  /* host: work-groups per compute unit */
#endif
#ifndef DW_STRIP
#define DW_STRIP 32  /* host: most output rows per staged strip */
#endif
#ifndef DW_DIRECT
#define DW_DIRECT 8  /* widest output row (vectors) read in place at stride 1 */
#endif

#ifndef DW_PREFETCH
#define DW_PREFETCH 0 /* floats prefetched ahead of the input and dy read (0: off) */
#endif
#ifndef DW_STREAM
#define DW_STREAM 0 /* 1: store outputs non-temporally when the host asks (clang-built kernels only) */
#endif
#include "prefetch.h"

#define DWCAT_(a, b) a##b
#define DWCAT(a, b) DWCAT_(a, b)
typedef DWCAT(REAL, DW_VW) realv;
typedef DWCAT(int, DW_VW) intv;
#if DW_VW == 16
typedef DWCAT(REAL, 8) realh;
#define VLOADH vload8
#elif DW_VW == 8
typedef DWCAT(REAL, 4) realh;
#define VLOADH vload4
#else
typedef DWCAT(REAL, 2) realh;
#define VLOADH vload2
#endif
#define VLOAD DWCAT(vload, DW_VW)
#define VSTORE DWCAT(vstore, DW_VW)

/* h's lanes at the even lanes of a vector twice as wide, zeros between; lane
 * by lane, which the compiler makes one permute (a swizzle crashes Oclgrind's
 * uninitialised-value check, shuffle2 compiles to a lane loop on POCL). */
static inline realv dw_spread(realh h)
{
#if DW_VW == 4
    return (realv)(h.s0, 0, h.s1, 0);
#elif DW_VW == 8
    return (realv)(h.s0, 0, h.s1, 0, h.s2, 0, h.s3, 0);
#else
    return (realv)(h.s0, 0, h.s1, 0, h.s2, 0, h.s3, 0, h.s4, 0, h.s5, 0, h.s6, 0, h.s7, 0);
#endif
}

/* Input row `ih` of `src` (W floats, zero outside 0 <= ih < H) into staged row
 * `d` with its columns `up` (1 or 2) apart, zeros between: column t at
 * pl + t*up, zeros left of pl and from the last column on. `src_room` is how
 * many floats may be read from src on (the rest of the buffer): a vector past
 * it is copied a float at a time. */
static void dw_stage_row(__local REAL *d, const __global REAL *src, ulong src_room, int ih, int H, int W,
                         int up, int pl, int lw)
{
    const realv zero = (realv)0;
    if (ih < 0 || ih >= H) {
        for (int j = 0; j < lw; j += DW_VW) VSTORE(zero, 0, d + j);
        return;
    }
    for (int j = 0; j < pl; j += DW_VW) VSTORE(zero, 0, d + j);
    const int step = DW_VW / up;
    for (int j = 0; j < W; j += step) {
#if DW_PREFETCH
        if ((ulong)j + DW_PREFETCH < src_room) prefetch_line(src + j + DW_PREFETCH);
#endif
        if ((ulong)j + step > src_room) {
            for (int t = j; t < W; ++t) {
                d[pl + t * up] = src[t];
                if (up == 2) d[pl + t * up + 1] = (REAL)0;
            }
        } else if (up == 1) {
            VSTORE(VLOAD(0, src + j), 0, d + pl + j);
        } else {
            VSTORE(dw_spread(VLOADH(0, src + j)), 0, d + pl + 2 * j);
        }
    }
    for (int j = pl + (W - 1) * up + 1; j < lw; j += DW_VW) VSTORE(zero, 0, d + j);
}

/* 0, 1, 2, ...: a lane's index. */
__constant REAL dw_lane_index[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
__constant int dw_lane_int[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The lanes of v added in order. */
static inline REAL dw_lane_sum(realv v)
{
    REAL lanes[DW_VW];
    VSTORE(v, 0, lanes);
    REAL sum = (REAL)0;
    for (int t = 0; t < DW_VW; ++t) sum += lanes[t];
    return sum;
}

/* Floats of a staged forward row (the layout at the top). At stride 2 each
 * half holds the taps' reach and the copy's last vector past the row's end. */
static inline int dw_row_floats(int ow, int sw, int S, int dw, int pl, int W)
{
    const int ov = (ow + DW_VW - 1) / DW_VW * DW_VW;
    if (sw == 1) return ov + (S - 1) * dw;
    const int half_row = max(ov + (S - 1) * dw / 2 + 1, (pl + W + 1) / 2 + DW_VW);
    return 2 * ((half_row + DW_VW - 1) / DW_VW * DW_VW);
}

/* The even lanes of (a, b), lane by lane: the compiler makes one two-source
 * permute of it, where the same as a swizzle, (a.even, b.even),
 * crashes Oclgrind's uninitialised-value check (and shuffle2 compiles to a
 * lane loop on POCL). */
static inline realv dw_even(realv a, realv b)
{
#if DW_VW == 4
    return (realv)(a.s0, a.s2, b.s0, b.s2);
#elif DW_VW == 8
    return (realv)(a.s0, a.s2, a.s4, a.s6, b.s0, b.s2, b.s4, b.s6);
#else
    return (realv)(a.s0, a.s2, a.s4, a.s6, a.s8, a.sa, a.sc, a.se, b.s0, b.s2, b.s4, b.s6, b.s8, b.sa, b.sc, b.se);
#endif
}

/* Zeros over [from, to) of a staged half row, `to` a multiple of DW_VW: the
 * last vector is moved back to end at `to`, so nothing past it is written. */
static inline void dw_zero_tail(__local REAL *d, int from, int to)
{
    for (int j = from; j < to; j += DW_VW) VSTORE((realv)0, 0, d + min(j, to - DW_VW));
}

/* dw_stage_row for stride 2 along the width: staged column j (input column
 * j - pl) at (j % 2) * half_row + j / 2. Two input vectors make a vector of
 * even columns, and the two one float on one of odd columns; which half each
 * goes to is pl's parity. */
static void dw_stage_row_split(__local REAL *d, const __global REAL *src, ulong src_room, int ih, int H, int W,
                               int pl, int half_row)
{
    __local REAL *ev = d, *od = d + half_row;
    if (ih < 0 || ih >= H) {
        for (int j = 0; j < 2 * half_row; j += DW_VW) VSTORE((realv)0, 0, d + j);
        return;
    }
    for (int j = 0; j < (pl + 1) / 2; j += DW_VW) VSTORE((realv)0, 0, ev + j);
    for (int j = 0; j < pl / 2; j += DW_VW) VSTORE((realv)0, 0, od + j);
    for (int t = 0; t < W; t += 2 * DW_VW) {
        if ((ulong)t + 2 * DW_VW + 1 > src_room) {
            for (int u = t; u < W; ++u) d[(pl + u) % 2 * half_row + (pl + u) / 2] = src[u];
            break;
        }
        /* columns t, t+2, ... and t+1, t+3, ... (the even lanes one float on) */
        const realv even = dw_even(VLOAD(0, src + t), VLOAD(1, src + t));
        const realv odd = dw_even(VLOAD(0, src + t + 1), VLOAD(1, src + t + 1));
        if (pl % 2 == 0) {
            VSTORE(even, 0, ev + (pl + t) / 2);
            VSTORE(odd, 0, od + (pl + t) / 2);
        } else {
            VSTORE(odd, 0, ev + (pl + t + 1) / 2);
            VSTORE(even, 0, od + (pl + t - 1) / 2);
        }
    }
    dw_zero_tail(ev, (pl + W + 1) / 2, half_row);
    dw_zero_tail(od, (pl + W) / 2, half_row);
}

/* Where staged row data for output column q and filter column s starts. */
static inline __attribute__((always_inline)) int dw_col(int q, int s, int sw, int dw, int lw)
{
    return sw == 1 ? q + s * dw : (s * dw) % 2 * (lw / 2) + q + s * dw / 2;
}

/* Backward-weights: DW_VW outputs' input at one tap of an unsplit staged row,
 * `xr` the vector's first output's; every other float at stride 2. Its
 * 25-tap accumulators stay in registers only with this form of the address
 * (with dw_col's split rows POCL's code runs at a third of the speed). */
static inline __attribute__((always_inline)) realv dw_taps(const __local REAL *xr, int sw)
{
    if (sw == 1) return VLOAD(0, xr);
    return dw_even(VLOAD(0, xr), VLOAD(1, xr));
}

/* The input rows output rows p0 .. p0+np-1 read, of the plane at `src`, into
 * `stage` (rows of lw floats). The input is `up_h` x `up_w` upsampled with
 * zeros (1 x 1 but for backward-data at stride 2): of virtual rows
 * (H-1)*up_h + 1, row v is input row v/up_h when up_h divides it, else zero. */
static void dw_stage_strip(__local REAL *stage, const __global REAL *in, ulong in_len, const __global REAL *src,
                           int p0, int np, int H, int W, int up_h, int up_w, int R, int sh, int pt, int pl, int dh,
                           int lw)
{
    const int rows = (np - 1) * sh + (R - 1) * dh + 1;
    for (int i = 0; i < rows; ++i) {
        const int v = p0 * sh - pt + i;
        const int ih = v >= 0 && v % up_h == 0 ? v / up_h : -1;
        const ulong at = (ulong)(src - in) + (ulong)max(ih, 0) * W;
        dw_stage_row(stage + i * lw, src + (ulong)max(ih, 0) * W, in_len - min(at, in_len), ih, H, W, up_w, pl, lw);
    }
}

/* dw_stage_strip at stride 2 along the width (never upsampled there): rows
 * split into even and odd columns. A function of its own, so the stride-1
 * callers inline the same staging as without it. */
static void dw_stage_strip_split(__local REAL *stage, const __global REAL *in, ulong in_len,
                                 const __global REAL *src, int p0, int np, int H, int W, int up_h, int R, int sh,
                                 int pt, int pl, int dh, int lw)
{
    const int rows = (np - 1) * sh + (R - 1) * dh + 1;
    for (int i = 0; i < rows; ++i) {
        const int v = p0 * sh - pt + i;
        const int ih = v >= 0 && v % up_h == 0 ? v / up_h : -1;
        const ulong at = (ulong)(src - in) + (ulong)max(ih, 0) * W;
        dw_stage_row_split(stage + i * lw, src + (ulong)max(ih, 0) * W, in_len - min(at, in_len), ih, H, W, pl,
                           lw / 2);
    }
}

/* A whole vector of outputs at yo; non-temporal when `stream` (outputs larger
 * than the device's cache, in rows of whole cache lines: the host decides) and
 * yo is aligned to it, so the store skips reading the line it overwrites. */
static inline void dw_store_vector(__global REAL *yo, realv v, int stream)
{
#if DW_STREAM
    if (stream && (ulong)yo % sizeof(realv) == 0) {
        __builtin_nontemporal_store(v, (__global realv *)yo);
        return;
    }
#endif
    VSTORE(v, 0, yo);
}

/* The nv outputs of a block at `yo`, `room` floats before what this
 * work-item writes ends (its plane, or its run of planes): a vector store when
 * it stays inside (what it writes past the block belongs to later rows, stored
 * after it), else a float at a time (what follows is another work-item's). */
static inline void dw_store(__global REAL *yo, realv acc, int nv, int room, int stream)
{
    if (room >= DW_VW) {
        dw_store_vector(yo, acc, stream);
    } else {
        REAL lane[DW_VW];
        VSTORE(acc, 0, lane);
        for (int t = 0; t < nv; ++t) yo[t] = lane[t];
    }
}

/* The nr accumulator rows of the block at column q0 into rows p.. of dst:
 * one test for the block (per-row branches let the compiler run each row's
 * taps as one dependent FMA chain after the previous row's store). */
static inline __attribute__((always_inline)) void dw_store_rows(__global REAL *dst, realv *acc, int p, int nr,
                                                               int q0, int oh, int ow, int relu, int stream)
{
#pragma unroll
    for (int j = 0; j < nr; ++j) acc[j] = relu ? fmax(acc[j], (realv)0) : acc[j];
    if ((oh - p - nr + 1) * ow - q0 >= DW_VW) {
#pragma unroll
        for (int j = 0; j < nr; ++j) dw_store_vector(dst + (ulong)(p + j) * ow + q0, acc[j], stream);
    } else {
#pragma unroll
        for (int j = 0; j < nr; ++j)
            dw_store(dst + (ulong)(p + j) * ow + q0, acc[j], min(DW_VW, ow - q0), (oh - p - j) * ow - q0, stream);
    }
}

/* `nr` output rows from row p (staged row (p - p0)*sh on) at once, so the
 * rows share the staged vectors they read (CSE, once the geometry is literal),
 * input row by input row as dw_plane_global. Staged rows that hold zeros
 * (padding, and at backward-data's stride every row between dy's rows: half
 * the products at stride 2) are skipped: staged row i is virtual input row
 * p*sh - pt + i of dw_stage_strip, of H real rows `up_h` apart.
 * The blocks of a row go from last to first: a partial last block runs into
 * the next row's first block, which is then stored after it. */
static inline __attribute__((always_inline)) void dw_rows(const __local REAL *xp, const __local REAL *wl,
                                                          __global REAL *dst, realv b0, int p, int nr, int oh,
                                                          int ow, int sh, int lw, int dh, int dw, int R, int S,
                                                          int sw, int pt, int up_h, int H, int relu,
                                                          int stream)
{
    for (int q0 = (ow - 1) / DW_VW * DW_VW; q0 >= 0; q0 -= DW_VW) {
        realv acc[DW_ROWS];
#pragma unroll
        for (int j = 0; j < nr; ++j) acc[j] = b0;
#pragma unroll
        for (int i = 0; i < (nr - 1) * sh + (R - 1) * dh + 1; ++i) {
            const int v = p * sh - pt + i;
            if (v < 0 || v % up_h != 0 || v / up_h >= H) continue;
#pragma unroll
            for (int s = 0; s < S; ++s) {
#pragma unroll
                for (int j = 0; j < nr; ++j) {
                    const int rd = i - j * sh; /* r * dh of output row j's tap on this row */
                    if (rd < 0 || rd % dh != 0 || rd / dh >= R) continue;
                    acc[j] = fma((realv)wl[rd / dh * S + s], VLOAD(0, xp + i * lw + dw_col(q0, s, sw, dw, lw)),
                                 acc[j]);
                }
            }
        }
        dw_store_rows(dst, acc, p, nr, q0, oh, ow, relu, stream);
    }
}

/* Prefetches [done, min(to, end)) and returns where prefetching has reached:
 * rows read in place are each a short stream of a few cache lines, too short
 * for the hardware prefetchers, so the input a block reads is prefetched
 * DW_PREFETCH floats ahead, across planes up to the end of the work-item's run. */
static inline const __global REAL *dw_prefetch_to(const __global REAL *done, const __global REAL *to,
                                                  const __global REAL *end)
{
#if DW_PREFETCH
    if (to > end) to = end;
    if (to <= done) return done;
    prefetch_run(done, (int)(to - done));
    return to;
#else
    return done;
#endif
}

/* Most filter rows and columns of a plane read in place (its taps and column
 * masks are registers); not a tunable. */
#define DW_TAPS_IN_PLACE 5

/* A plane at `src` (H x W, not upsampled) read in place, its taps `tap`
 * (R, S <= DW_TAPS_IN_PLACE) in registers: column block by column block, last
 * first, down the plane DW_ROWS output rows at once. Each tap is one vector
 * load of an input row (at stride 2 along the width, the even lanes of two),
 * shared by the output rows that read it, the lanes outside the row zeroed by
 * the block's column masks (made once a block); input rows outside the plane
 * are skipped. The loads may reach pl floats before the plane and sw vectors
 * past it, which the caller keeps inside the buffer. Rows go first to last in
 * a block and blocks last to first, so a partial last block's vector store,
 * which runs into the next row's first block, is overwritten after it.
 * `run_room`: floats from the plane's first output to the end of the
 * work-item's run of planes (which later planes overwrite: a store may cross
 * a plane's end, not the run's). `pf`: how far the run's input is
 * prefetched, `pf_end` its end; returns the new `pf`. */
static inline __attribute__((always_inline)) const __global REAL *
dw_plane_global(const __global REAL *src, const realv *tap, __global REAL *dst, realv b0, int oh, int ow, int H,
                int W, int sh, int sw, int pt, int pl, int dh, int dw, int R, int S, int relu, int stream, int run_room,
                const __global REAL *pf, const __global REAL *pf_end)
{
    const intv lane = DWCAT(vload, DW_VW)(0, dw_lane_int) * sw; /* a lane's input column past the first */
    const int rows = (DW_ROWS - 1) * sh + (R - 1) * dh + 1;     /* input rows a block of output rows reads */
    for (int q0 = (ow - 1) / DW_VW * DW_VW; q0 >= 0; q0 -= DW_VW) {
        intv in_row[DW_TAPS_IN_PLACE];
#pragma unroll
        for (int s = 0; s < S; ++s) {
            const int col = q0 * sw + s * dw - pl;
            in_row[s] = lane >= (intv)(-col) && lane < (intv)(W - col);
        }
        const __global REAL *xq = src + q0 * sw - pl;
        for (int p = 0; p < oh; p += DW_ROWS) {
            const int v0 = p * sh - pt;
            pf = dw_prefetch_to(pf, src + (long)(v0 + rows) * W + DW_PREFETCH, pf_end);
            realv acc[DW_ROWS];
#pragma unroll
            for (int j = 0; j < DW_ROWS; ++j) acc[j] = b0;
#pragma unroll
            for (int i = 0; i < rows; ++i) {
                if (v0 + i < 0 || v0 + i >= H) continue;
#pragma unroll
                for (int s = 0; s < S; ++s) {
                    const __global REAL *xr = xq + (v0 + i) * W + s * dw;
                    const realv x = sw == 1 ? VLOAD(0, xr) : dw_even(VLOAD(0, xr), VLOAD(1, xr));
                    const realv xm = select((realv)0, x, in_row[s]);
#pragma unroll
                    for (int j = 0; j < DW_ROWS; ++j) {
                        const int rd = i - j * sh; /* r * dh of output row j's tap on this row */
                        if (rd >= 0 && rd % dh == 0 && rd / dh < R) acc[j] = fma(tap[rd / dh * S + s], xm, acc[j]);
                    }
                }
            }
#pragma unroll
            for (int j = 0; j < DW_ROWS; ++j) {
                if (p + j >= oh) break;
                const realv y = relu ? fmax(acc[j], (realv)0) : acc[j];
                const int at = (p + j) * ow + q0;
                dw_store(dst + at, y, min(DW_VW, ow - q0), run_room - at, stream);
            }
        }
    }
    return pf;
}

/* Which of a filter row's dy vectors (one column apart) tap t of it reads in
 * dw_plane_up2, the rows' or columns' parity offset `par` (pt or pl mod 2):
 * output j takes tap t from dy (j - pad + t) / 2, so taps t and t + 1 of the
 * right parity read the same column. */
static inline int dw_parity_k(int t, int par)
{
    return (t + ((t + par) & 1)) / 2;
}

/* The lanes of e and o interleaved (e0, o0, e1, o1, ...), lane by lane as
 * dw_even. */
static inline realv dw_zip(realh e, realh o)
{
#if DW_VW == 4
    return (realv)(e.s0, o.s0, e.s1, o.s1);
#elif DW_VW == 8
    return (realv)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3);
#else
    return (realv)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3, e.s4, o.s4, e.s5, o.s5, e.s6, o.s6, e.s7, o.s7);
#endif
}

/* Output row i (of oh) at column j0 from its even and odd columns: a half
 * that runs past the row's end runs into the next row's first block, stored
 * after it (dw_plane_up2's order); one wholly past it is not stored. */
static inline __attribute__((always_inline)) void dw_store_zip(__global REAL *dst, realv even, realv odd, int i,
                                                               int j0, int oh, int ow, int relu, int stream,
                                                               int run_room)
{
    if (i >= oh) return;
    realv zipped[2] = {dw_zip(even.lo, odd.lo), dw_zip(even.hi, odd.hi)};
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int j = j0 + h * DW_VW, at = i * ow + j;
        if (j >= ow) break; /* a half wholly past the row: nothing of it is the row's */
        const realv y = relu ? fmax(zipped[h], (realv)0) : zipped[h];
        dw_store(dst + at, y, clamp(ow - j, 0, DW_VW), run_room - at, stream);
    }
}

/* Backward-data at stride 2 both ways, by output parity, dy (`src`, H x W)
 * read in place where the staged path would upsample it with zeros (half of
 * whose products are zero along each axis): output (i, j) takes tap (r, s)
 * from dy (i - pt + r, j - pl + s) / 2 when both are even. Of a pair of output
 * rows and 2*DW_VW output columns, the taps of one parity of r feed one row
 * and those of one parity of s one column parity, each tap one FMA into one
 * of four accumulators, the column parities interleaved at the store. The
 * taps of a filter row read S/2 + 1 dy vectors one column apart (tap s the
 * k-th, dw_parity_k), each loaded once. Column masks as dw_plane_global's;
 * blocks last to first, rows first to last, for the same reason, and the
 * prefetch cursor `pf` as there. The loads reach up to DW_TAPS_IN_PLACE
 * floats before the plane and 2*DW_VW past it. */
static inline __attribute__((always_inline)) const __global REAL *
dw_plane_up2(const __global REAL *src, const realv *tap, __global REAL *dst, realv b0, int oh, int ow, int H, int W,
             int pt, int pl, int R, int S, int relu, int stream, int run_room, const __global REAL *pf,
             const __global REAL *pf_end)
{
    const intv lane = DWCAT(vload, DW_VW)(0, dw_lane_int);
    const int rp = pt & 1, cp = pl & 1; /* output row i + rp takes the even r, column j0 + a the s of parity a + cp */
    const int kmax = dw_parity_k(S - 1, cp);
    for (int j0 = (ow - 1) / (2 * DW_VW) * (2 * DW_VW); j0 >= 0; j0 -= 2 * DW_VW) {
        const int c0 = (j0 - pl + cp) / 2; /* an even numerator: exact; tap s reads column c0 + dw_parity_k(s, cp) */
        intv in_row[DW_TAPS_IN_PLACE / 2 + 1];
#pragma unroll
        for (int k = 0; k <= DW_TAPS_IN_PLACE / 2; ++k)
            in_row[k] = lane >= (intv)(-(c0 + k)) && lane < (intv)(W - c0 - k);
        for (int i0 = 0; i0 < oh; i0 += 2) {
            pf = dw_prefetch_to(pf, src + (long)((i0 + 1 - pt + R) / 2 + 1) * W + DW_PREFETCH, pf_end);
            realv acc[2][2] = {{b0, b0}, {b0, b0}}; /* [r parity][s parity] */
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const int v = (i0 - pt + rp) / 2 + dw_parity_k(r, rp); /* even numerator */
                if (v < 0 || v >= H) continue;
                const __global REAL *row = src + v * W + c0;
                realv x[DW_TAPS_IN_PLACE / 2 + 1];
#pragma unroll
                for (int k = 0; k <= S / 2; ++k)
                    x[k] = k <= kmax ? select((realv)0, VLOAD(0, row + k), in_row[k]) : (realv)0;
#pragma unroll
                for (int s = 0; s < S; ++s) {
                    /* dw_parity_k(s, cp) as constant indices: an index that is not a constant keeps x in memory */
                    const realv xs = s % 2 == 0 ? x[s / 2] : cp ? x[(s - 1) / 2] : x[(s + 1) / 2];
                    acc[r % 2][s % 2] = fma(tap[r * S + s], xs, acc[r % 2][s % 2]);
                }
            }
            /* row i0 + rp takes the even r, column parity 0 the s of parity cp; picked by value, as acc[rp]
             * would keep acc in memory */
            realv row0[2], row1[2]; /* rows i0 and i0 + 1: [s parity] */
#pragma unroll
            for (int a = 0; a < 2; ++a) {
                row0[a] = rp ? acc[1][a] : acc[0][a];
                row1[a] = rp ? acc[0][a] : acc[1][a];
            }
            dw_store_zip(dst, cp ? row0[1] : row0[0], cp ? row0[0] : row0[1], i0, j0, oh, ow, relu, stream, run_room);
            dw_store_zip(dst, cp ? row1[1] : row1[0], cp ? row1[0] : row1[1], i0 + 1, j0, oh, ow, relu, stream,
                         run_room);
        }
    }
    return pf;
}

/* Output rows p0 .. p0+np-1 of a plane from its staged strip; `wl` holds the
 * plane's R*S taps in the order the products take them. The geometry is
 * literal at the common call sites, so the loops unroll there. */
static inline __attribute__((always_inline)) void dw_strip(const __local REAL *stage, const __local REAL *wl,
                                                           __global REAL *dst, realv b0, int p0, int np, int oh,
                                                           int ow, int sh, int lw, int dh, int dw, int R, int S,
                                                           int sw, int pt, int up_h, int H, int relu,
                                                           int stream)
{
    int p = p0;
    for (; p + DW_ROWS <= p0 + np; p += DW_ROWS)
        dw_rows(stage + (p - p0) * sh * lw, wl, dst, b0, p, DW_ROWS, oh, ow, sh, lw, dh, dw, R, S, sw, pt, up_h, H,
                relu, stream);
    if (DW_ROWS > 2 && p + 2 <= p0 + np) {
        dw_rows(stage + (p - p0) * sh * lw, wl, dst, b0, p, 2, oh, ow, sh, lw, dh, dw, R, S, sw, pt, up_h, H, relu,
                stream);
        p += 2;
    }
    for (; p < p0 + np; ++p)
        dw_rows(stage + (p - p0) * sh * lw, wl, dst, b0, p, 1, oh, ow, sh, lw, dh, dw, R, S, sw, pt, up_h, H, relu,
                stream);
}

/* ---------------------------------------------------------------------------
 * out[b][c][p][q] = act(bias[c] + sum_{r,s} in[b][c][p*sh - pt + r*dh][q*sw - pl + s*dw]
 *                                          * w[c][r'][s'])
 * with (r', s') = (r, s), or (R-1-r, S-1-s) when flip: backward-data is this
 * on dy upsampled by the stride (up_h x up_w, zeros between) with the filter
 * rotated and pads (R-1)*dh - pt, ...; ih_ x iw_ is dy's own size then.
 * Planes (b, c) = 0 .. planes-1 (planes = nimg*C), per_group of them a
 * work-group. in_len: floats of `in` from element 0 (bounds the vector copies).
 * stream: store whole output vectors non-temporally (DW_STREAM).
 * wl: R*S floats of local memory for the plane's taps; stage: the strip.
 * global = (ceil(planes / per_group)), local = (1). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_dw_fwd(__global const REAL *restrict in, ulong in_off, ulong in_len,
                 __global const REAL *restrict w, int flip,
                 __global const REAL *restrict bias, __global REAL *restrict out, ulong out_off,
                 int C, int ih_, int iw_, int R, int S, int oh, int ow, int sh, int sw, int pt, int pl,
                 int dh, int dw, int up_h, int up_w, int planes, int per_group, int strip, int has_bias,
                 int relu, int stream, __local REAL *wl, __local REAL *stage)
{
    const int first = get_group_id(0) * per_group;
    const int last = min(planes, first + per_group);
    const int lw = dw_row_floats(ow, sw, S, dw, pl, iw_);
    const ulong in_plane = (ulong)ih_ * iw_, out_plane = (ulong)oh * ow;
    const __global REAL *pf = in + in_off + (ulong)first * in_plane;
    const __global REAL *pf_end = in + min(in_off + (ulong)last * in_plane, in_len);
    for (int pl_i = first; pl_i < last; ++pl_i) {
        const int c = pl_i % C;
        const __global REAL *src = in + in_off + (ulong)pl_i * in_plane;
        const __global REAL *wc = w + (ulong)c * R * S;
        for (int e = 0; e < R * S; ++e) wl[e] = wc[flip ? R * S - 1 - e : e];
        const realv b0 = (realv)(has_bias ? bias[c] : (REAL)0);
        __global REAL *dst = out + out_off + (ulong)pl_i * out_plane;
        const ulong at = (ulong)(src - in);
        const int taps_fit = R <= DW_TAPS_IN_PLACE && S <= DW_TAPS_IN_PLACE; /* in registers */
        /* reads from pl floats before the plane to sw vectors past its last row */
        const int in_place = taps_fit && ow <= DW_DIRECT * DW_VW && up_h == 1 && up_w == 1 && at >= (ulong)pl &&
                             at + in_plane + (ulong)((ow + DW_VW - 1) / DW_VW * DW_VW * sw + (S - 1) * dw + DW_VW) <=
                                 in_len;
        /* backward-data at stride 2 both ways: reads up to DW_TAPS_IN_PLACE floats before the plane, 2 vectors past */
        const int by_parity = taps_fit && up_h == 2 && up_w == 2 && sh == 1 && sw == 1 && dh == 1 && dw == 1 &&
                              at >= DW_TAPS_IN_PLACE && at + in_plane + 2 * DW_VW <= in_len;
        const int run_room = (int)min((ulong)(last - pl_i) * out_plane, (ulong)INT_MAX);
        realv tap[DW_TAPS_IN_PLACE * DW_TAPS_IN_PLACE];
        if (in_place || by_parity)
            for (int e = 0; e < R * S; ++e) tap[e] = (realv)wl[e];
        if (in_place) {
            const int square = R == S && sh == sw && dh == 1 && dw == 1;
            if (square && R == 3 && sw == 1)
                pf = dw_plane_global(src, tap, dst, b0, oh, ow, ih_, iw_, 1, 1, pt, pl, 1, 1, 3, 3,
                                     relu, stream, run_room, pf, pf_end);
            else if (square && R == 3 && sw == 2)
                pf = dw_plane_global(src, tap, dst, b0, oh, ow, ih_, iw_, 2, 2, pt, pl, 1, 1, 3, 3,
                                     relu, stream, run_room, pf, pf_end);
            else if (square && R == 5 && sw == 1)
                pf = dw_plane_global(src, tap, dst, b0, oh, ow, ih_, iw_, 1, 1, pt, pl, 1, 1, 5, 5,
                                     relu, stream, run_room, pf, pf_end);
            else if (square && R == 5 && sw == 2)
                pf = dw_plane_global(src, tap, dst, b0, oh, ow, ih_, iw_, 2, 2, pt, pl, 1, 1, 5, 5,
                                     relu, stream, run_room, pf, pf_end);
            else
                pf = dw_plane_global(src, tap, dst, b0, oh, ow, ih_, iw_, sh, sw, pt, pl, dh, dw, R, S,
                                     relu, stream, run_room, pf, pf_end);
            continue;
        }
        if (by_parity) {
            if (R == 3 && S == 3)
                pf = dw_plane_up2(src, tap, dst, b0, oh, ow, ih_, iw_, pt, pl, 3, 3, relu, stream, run_room, pf,
                                  pf_end);
            else if (R == 5 && S == 5)
                pf = dw_plane_up2(src, tap, dst, b0, oh, ow, ih_, iw_, pt, pl, 5, 5, relu, stream, run_room, pf,
                                  pf_end);
            else
                pf = dw_plane_up2(src, tap, dst, b0, oh, ow, ih_, iw_, pt, pl, R, S, relu, stream, run_room, pf,
                                  pf_end);
            continue;
        }
        for (int p0 = 0; p0 < oh; p0 += strip) {
            const int np = min(strip, oh - p0);
            if (sw == 2)
                dw_stage_strip_split(stage, in, in_len, src, p0, np, ih_, iw_, up_h, R, sh, pt, pl, dh, lw);
            else
                dw_stage_strip(stage, in, in_len, src, p0, np, ih_, iw_, up_h, up_w, R, sh, pt, pl, dh, lw);
            const int square = R == S && sh == sw && dh == 1 && dw == 1;
            if (square && R == 3 && sw == 1)
                dw_strip(stage, wl, dst, b0, p0, np, oh, ow, 1, lw, 1, 1, 3, 3, 1, pt, up_h, ih_, relu, stream);
            else if (square && R == 3 && sw == 2)
                dw_strip(stage, wl, dst, b0, p0, np, oh, ow, 2, lw, 1, 1, 3, 3, 2, pt, up_h, ih_, relu, stream);
            else if (square && R == 5 && sw == 1)
                dw_strip(stage, wl, dst, b0, p0, np, oh, ow, 1, lw, 1, 1, 5, 5, 1, pt, up_h, ih_, relu, stream);
            else if (square && R == 5 && sw == 2)
                dw_strip(stage, wl, dst, b0, p0, np, oh, ow, 2, lw, 1, 1, 5, 5, 2, pt, up_h, ih_, relu, stream);
            else
                dw_strip(stage, wl, dst, b0, p0, np, oh, ow, sh, lw, dh, dw, R, S, sw, pt, up_h, ih_, relu, stream);
        }
    }
#if DW_STREAM
    /* Non-temporal stores are weakly ordered: a full fence, so they are out
     * before anything this work-item does to signal its end. */
    if (stream) __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* DW_VW of dy's floats at `at` (of dy_len), the lanes past the row's
 * `room` outputs zero. */
static inline realv dw_dy_vector(const __global REAL *dy, ulong dy_len, ulong at, int room)
{
    const realv lane = VLOAD(0, dw_lane_index);
    realv g;
    if (at + DW_VW <= dy_len) {
        g = VLOAD(0, dy + at);
    } else {
        REAL part[DW_VW];
        for (int t = 0; t < DW_VW; ++t) part[t] = t < room && at + t < dy_len ? dy[at + t] : (REAL)0;
        g = VLOAD(0, part);
    }
    return select((realv)0, g, lane < (realv)room);
}

/* Prefetches a work-item's planes of `buf` (plane b < nimg at (b*C + c)*hw,
 * of buf_len floats) from `done` up to `to`, offsets counting its planes end
 * to end, so prefetching runs on into the next image's plane; returns where it
 * reached. */
static inline ulong dw_prefetch_planes(const __global REAL *buf, ulong buf_len, ulong done, ulong to, ulong hw,
                                       int C, int c, int nimg)
{
#if DW_PREFETCH
    to = min(to, (ulong)nimg * hw);
    if (done >= to) return done;
    ulong b = done / hw, off = done % hw; /* one division a call: they step on from here */
    for (; done < to; done += LINE_REALS, off += LINE_REALS) {
        if (off >= hw) off -= hw, ++b;
        const ulong at = (b * C + c) * hw + off;
        if (at < buf_len) prefetch_line(buf + at);
    }
#endif
    return done;
}

/* Image b's plane of backward-weights for channel c (of C), x's plane read in
 * place (as dw_plane_global reads the forward's input: column block by
 * column block down the plane, the block's column masks in registers):
 * for filter rows r0 .. r0+nr-1, acc[(r - r0)*S + s] += dy * x; accb += dy
 * when with_bias. When `prefetch`, `pf_x` and `pf_dy`: how far the
 * work-item's x and dy planes are prefetched (dw_prefetch_planes). */
static inline __attribute__((always_inline)) void dw_grad_plane_global(const __global REAL *x, ulong x_len,
                                                                       const __global REAL *dy, ulong dy_len,
                                                                       int b, int C, int c, int nimg, realv *acc,
                                                                       realv *accb, int with_bias, int prefetch,
                                                                       ulong *pf_x, ulong *pf_dy, int r0, int nr,
                                                                       int H, int W, int R, int S, int P, int Q,
                                                                       int sh, int sw, int pt, int pl, int dh, int dw)
{
    const ulong hw = (ulong)H * W, pq = (ulong)P * Q, plane = (ulong)b * C + c;
    const intv lane = DWCAT(vload, DW_VW)(0, dw_lane_int) * sw; /* a lane's input column past the first */
    for (int q0 = 0; q0 < Q; q0 += DW_VW) {
        intv in_row[DW_TAPS_IN_PLACE];
#pragma unroll
        for (int s = 0; s < S; ++s) {
            const int col = q0 * sw + s * dw - pl;
            in_row[s] = lane >= (intv)(-col) && lane < (intv)(W - col);
        }
        const __global REAL *xq = x + plane * hw + q0 * sw - pl;
        for (int p = 0; p < P; ++p) {
            const int ih0 = p * sh - pt;
            const ulong x_read = b * hw + (ulong)max(ih0 + (R - 1) * dh + 1, 0) * W; /* end of the rows read */
            if (prefetch) {
                *pf_x = dw_prefetch_planes(x, x_len, *pf_x, x_read + DW_PREFETCH, hw, C, c, nimg);
                *pf_dy = dw_prefetch_planes(dy, dy_len, *pf_dy, b * pq + (ulong)(p + 1) * Q + DW_PREFETCH, pq, C, c,
                                            nimg);
            }
            const realv g = dw_dy_vector(dy, dy_len, plane * pq + (ulong)p * Q + q0, Q - q0);
            if (with_bias) *accb += g;
#pragma unroll
            for (int r = 0; r < DW_TAPS_IN_PLACE; ++r) {
                const int ih = ih0 + (r0 + r) * dh;
                if (r >= nr || ih < 0 || ih >= H) continue;
#pragma unroll
                for (int s = 0; s < S; ++s) {
                    const __global REAL *xr = xq + ih * W + s * dw;
                    const realv xv = sw == 1 ? VLOAD(0, xr) : dw_even(VLOAD(0, xr), VLOAD(1, xr));
                    acc[r * S + s] = fma(g, select((realv)0, xv, in_row[s]), acc[r * S + s]);
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * Backward-weights: dwt[c][r][s] = sum over b < nimg, p, q of dy[b][c][p][q] *
 * x[b][c][p*sh - pt + r*dh][q*sw - pl + s*dw], and dbias[c] = the sum of dy
 * (when has_dbias). One work-item a channel, a vector accumulator per tap,
 * DW_TAPS taps a sweep over the data (whole filter rows where a row fits),
 * summed over lanes in a fixed order at the end => deterministic. An image's
 * plane is read in place as the forward reads it when the filter is at most
 * 5x5 and its rows at most DW_DIRECT vectors, else staged strip by strip as
 * the forward stages it. x_len, dy_len: floats of x and dy (bound the vector
 * loads). prefetch: prefetch the planes read in place DW_PREFETCH floats
 * ahead (the host asks when x and dy outgrow the device's cache).
 * global = (C), local = (1). */
static inline __attribute__((always_inline)) void dw_grad(__local REAL *stage, const __global REAL *x, ulong x_len,
                                                          const __global REAL *dy, ulong dy_len,
                                                          __global REAL *dwt, __global REAL *dbias, int c, int C,
                                                          int H, int W, int R, int S, int P, int Q, int sh, int sw,
                                                          int pt, int pl, int dh, int dw, int nimg, int strip,
                                                          int has_dbias, int prefetch, int lw)
{
    const int in_place = Q <= DW_DIRECT * DW_VW && R <= DW_TAPS_IN_PLACE && S <= DW_TAPS_IN_PLACE && S <= DW_TAPS;
    const int sweep = S <= DW_TAPS ? DW_TAPS / S * S : DW_TAPS; /* whole filter rows where they fit */
    for (int e0 = 0; e0 < R * S; e0 += sweep) {
        const int ne = min(sweep, R * S - e0);
        const int with_bias = has_dbias && e0 == 0;
        realv acc[DW_TAPS], accb = (realv)0;
#pragma unroll
        for (int e = 0; e < ne; ++e) acc[e] = (realv)0;
        ulong pf_x = 0, pf_dy = 0;
        for (int b = 0; b < nimg; ++b) {
            const ulong plane = (ulong)b * C + c;
            const ulong x_at = plane * H * W;
            /* Reads from pl floats before the plane to sw vectors past its last row. */
            if (in_place && x_at >= (ulong)pl &&
                x_at + (ulong)H * W + (ulong)((Q + DW_VW - 1) / DW_VW * DW_VW * sw + (S - 1) * dw + DW_VW) <= x_len) {
                dw_grad_plane_global(x, x_len, dy, dy_len, b, C, c, nimg, acc, &accb, with_bias, prefetch, &pf_x,
                                     &pf_dy, e0 / S, ne / S, H, W, R, S, P, Q, sh, sw, pt, pl, dh, dw);
                continue;
            }
            for (int p0 = 0; p0 < P; p0 += strip) {
                const int np = min(strip, P - p0);
                dw_stage_strip(stage, x, x_len, x + x_at, p0, np, H, W, 1, 1, R, sh, pt, pl, dh, lw);
                for (int p = p0; p < p0 + np; ++p) {
                    const __local REAL *xp = stage + (p - p0) * sh * lw;
                    for (int q0 = 0; q0 < Q; q0 += DW_VW) {
                        const ulong at = plane * P * Q + (ulong)p * Q + q0;
#if DW_PREFETCH
                        if (at + DW_PREFETCH < dy_len) prefetch_line(dy + at + DW_PREFETCH);
#endif
                        const realv g = dw_dy_vector(dy, dy_len, at, Q - q0);
                        if (with_bias) accb += g;
#pragma unroll
                        for (int e = 0; e < ne; ++e) {
                            const int r = (e0 + e) / S, s = (e0 + e) - (e0 + e) / S * S;
                            acc[e] = fma(g, dw_taps(xp + r * dh * lw + q0 * sw + s * dw, sw), acc[e]);
                        }
                    }
                }
            }
        }
        for (int e = 0; e < ne; ++e) dwt[(ulong)c * R * S + e0 + e] = dw_lane_sum(acc[e]);
        if (with_bias) dbias[c] = dw_lane_sum(accb);
    }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_dw_bwd_weights(__global const REAL *restrict x, ulong x_len, __global const REAL *restrict dy,
                         ulong dy_len, __global REAL *restrict dwt, __global REAL *restrict dbias,
                         int C, int H, int W, int R, int S, int P, int Q, int sh, int sw, int pt, int pl,
                         int dh, int dw, int nimg, int strip, int has_dbias, int prefetch,
                         __local REAL *stage)
{
    const int c = get_group_id(0);
    if (c >= C) return;
    const int lw = (Q + DW_VW - 1) / DW_VW * DW_VW * sw + (S - 1) * dw; /* rows not split */
    const int square = R == S && sh == sw && dh == 1 && dw == 1;
    if (square && R == 3 && sw == 1)
        dw_grad(stage, x, x_len, dy, dy_len, dwt, dbias, c, C, H, W, 3, 3, P, Q, 1, 1, pt, pl, 1, 1, nimg, strip,
                has_dbias, prefetch, lw);
    else if (square && R == 3 && sw == 2)
        dw_grad(stage, x, x_len, dy, dy_len, dwt, dbias, c, C, H, W, 3, 3, P, Q, 2, 2, pt, pl, 1, 1, nimg, strip,
                has_dbias, prefetch, lw);
    else if (square && R == 5 && sw == 1)
        dw_grad(stage, x, x_len, dy, dy_len, dwt, dbias, c, C, H, W, 5, 5, P, Q, 1, 1, pt, pl, 1, 1, nimg, strip,
                has_dbias, prefetch, lw);
    else if (square && R == 5 && sw == 2)
        dw_grad(stage, x, x_len, dy, dy_len, dwt, dbias, c, C, H, W, 5, 5, P, Q, 2, 2, pt, pl, 1, 1, nimg, strip,
                has_dbias, prefetch, lw);
    else
        dw_grad(stage, x, x_len, dy, dy_len, dwt, dbias, c, C, H, W, R, S, P, Q, sh, sw, pt, pl, dh, dw, nimg, strip,
                has_dbias, prefetch, lw);
}
