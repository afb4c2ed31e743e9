/* The transform matrices of Winograd F(m x m, 3x3), m = WINO_M (2 or 4),
 * for conv_winograd.cl: Y = A^T [(G g G^T) . (B^T d B)] A over input tiles
 * of WINO_ALPHA = m + 2 values a side (d), correlated with 3x3 filters (g).
 * Toom-Cook on points p_a and infinity: row a of B^T holds the coefficients
 * (lowest power first) of the product of (x - p_b) over the other finite
 * points (row inf: over all of them), row a of G is p_a^r / prod_b (p_a - p_b)
 * (row inf: 0, 0, 1), column a of A^T is p_a^i (column inf: 0, ..., 0, 1).
 *
 *   F(2x2): points 0, 1, -1: Lavin and Gray's matrices (the signs of rows 0
 *           and inf moved between the matrices).
 *   F(4x4): points 0, 2, -2, 1/2, -1/2. Lavin's 0, +-1, +-2 let a corner
 *           output's rounding grow to 256x a direct sum's, these to 54x
 *           (docs/reliability.md, "Winograd accuracy"); every entry of B^T
 *           and A^T is exact in binary.
 *
 * Expects REAL, REALV and WINO_M. The matrices are __constant tables read at
 * constant indices in fully unrolled loops, so the compiler folds them: a
 * zero entry costs nothing, +-1 a plain add or subtract. */
#ifndef ANYCL_WINOGRAD_TRANSFORM_H
#define ANYCL_WINOGRAD_TRANSFORM_H

#if WINO_M == 2
#define WINO_ALPHA 4
__constant REAL wino_bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
__constant REAL wino_g[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
__constant REAL wino_at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
#elif WINO_M == 4
#define WINO_ALPHA 6
__constant REAL wino_bt[6][6] = {{1, 0, -4.25f, 0, 1, 0},     {0, -0.5f, -0.25f, 2, 1, 0},
                                 {0, 0.5f, -0.25f, -2, 1, 0}, {0, -2, -4, 0.5f, 1, 0},
                                 {0, 2, -4, -0.5f, 1, 0},     {0, 1, 0, -4.25f, 0, 1}};
__constant REAL wino_g[6][3] = {{1, 0, 0},
                                {1.0f / 30, 1.0f / 15, 2.0f / 15},
                                {1.0f / 30, -1.0f / 15, 2.0f / 15},
                                {-8.0f / 15, -4.0f / 15, -2.0f / 15},
                                {-8.0f / 15, 4.0f / 15, -2.0f / 15},
                                {0, 0, 1}};
__constant REAL wino_at[4][6] = {{1, 1, 1, 1, 1, 0},
                                 {0, 2, -2, 0.5f, -0.5f, 0},
                                 {0, 4, 4, 0.25f, 0.25f, 0},
                                 {0, 8, -8, 0.125f, -0.125f, 1}};
#else
#error "WINO_M must be 2 or 4"
#endif

#define WINO_PLANES (WINO_ALPHA * WINO_ALPHA) /* products, one per transform-domain point */

/* o = B^T d along one dimension for a vector of columns or tiles, zero
 * entries skipped (sums start at the first nonzero term, so no 0 + x is left
 * for the compiler to keep). */
static inline __attribute__((always_inline)) void wino_input_1d(const REALV d[WINO_ALPHA], REALV o[WINO_ALPHA])
{
#pragma unroll
    for (int a = 0; a < WINO_ALPHA; ++a) {
        REALV s = (REALV)0;
        bool started = false;
#pragma unroll
        for (int k = 0; k < WINO_ALPHA; ++k) {
            const REAL c = wino_bt[a][k];
            if (c == (REAL)0) continue;
            s = started ? s + c * d[k] : c * d[k];
            started = true;
        }
        o[a] = s;
    }
}

/* o = A^T v along one dimension (m of the ALPHA products), zero entries
 * skipped; A^T's entries are powers of two, so each term is exact. */
static inline __attribute__((always_inline)) void wino_output_1d(const REALV v[WINO_ALPHA], REALV o[WINO_M])
{
#pragma unroll
    for (int i = 0; i < WINO_M; ++i) {
        REALV s = (REALV)0;
        bool started = false;
#pragma unroll
        for (int k = 0; k < WINO_ALPHA; ++k) {
            const REAL c = wino_at[i][k];
            if (c == (REAL)0) continue;
            s = started ? s + c * v[k] : c * v[k];
            started = true;
        }
        o[i] = s;
    }
}

#endif /* ANYCL_WINOGRAD_TRANSFORM_H */
