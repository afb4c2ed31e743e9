/* The NCHW row transforms of conv_winograd_weights.cl, included once per
 * address space of their output: ROWS_SPACE names it, ROWS_FN(name) the
 * function's name for it. Expects that file's helpers (column_rows_v,
 * lanes_m, dy_tile_transform, realm). No include guard: included twice on purpose. */

/* V of the VW channels from c0 (zero from C on) for the n tiles from t0:
 * plane xi of tile tt at o + xi*vplane + tt*NR, whole vectors. */
static inline __attribute__((always_inline)) void
ROWS_FN(input_rows_vector)(const __global REAL *x, const int c0, const int t0, const int n, const int tp,
                           const int tq, const int C, const int H, const int W, const int pt, const int pl,
                           ROWS_SPACE REAL *o, const int vplane)
{
    const ulong cs = (ulong)H * W;
    const int nc = min(VW, C - c0);
    for (int tt = 0; tt < n;) {
        int b, ty, tx;
        tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
        const int run = min(n - tt, tq - tx), h0 = 2 * ty - pt, w0 = 2 * tx - pl;
        const __global REAL *xc = x + ((ulong)b * C + min(c0, C - 1)) * cs;
        const __global REAL *row[4];
        bool inside[4];
        for (int k = 0; k < 4; ++k) {
            row[k] = xc + clamp(h0 + k, 0, H - 1) * W;
            inside[k] = h0 + k >= 0 && h0 + k < H;
        }
        REALV u0[4], u1[4];
        column_rows_v(row, inside, w0, W, cs, nc, u0);
        column_rows_v(row, inside, w0 + 1, W, cs, nc, u1);
        for (int j = 0; j < run; ++j) {
            REALV u2[4], u3[4];
            column_rows_v(row, inside, w0 + 2 * j + 2, W, cs, nc, u2);
            column_rows_v(row, inside, w0 + 2 * j + 3, W, cs, nc, u3);
            ROWS_SPACE REAL *ot = o + (tt + j) * NR;
            for (int a = 0; a < 4; ++a) {
                VSTORE(u0[a] - u2[a], ot + (a * 4 + 0) * vplane);
                VSTORE(u1[a] + u2[a], ot + (a * 4 + 1) * vplane);
                VSTORE(u2[a] - u1[a], ot + (a * 4 + 2) * vplane);
                VSTORE(u1[a] - u3[a], ot + (a * 4 + 3) * vplane);
                u0[a] = u2[a];
                u1[a] = u3[a];
            }
        }
        tt += run;
    }
}

/* Y of the MR output channels from k0 (zero from K on) for the n tiles from
 * t0: A d A^T of each tile's 2x2 block, plane xi of tile tt at
 * o + xi*yplane + tt*MR. */
static inline __attribute__((always_inline)) void
ROWS_FN(dy_rows_panel)(const __global REAL *dy, const int k0, const int t0, const int n, const int tp,
                       const int tq, const int K, const int P, const int Q, ROWS_SPACE REAL *o, const int yplane)
{
    const ulong cs = (ulong)P * Q;
    for (int kl = 0; kl < MR; kl += M_LANES) {
        const int nk = min(M_LANES, K - k0 - kl);
        for (int tt = 0; tt < n;) {
            int b, ty, tx;
            tile_at(t0 + tt, tp, tq, &b, &ty, &tx);
            const int run = min(n - tt, tq - tx), p0 = 2 * ty;
            const bool below = p0 + 1 < P;
            const __global REAL *r0 = dy + ((ulong)b * K + clamp(k0 + kl, 0, K - 1)) * cs + p0 * Q;
            const __global REAL *r1 = r0 + (below ? Q : 0);
            for (int j = 0; j < run; ++j) {
                const int q0 = 2 * (tx + j), q1 = min(q0 + 1, Q - 1);
                const bool right = q0 + 1 < Q;
                const realm d00 = lanes_m(r0 + q0, cs, nk), d01 = lanes_m(r0 + q1, cs, right ? nk : 0);
                const realm d10 = lanes_m(r1 + q0, cs, below ? nk : 0);
                const realm d11 = lanes_m(r1 + q1, cs, below && right ? nk : 0);
                realm y[16];
                dy_tile_transform(d00, d01, d10, d11, y);
                ROWS_SPACE REAL *ot = o + (tt + j) * MR + kl;
                for (int xi = 0; xi < 16; ++xi) STORE_M(y[xi], ot + xi * yplane);
            }
            tt += run;
        }
    }
}
