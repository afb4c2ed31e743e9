/* anycl convolution: direct kernels shaped for GPU-class devices (built only
 * where the tiled GEMM family runs: many lanes, dedicated local memory). What
 * the Direct algorithm runs there for forward and backward-data, depthwise
 * included; conv_direct.cl's kernels (a run of outputs per work-item, one
 * work-item a group) are the CPU shape.
 *
 * One work-item per output element, a DIR_WG_Q x DIR_WG_P work-group over a
 * tile of one output plane: neighbouring work-items read neighbouring input
 * elements (coalesced at stride 1), and the filter taps the whole work-group
 * needs are staged once in local memory, DIR_WSTAGE floats at a time, instead
 * of every work-item reading them from global memory.
 *
 * Tunables (every one is a -D define; defaults fit any OpenCL 1.2 GPU: 64
 * work-items, 1 KiB of local memory):
 *   REAL        element type (float)
 *   DIR_WG_Q    work-group width, along q (forward) / w (backward-data)
 *   DIR_WG_P    work-group height, along p / h
 *   DIR_WSTAGE  filter floats staged per step; the host uses these kernels
 *               only when one channel's R*S taps fit (R*S <= DIR_WSTAGE)
 *
 * Layouts as conv_direct.cl: x[n][C][H][W], w[K][Cg][R][S], y[n][K][P][Q].
 * global = (ceil(Q or W, DIR_WG_Q)*DIR_WG_Q, ceil(P or H, DIR_WG_P)*DIR_WG_P,
 * nimg*K or nimg*C), local = (DIR_WG_Q, DIR_WG_P, 1): the third id is
 * uniform over a work-group, so every barrier is reached by all of it. */
#ifndef REAL
#define REAL float     /* element type */
#endif
#ifndef DIR_WG_Q
#define DIR_WG_Q 16    /* work-group width (along q / w) */
#endif
#ifndef DIR_WG_P
#define DIR_WG_P 4     /* work-group height (along p / h) */
#endif
#ifndef DIR_WSTAGE
#define DIR_WSTAGE 256 /* filter floats staged in local memory per step */
#endif

#define DWG_LWS (DIR_WG_Q * DIR_WG_P)

/* Copies n floats from src into stage by the whole work-group, between
 * barriers: the previous step's readers are done before it, this step's
 * readers start after it. */
static inline void dwg_stage(__local REAL *stage, const __global REAL *src, int n, int lid) {
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int i = lid; i < n; i += DWG_LWS) stage[i] = src[i];
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* ---------------------------------------------------------------------------
 * Forward: y[b][k][p][q] = act(bias[k] + sum_{cl,r,s} x * w), the taps of
 * whole input channels of filter k staged a chunk at a time.
 * has_bias/relu are flags (bias must be a valid buffer either way). */
__kernel __attribute__((reqd_work_group_size(DIR_WG_Q, DIR_WG_P, 1)))
void conv_direct_wg_fwd(__global const REAL *restrict x, ulong x_off,
                        __global const REAL *restrict w,
                        __global const REAL *restrict bias,
                        __global REAL *restrict y, ulong y_off,
                        int C, int H, int W, int K, int groups, int R, int S,
                        int P, int Q, int sh, int sw, int pt, int pl, int dh, int dw,
                        int nimg, int has_bias, int relu)
{
    __local REAL taps[DIR_WSTAGE];
    const int q = get_global_id(0), p = get_global_id(1), bk = get_global_id(2);
    const int lid = get_local_id(1) * DIR_WG_Q + get_local_id(0);
    if (bk >= nimg * K) return;  /* uniform per work-group */
    const int b = bk / K, k = bk - b * K;
    const int Cg = C / groups, Kg = K / groups, grp = k / Kg, RS = R * S;
    const int per_step = DIR_WSTAGE / RS;
    const bool live = q < Q && p < P;
    const __global REAL *xg = x + x_off + ((ulong)b * C + (ulong)grp * Cg) * H * W;
    const __global REAL *wk = w + (ulong)k * Cg * RS;
    const int ih0 = p * sh - pt, iw0 = q * sw - pl;
    REAL acc = (REAL)0;
    for (int c0 = 0; c0 < Cg; c0 += per_step) {
        const int nc = min(per_step, Cg - c0);
        dwg_stage(taps, wk + (ulong)c0 * RS, nc * RS, lid);
        if (!live) continue;
        for (int c = 0; c < nc; ++c) {
            const __global REAL *xc = xg + (ulong)(c0 + c) * H * W;
            for (int r = 0; r < R; ++r) {
                const int ih = ih0 + r * dh;
                if (ih < 0 || ih >= H) continue;
                for (int s = 0; s < S; ++s) {
                    const int iw = iw0 + s * dw;
                    if (iw >= 0 && iw < W) acc = fma(xc[ih * W + iw], taps[(c * R + r) * S + s], acc);
                }
            }
        }
    }
    if (!live) return;
    if (has_bias) acc += bias[k];
    if (relu) acc = fmax(acc, (REAL)0);
    y[y_off + (((ulong)b * K + k) * P + p) * Q + q] = acc;
}

/* ---------------------------------------------------------------------------
 * Backward-data (gather): dx[b][c][ih][iw] = beta*dx + sum over k in c's
 * group and the taps (r, s) that land on it of dy[b][k][p][q] * w[k][cl][r][s].
 * One owner per element, fixed order: deterministic, no atomics. The taps of
 * input channel cl for a chunk of the group's filters are staged per step.
 * beta == 0: dx is not read. */
__kernel __attribute__((reqd_work_group_size(DIR_WG_Q, DIR_WG_P, 1)))
void conv_direct_wg_bwd_data(__global const REAL *restrict dy, ulong dy_off,
                             __global const REAL *restrict w,
                             __global REAL *restrict dx, ulong dx_off,
                             int C, int H, int W, int K, int groups, int R, int S,
                             int P, int Q, int sh, int sw, int pt, int pl, int dh, int dw,
                             int nimg, REAL beta)
{
    __local REAL taps[DIR_WSTAGE];
    const int iw = get_global_id(0), ih = get_global_id(1), bc = get_global_id(2);
    const int lid = get_local_id(1) * DIR_WG_Q + get_local_id(0);
    if (bc >= nimg * C) return;  /* uniform per work-group */
    const int b = bc / C, c = bc - b * C;
    const int Cg = C / groups, Kg = K / groups, grp = c / Cg, cl = c - grp * Cg, RS = R * S;
    const int per_step = DIR_WSTAGE / RS;
    const bool live = iw < W && ih < H;
    REAL acc = (REAL)0;
    for (int k0 = 0; k0 < Kg; k0 += per_step) {
        const int nk = min(per_step, Kg - k0);
        /* taps[kk*RS + rs] = w[grp*Kg + k0 + kk][cl][rs]: RS floats every Cg*RS. */
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = lid; i < nk * RS; i += DWG_LWS) {
            const int kk = i / RS;
            taps[i] = w[((ulong)(grp * Kg + k0 + kk) * Cg + cl) * RS + (i - kk * RS)];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (!live) continue;
        for (int kk = 0; kk < nk; ++kk) {
            const __global REAL *dyk = dy + dy_off + ((ulong)b * K + grp * Kg + k0 + kk) * P * Q;
            for (int r = 0; r < R; ++r) {
                const int oh = ih + pt - r * dh;
                if (oh < 0 || oh % sh != 0 || oh / sh >= P) continue;
                for (int s = 0; s < S; ++s) {
                    const int ow = iw + pl - s * dw;
                    if (ow < 0 || ow % sw != 0 || ow / sw >= Q) continue;
                    acc = fma(dyk[(oh / sh) * Q + ow / sw], taps[kk * RS + r * S + s], acc);
                }
            }
        }
    }
    if (!live) return;
    __global REAL *o = dx + dx_off + (((ulong)b * C + c) * H + ih) * W + iw;
    *o = beta == (REAL)0 ? acc : acc + beta * *o;
}
