/* anycl convolution: depthwise (groups == C == K) forward in channels-last
 * layout: x[n][h][w][c], w[c][r][s] (OHWI with one input channel per group),
 * y[n][p][q][c]; any stride, padding and dilation.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL     element type (float)
 *   DWN_LWS  host: work-items per work-group along the channels (POCL
 *            vectorises across them; one work-item alone runs scalar)
 *
 * One work-item per output (channel, pixel). Work-items run along the channel,
 * the contiguous axis of x and y, so their loads and stores are unit-stride
 * and POCL vectorises across them; the NCHW depthwise family would need the
 * tensors transposed around it, which costs more than this memory-bound layer.
 * global = (C rounded up to DWN_LWS, Q, n*P), local = (DWN_LWS, 1, 1). */
#ifndef REAL
#define REAL float   /* element type */
#endif
#ifndef DWN_LWS
#define DWN_LWS 16   /* host: work-group size along the channels */
#endif

__kernel void conv_dw_nhwc_fwd(__global const REAL *restrict x, __global const REAL *restrict w,
                               __global const REAL *restrict bias, __global REAL *restrict y,
                               int C, int H, int W, int R, int S, int P, int Q, int sh, int sw,
                               int pt, int pl, int dh, int dw, int has_bias, int relu)
{
    const int c = get_global_id(0), q = get_global_id(1), np = get_global_id(2);
    if (c >= C || q >= Q) return;
    const int n = np / P, p = np % P;
    REAL acc = has_bias ? bias[c] : (REAL)0;
    for (int r = 0; r < R; ++r) {
        const int ih = p * sh - pt + r * dh;
        if (ih < 0 || ih >= H) continue;
        const ulong row = ((ulong)n * H + ih) * W;
        for (int s = 0; s < S; ++s) {
            const int iw = q * sw - pl + s * dw;
            if (iw < 0 || iw >= W) continue;
            acc += x[(row + iw) * C + c] * w[(c * R + r) * S + s];
        }
    }
    if (relu) acc = fmax(acc, (REAL)0);
    y[(((ulong)n * P + p) * Q + q) * C + c] = acc;
}
