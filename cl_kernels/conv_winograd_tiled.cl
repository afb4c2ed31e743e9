/* anycl convolution: Winograd F(2x2, 3x3) as three stages around the tiled
 * GEMM family (gemm_tiled.cl), for GPU-class devices (built only where that
 * family runs). 3x3 filters, stride 1, dilation 1, groups 1, any padding;
 * NCHW float. conv_winograd.cl fuses the stages for CPUs (V and the products
 * stay in a work-group's local memory and caches); on a GPU the 16 products
 * are better done by the tiled GEMM, batched 16 deep, over plain planes:
 *   U[xi] = (G g G^T)[xi]    cout x cin, row-major, block xi at u + xi*cout*cin
 *   V[xi] = (B^T d B)[xi]    cin x T,    row-major, block xi at v + xi*cin*T
 *   M[xi] = U[xi] V[xi]      cout x T    (the tiled GEMM, batch 16)
 *   y     = A^T M A (+bias, ReLU)
 * xi = 4a + b indexes the 4x4 transform domain (a from rows, b from columns).
 * Tiles: tp = ceil(oh/2), tq = ceil(ow/2), tile t = (b*tp + ty)*tq + tx over
 * the nimg images of the host's batch chunk, T = nimg*tp*tq; tile (ty, tx)
 * reads input rows 2ty-pt .. 2ty-pt+3 and columns 2tx-pl .. +3 (zero outside).
 * One work-item a tile and channel, tiles fastest: neighbouring work-items
 * write neighbouring V and y elements (coalesced).
 *
 * Backward-data runs the same stages on dy (cin = K, cout = C) with flip = 1
 * (the rotated, transposed filter) and pads 2-pt, 2-pl.
 *
 * Tunables (every one is a -D define; defaults fit any OpenCL 1.2 GPU):
 *   REAL      element type (float)
 *   WT_LWS    work-group width along tiles of the transform kernels (the
 *             host launches (WT_LWS, 1, 1) work-groups)
 * All kernels guard their global ids, so global sizes may be rounded up. */
#ifndef REAL
#define REAL float  /* element type */
#endif
#ifndef WT_LWS
#define WT_LWS 64   /* transform kernels' work-group width along tiles */
#endif

/* ---------------------------------------------------------------------------
 * U[xi][i][j] for i < M, j < Kd:
 *   flip = 0 (forward):        M = K, Kd = C, g = w[i][j][r][s]
 *   flip = 1 (backward-data):  M = C, Kd = K, g = w[j][i][2-r][2-s]
 * global = (Kd, M). */
__kernel void wt_filter(__global const REAL *restrict w, __global REAL *restrict u, int M, int Kd, int flip)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= Kd || i >= M) return;
    REAL g[9];
    for (int e = 0; e < 9; ++e)
        g[e] = flip ? w[((ulong)j * M + i) * 9 + (8 - e)] : w[((ulong)i * Kd + j) * 9 + e];
    REAL t[4][3];  /* G g: 4x3 */
    for (int b = 0; b < 3; ++b) {
        t[0][b] = g[b];
        t[1][b] = (REAL)0.5 * (g[b] + g[3 + b] + g[6 + b]);
        t[2][b] = (REAL)0.5 * (g[b] - g[3 + b] + g[6 + b]);
        t[3][b] = g[6 + b];
    }
    const ulong plane = (ulong)M * Kd;
    __global REAL *o = u + (ulong)i * Kd + j;
    for (int a = 0; a < 4; ++a) {  /* (G g) G^T: 4x4 */
        o[(4 * a + 0) * plane] = t[a][0];
        o[(4 * a + 1) * plane] = (REAL)0.5 * (t[a][0] + t[a][1] + t[a][2]);
        o[(4 * a + 2) * plane] = (REAL)0.5 * (t[a][0] - t[a][1] + t[a][2]);
        o[(4 * a + 3) * plane] = t[a][2];
    }
}

/* ---------------------------------------------------------------------------
 * V[xi][c][t] = (B^T d B)[xi] of channel c of tile t, d the tile's 4x4 input
 * patch. global = (T, C). */
__kernel void wt_input(__global const REAL *restrict x, ulong x_off, __global REAL *restrict v,
                       int C, int H, int W, int tp, int tq, int pt, int pl, int nimg)
{
    const int t = get_global_id(0), c = get_global_id(1);
    const int T = nimg * tp * tq;
    if (t >= T || c >= C) return;
    const int b = t / (tp * tq), ty = (t - b * tp * tq) / tq, tx = t - (b * tp + ty) * tq;
    const __global REAL *xc = x + x_off + ((ulong)b * C + c) * H * W;
    const int h0 = 2 * ty - pt, w0 = 2 * tx - pl;
    REAL d[4][4];
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            const int ih = h0 + i, iw = w0 + j;
            d[i][j] = ih >= 0 && ih < H && iw >= 0 && iw < W ? xc[ih * W + iw] : (REAL)0;
        }
    REAL r[4][4];  /* B^T d: rows */
    for (int j = 0; j < 4; ++j) {
        r[0][j] = d[0][j] - d[2][j];
        r[1][j] = d[1][j] + d[2][j];
        r[2][j] = d[2][j] - d[1][j];
        r[3][j] = d[1][j] - d[3][j];
    }
    const ulong plane = (ulong)C * T;
    __global REAL *o = v + (ulong)c * T + t;
    for (int a = 0; a < 4; ++a) {  /* (B^T d) B: columns */
        o[(4 * a + 0) * plane] = r[a][0] - r[a][2];
        o[(4 * a + 1) * plane] = r[a][1] + r[a][2];
        o[(4 * a + 2) * plane] = r[a][2] - r[a][1];
        o[(4 * a + 3) * plane] = r[a][1] - r[a][3];
    }
}

/* ---------------------------------------------------------------------------
 * y[b][k][2ty+i][2tx+j] = act(bias[k] + (A^T M A)[i][j]) for the tile's
 * outputs inside oh x ow, A = [[1,0],[1,1],[1,-1],[0,-1]]. bias must be a
 * valid buffer even when has_bias == 0. global = (T, K). */
__kernel void wt_output(__global const REAL *restrict m, __global const REAL *restrict bias,
                        __global REAL *restrict y, ulong y_off, int K, int oh, int ow, int tp, int tq,
                        int nimg, int has_bias, int relu)
{
    const int t = get_global_id(0), k = get_global_id(1);
    const int T = nimg * tp * tq;
    if (t >= T || k >= K) return;
    const ulong plane = (ulong)K * T;
    const __global REAL *mk = m + (ulong)k * T + t;
    REAL s[4][2];  /* M A: rows of the 4x4 folded to 2 columns */
    for (int a = 0; a < 4; ++a) {
        const REAL m0 = mk[(4 * a) * plane], m1 = mk[(4 * a + 1) * plane];
        const REAL m2 = mk[(4 * a + 2) * plane], m3 = mk[(4 * a + 3) * plane];
        s[a][0] = m0 + m1 + m2;
        s[a][1] = m1 - m2 - m3;
    }
    const int b = t / (tp * tq), ty = (t - b * tp * tq) / tq, tx = t - (b * tp + ty) * tq;
    const REAL bv = has_bias ? bias[k] : (REAL)0;
    __global REAL *yo = y + y_off + ((ulong)b * K + k) * oh * ow;
    for (int i = 0; i < 2; ++i) {
        const int p = 2 * ty + i;
        if (p >= oh) break;
        for (int j = 0; j < 2; ++j) {
            const int q = 2 * tx + j;
            if (q >= ow) break;
            REAL val = bv + (i == 0 ? s[0][j] + s[1][j] + s[2][j] : s[1][j] - s[2][j] - s[3][j]);
            yo[p * ow + q] = relu ? fmax(val, (REAL)0) : val;
        }
    }
}
