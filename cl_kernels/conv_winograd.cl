/* anycl convolution: Winograd F(2x2, 3x3) for 3x3 filters, stride 1,
 * dilation 1, groups 1, any (asymmetric) padding. NCHW float.
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL  element type (float)
 *   MR    packed-A panel height; must equal the GEMM's MR
 *   NR    packed-B panel width; must equal the GEMM's NR
 *
 * Pipeline (xi = 0..15 indexes the 4x4 transform domain, row-major):
 *   U[xi] = (G g G^T)[xi]     packed-A, M = K, K-dim = C   (filter transform)
 *   V[xi] = (B^T d B)[xi]     packed-B, K-dim = C, N = T   (input transform)
 *   M[xi] = U[xi] * V[xi]     16 batched GEMMs by the GEMM family, row-major
 *   y     = A^T M A (+bias, ReLU)                          (output transform)
 * Tiles: tp = ceil(P/2), tq = ceil(Q/2), tile t = (b*tp + ty)*tq + tx over the
 * nimg images of the host's batch chunk, T = nimg*tp*tq. Tile (ty, tx) reads
 * input rows 2ty-pt .. 2ty-pt+3 and cols 2tx-pl .. 2tx-pl+3 (zero outside).
 *
 * Backward-data uses the same kernels: dx = forward Winograd on dy (C_in = K,
 * C_out = C) with winograd_filter_transform(flip = 1) and padding
 * (2-pt, 2-pl, 2-pb, 2-pr) (needs every pad <= 2), no bias, no ReLU.
 * All kernels guard their global ids, so global sizes may be rounded up. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef MR
#define MR 4        /* packed-A panel height; must match the GEMM */
#endif
#ifndef NR
#define NR 8        /* packed-B panel width; must match the GEMM */
#endif

/* ---------------------------------------------------------------------------
 * U[xi][i][j] in packed-A layout (rows i < M, K-dim j < Kd), block xi at
 * up + xi*ustride with ustride = ceil(M/MR)*MR*Kd; padded rows are written 0.
 *   flip = 0 (forward):        M = K, Kd = C, g = w[i][j][r][s]
 *   flip = 1 (backward-data):  M = C, Kd = K, g = w[j][i][2-r][2-s]
 * global = (Kd, ceil(M/MR)*MR). */
__kernel void winograd_filter_transform(__global const REAL *restrict w,
                                        __global REAL *restrict up, ulong ustride,
                                        int M, int Kd, int flip)
{
    const int j = get_global_id(0), i = get_global_id(1);
    const int mpad = (M + MR - 1) / MR * MR;
    if (j >= Kd || i >= mpad) return;
    __global REAL *o = up + (ulong)(i / MR) * Kd * MR + (ulong)j * MR + (i % MR);

    REAL g[3][3];
    if (i < M) {
        const __global REAL *src = w + (flip ? ((ulong)j * M + i) : ((ulong)i * Kd + j)) * 9;
        for (int r = 0; r < 3; ++r)
            for (int s = 0; s < 3; ++s)
                g[r][s] = flip ? src[(2 - r) * 3 + (2 - s)] : src[r * 3 + s];
    } else {
        for (int r = 0; r < 3; ++r)
            for (int s = 0; s < 3; ++s) g[r][s] = (REAL)0;
    }
    /* Gg: 4x3 */
    REAL t[4][3];
    for (int s = 0; s < 3; ++s) {
        t[0][s] = g[0][s];
        t[1][s] = (REAL)0.5 * (g[0][s] + g[1][s] + g[2][s]);
        t[2][s] = (REAL)0.5 * (g[0][s] - g[1][s] + g[2][s]);
        t[3][s] = g[2][s];
    }
    /* (Gg)G^T: 4x4 */
    for (int a = 0; a < 4; ++a) {
        const REAL u0 = t[a][0];
        const REAL u1 = (REAL)0.5 * (t[a][0] + t[a][1] + t[a][2]);
        const REAL u2 = (REAL)0.5 * (t[a][0] - t[a][1] + t[a][2]);
        const REAL u3 = t[a][2];
        o[(ulong)(a * 4 + 0) * ustride] = u0;
        o[(ulong)(a * 4 + 1) * ustride] = u1;
        o[(ulong)(a * 4 + 2) * ustride] = u2;
        o[(ulong)(a * 4 + 3) * ustride] = u3;
    }
}

/* ---------------------------------------------------------------------------
 * V[xi][c][t] in packed-B layout, block xi at vp + vp_off + xi*vstride with
 * vstride >= ceil(T/NR)*NR*C; tiles t >= T are written 0.
 * One work-item owns channel c of tile panel jp: NR consecutive tiles, i.e.
 * 16 contiguous runs of NR floats. (b, ty, tx) is split once, then stepped.
 * Tiles wholly inside the image skip the per-element bounds tests.
 * global = (C, ceil(T/NR)). */
__kernel void winograd_input_transform(__global const REAL *restrict x, ulong x_off,
                                       __global REAL *restrict vp, ulong vp_off, ulong vstride,
                                       int C, int H, int W, int tp, int tq, int pt, int pl,
                                       int nimg)
{
    const int c = get_global_id(0), jp = get_global_id(1);
    const int T = nimg * tp * tq;
    if (c >= C || jp * NR >= T) return;
    __global REAL *o = vp + vp_off + (ulong)jp * C * NR + (ulong)c * NR;

    const int t0 = jp * NR;
    int b = t0 / (tp * tq);
    int ty = (t0 - b * tp * tq) / tq;
    int tx = t0 - b * tp * tq - ty * tq;
    for (int jj = 0; jj < NR; ++jj) {
        REAL d[4][4];
        if (b < nimg) {
            const __global REAL *xc = x + x_off + ((ulong)b * C + c) * H * W;
            const int h0 = 2 * ty - pt, w0 = 2 * tx - pl;
            if (h0 >= 0 && h0 + 3 < H && w0 >= 0 && w0 + 3 < W) {
                const __global REAL *src = xc + h0 * W + w0;
                for (int a = 0; a < 4; ++a)
                    for (int e = 0; e < 4; ++e) d[a][e] = src[a * W + e];
            } else {
                for (int a = 0; a < 4; ++a)
                    for (int e = 0; e < 4; ++e) {
                        const int ih = h0 + a, iw = w0 + e;
                        d[a][e] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xc[ih * W + iw]
                                                                           : (REAL)0;
                    }
            }
        } else {
            for (int a = 0; a < 4; ++a)
                for (int e = 0; e < 4; ++e) d[a][e] = (REAL)0;
        }
        /* B^T d */
        REAL u[4][4];
        for (int e = 0; e < 4; ++e) {
            u[0][e] = d[0][e] - d[2][e];
            u[1][e] = d[1][e] + d[2][e];
            u[2][e] = d[2][e] - d[1][e];
            u[3][e] = d[1][e] - d[3][e];
        }
        /* (B^T d) B */
        for (int a = 0; a < 4; ++a) {
            o[(ulong)(a * 4 + 0) * vstride + jj] = u[a][0] - u[a][2];
            o[(ulong)(a * 4 + 1) * vstride + jj] = u[a][1] + u[a][2];
            o[(ulong)(a * 4 + 2) * vstride + jj] = u[a][2] - u[a][1];
            o[(ulong)(a * 4 + 3) * vstride + jj] = u[a][1] - u[a][3];
        }
        if (++tx == tq) {
            tx = 0;
            if (++ty == tp) { ty = 0; ++b; }
        }
    }
}

/* ---------------------------------------------------------------------------
 * y[b][k][2ty .. 2ty+1][2tx .. 2tx+1] = act(bias[k] + (A^T M A)), where
 * M[xi][k][t] = m[m_off + xi*mstride + k*ldm + t] is the row-major GEMM output.
 * Loop-free body so POCL vectorises across tx (contiguous reads of m).
 * global = (tq, tp, nimg*K). bias must be valid even when has_bias == 0. */
__kernel void winograd_output_transform(__global const REAL *restrict m, ulong m_off,
                                        ulong mstride, int ldm,
                                        __global const REAL *restrict bias,
                                        __global REAL *restrict y, ulong y_off,
                                        int K, int P, int Q, int tp, int tq, int nimg,
                                        int has_bias, int relu)
{
    const int tx = get_global_id(0), ty = get_global_id(1), bk = get_global_id(2);
    if (tx >= tq || ty >= tp || bk >= nimg * K) return;
    const int b = bk / K, k = bk - b * K;
    const int t = (b * tp + ty) * tq + tx;
    const __global REAL *src = m + m_off + (ulong)k * ldm + t;

    REAL v[16];
    for (int xi = 0; xi < 16; ++xi) v[xi] = src[(ulong)xi * mstride];
    /* A^T M: 2x4 */
    REAL s0[4], s1[4];
    for (int e = 0; e < 4; ++e) {
        s0[e] = v[e] + v[4 + e] + v[8 + e];
        s1[e] = v[4 + e] - v[8 + e] - v[12 + e];
    }
    const REAL bv = has_bias ? bias[k] : (REAL)0;
    REAL y00 = s0[0] + s0[1] + s0[2] + bv, y01 = s0[1] - s0[2] - s0[3] + bv;
    REAL y10 = s1[0] + s1[1] + s1[2] + bv, y11 = s1[1] - s1[2] - s1[3] + bv;
    if (relu) {
        y00 = fmax(y00, (REAL)0); y01 = fmax(y01, (REAL)0);
        y10 = fmax(y10, (REAL)0); y11 = fmax(y11, (REAL)0);
    }
    const int oh = 2 * ty, ow = 2 * tx;
    __global REAL *yo = y + y_off + (((ulong)b * K + k) * P + oh) * Q + ow;
    const bool wide = ow + 1 < Q, tall = oh + 1 < P;
    yo[0] = y00;
    if (wide) yo[1] = y01;
    if (tall) {
        yo[Q] = y10;
        if (wide) yo[Q + 1] = y11;
    }
}
