/* anycl convolution: direct kernels for depthwise / small-group convolution
 * (Cg = C/groups small, e.g. <= 4), where im2col+GEMM would have a tiny K.
 * NCHW float; any stride, asymmetric padding, dilation and groups.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL         element type (float)
 *   DIR_OQ       outputs along q per forward work-item (private accumulators)
 *   DIR_OW       dx outputs along w per backward-data work-item
 *   DIR_RED_LWS  work-group size of the reduction kernels (power of two, fixed
 *                by reqd_work_group_size, so the host must launch with it)
 *   DIRECT_GROUP_CHANNELS  host dispatch: grouped convolutions with at most
 *                this many input channels per group run here (unused by the code)
 *
 * Layouts: x[n][C][H][W], w[K][Cg][R][S], y[n][K][P][Q]; Cg = C/groups,
 * Kg = K/groups. Each tensor comes with a ulong element offset to the first
 * image of the (host-chosen) batch chunk; nimg is the chunk size. All kernels
 * guard their global ids, so global sizes may be rounded up.
 *
 * Vectorisation: POCL only vectorises a kernel's innermost loop, so every
 * kernel below ends in a branch-free loop along w/q whose bounds are solved
 * up front (padding handled by the loop range, not per-element tests). */
#ifndef REAL
#define REAL float     /* element type */
#endif
#ifndef DIR_OQ
#define DIR_OQ 16      /* forward outputs along q per work-item */
#endif
#ifndef DIR_OW
#define DIR_OW 16      /* backward-data outputs along w per work-item */
#endif
#ifndef DIR_RED_LWS
#define DIR_RED_LWS 64 /* reduction work-group size (power of two) */
#endif
#ifndef DIRECT_GROUP_CHANNELS
#define DIRECT_GROUP_CHANNELS 4 /* host: groups > 1 and C/groups <= this run direct */
#endif

/* First t >= 0 with base + t*step >= 0 (step > 0). */
static inline int dr_first_nonneg(int base, int step) {
    return base >= 0 ? 0 : (-base + step - 1) / step;
}
/* One past the last t with base + t*step <= lim - 1 (0 if none). */
static inline int dr_end_below(int base, int step, int lim) {
    return base > lim - 1 ? 0 : (lim - 1 - base) / step + 1;
}

/* ---------------------------------------------------------------------------
 * Forward: y[b][k][p][q0 .. q0+DIR_OQ) = act(bias[k] + sum_{cl,r,s} x * w).
 * global = (ceil(Q/DIR_OQ), P, nimg*K). has_bias/relu are flags (bias must be
 * a valid buffer even when has_bias == 0). */
__kernel void conv_direct_fwd(__global const REAL *restrict x, ulong x_off,
                              __global const REAL *restrict w,
                              __global const REAL *restrict bias,
                              __global REAL *restrict y, ulong y_off,
                              int C, int H, int W, int K, int groups, int R, int S,
                              int P, int Q, int sh, int sw, int pt, int pl, int dh, int dw,
                              int nimg, int has_bias, int relu)
{
    const int qb = get_global_id(0), p = get_global_id(1), bk = get_global_id(2);
    const int q0 = qb * DIR_OQ;
    if (q0 >= Q || p >= P || bk >= nimg * K) return;
    const int b = bk / K, k = bk - b * K;
    const int Cg = C / groups, Kg = K / groups, grp = k / Kg;
    const int nq = min(DIR_OQ, Q - q0);

    REAL acc[DIR_OQ];
    const REAL b0 = has_bias ? bias[k] : (REAL)0;
    for (int t = 0; t < DIR_OQ; ++t) acc[t] = b0;

    const __global REAL *xb = x + x_off + ((ulong)b * C + (ulong)grp * Cg) * H * W;
    const __global REAL *wk = w + (ulong)k * Cg * R * S;
    for (int cl = 0; cl < Cg; ++cl) {
        const __global REAL *xc = xb + (ulong)cl * H * W;
        for (int r = 0; r < R; ++r) {
            const int ih = p * sh - pt + r * dh;
            if (ih < 0 || ih >= H) continue;
            const __global REAL *xr = xc + ih * W;
            for (int s = 0; s < S; ++s) {
                const REAL wv = wk[(cl * R + r) * S + s];
                const int iw0 = q0 * sw - pl + s * dw;
                const int lo = min(nq, dr_first_nonneg(iw0, sw));
                const int hi = min(nq, dr_end_below(iw0, sw, W));
                for (int t = lo; t < hi; ++t) acc[t] = fma(wv, xr[iw0 + t * sw], acc[t]);
            }
        }
    }
    __global REAL *yo = y + y_off + (((ulong)b * K + k) * P + p) * Q + q0;
    if (relu) {
        for (int t = 0; t < nq; ++t) yo[t] = fmax(acc[t], (REAL)0);
    } else {
        for (int t = 0; t < nq; ++t) yo[t] = acc[t];
    }
}

/* ---------------------------------------------------------------------------
 * Backward-data (gather): dx[b][c][ih][iw0 .. iw0+DIR_OW) = beta*dx +
 * sum over k in c's group and the taps (r, s) that land on the element of
 * dy[b][k][p][q] * w[k][c%Cg][r][s]. One owner per dx element, fixed order
 * => deterministic, no atomics. The stride congruence is solved once per
 * (r, s). global = (ceil(W/DIR_OW), H, nimg*C). beta == 0: dx is not read. */
__kernel void conv_direct_bwd_data(__global const REAL *restrict dy, ulong dy_off,
                                   __global const REAL *restrict w,
                                   __global REAL *restrict dx, ulong dx_off,
                                   int C, int H, int W, int K, int groups, int R, int S,
                                   int P, int Q, int sh, int sw, int pt, int pl, int dh, int dw,
                                   int nimg, REAL beta)
{
    const int wb = get_global_id(0), ih = get_global_id(1), bc = get_global_id(2);
    const int iw0 = wb * DIR_OW;
    if (iw0 >= W || ih >= H || bc >= nimg * C) return;
    const int b = bc / C, c = bc - b * C;
    const int Cg = C / groups, Kg = K / groups, grp = c / Cg, cl = c - grp * Cg;
    const int nw = min(DIR_OW, W - iw0);

    REAL acc[DIR_OW];
    for (int j = 0; j < DIR_OW; ++j) acc[j] = (REAL)0;

    for (int kk = 0; kk < Kg; ++kk) {
        const int k = grp * Kg + kk;
        const __global REAL *dyk = dy + dy_off + ((ulong)b * K + k) * P * Q;
        const __global REAL *wk = w + ((ulong)k * Cg + cl) * R * S;
        for (int r = 0; r < R; ++r) {
            const int oh = ih + pt - r * dh;
            if (oh < 0 || oh % sh != 0) continue;
            const int p = oh / sh;
            if (p >= P) continue;
            const __global REAL *row = dyk + p * Q;
            for (int s = 0; s < S; ++s) {
                const REAL wv = wk[r * S + s];
                const int base = iw0 + pl - s * dw;  /* ow of j = 0 */
                int j = max(0, -base);
                const int rem = (base + j) % sw;
                if (rem) j += sw - rem;
                if (sw == 1) {
                    const int jend = min(nw, Q - base);
                    for (; j < jend; ++j) acc[j] = fma(wv, row[base + j], acc[j]);
                } else {
                    for (int q = (base + j) / sw; j < nw && q < Q; j += sw, ++q)
                        acc[j] = fma(wv, row[q], acc[j]);
                }
            }
        }
    }
    __global REAL *o = dx + dx_off + (((ulong)b * C + c) * H + ih) * W + iw0;
    if (beta == (REAL)0) {
        for (int j = 0; j < nw; ++j) o[j] = acc[j];
    } else {
        for (int j = 0; j < nw; ++j) o[j] = acc[j] + beta * o[j];
    }
}

/* ---------------------------------------------------------------------------
 * Backward-weights: dw[k][cl][r][s] = beta*dw + sum over b < nimg, p, q of
 * dy[b][k][p][q] * x[b][grp*Cg + cl][p*sh - pt + r*dh][q*sw - pl + s*dw].
 * One work-group per weight element (group id = ((k*Cg + cl)*R + r)*S + s):
 * each work-item takes output rows (b, p) lid, lid+LWS, ...; the valid q
 * range of a row is solved once, then a local tree => deterministic.
 * global = (K*Cg*R*S*DIR_RED_LWS), local = (DIR_RED_LWS). beta = 1 accumulates
 * over batch chunks; beta == 0: dw is not read. */
__kernel __attribute__((reqd_work_group_size(DIR_RED_LWS, 1, 1)))
void conv_direct_bwd_weights(__global const REAL *restrict x, ulong x_off,
                             __global const REAL *restrict dy, ulong dy_off,
                             __global REAL *restrict dwt,
                             int C, int H, int W, int K, int groups, int R, int S,
                             int P, int Q, int sh, int sw, int pt, int pl, int dh, int dw,
                             int nimg, REAL beta)
{
    __local REAL part[DIR_RED_LWS];
    const int e = get_group_id(0), lid = get_local_id(0);
    const int Cg = C / groups, Kg = K / groups;
    if (e >= K * Cg * R * S) return;  /* uniform per work-group */
    const int s = e % S, r = (e / S) % R, cl = (e / (R * S)) % Cg, k = e / (Cg * R * S);
    const int c = (k / Kg) * Cg + cl;
    const int soff = s * dw - pl;
    const int qlo = min(Q, dr_first_nonneg(soff, sw));
    const int qhi = max(qlo, min(Q, dr_end_below(soff, sw, W)));

    REAL acc = (REAL)0;
    for (int i = lid; i < nimg * P; i += DIR_RED_LWS) {
        const int b = i / P, p = i - b * P;
        const int ih = p * sh - pt + r * dh;
        if (ih < 0 || ih >= H) continue;
        const __global REAL *dyr = dy + dy_off + (((ulong)b * K + k) * P + p) * Q;
        const __global REAL *xr = x + x_off + (((ulong)b * C + c) * H + ih) * W;
        for (int q = qlo; q < qhi; ++q) acc = fma(dyr[q], xr[q * sw + soff], acc);
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = DIR_RED_LWS / 2; h > 0; h >>= 1) {
        if (lid < h) part[lid] += part[lid + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) dwt[e] = beta == (REAL)0 ? part[0] : part[0] + beta * dwt[e];
}

/* ---------------------------------------------------------------------------
 * dbias[k] = beta*dbias[k] + sum over b < nimg, pq of dy[b][k][pq]; same
 * deterministic scheme as above (copy of conv_dbias in conv_im2col.cl so this
 * family is self-contained). global = (K*DIR_RED_LWS), local = (DIR_RED_LWS). */
__kernel __attribute__((reqd_work_group_size(DIR_RED_LWS, 1, 1)))
void conv_direct_dbias(__global const REAL *restrict dy, ulong dy_off,
                       __global REAL *restrict dbias, int K, int PQ, int nimg, REAL beta)
{
    __local REAL part[DIR_RED_LWS];
    const int k = get_group_id(0), lid = get_local_id(0);
    if (k >= K) return;  /* uniform per work-group */
    REAL acc = (REAL)0;
    for (int b = 0; b < nimg; ++b) {
        const __global REAL *row = dy + dy_off + ((ulong)b * K + k) * PQ;
        for (int i = lid; i < PQ; i += DIR_RED_LWS) acc += row[i];
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = DIR_RED_LWS / 2; h > 0; h >>= 1) {
        if (lid < h) part[lid] += part[lid + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) dbias[k] = beta == (REAL)0 ? part[0] : part[0] + beta * dbias[k];
}
