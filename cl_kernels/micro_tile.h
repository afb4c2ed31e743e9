/* The packed GEMM's register tile, shared by gemm_packed and the fused
 * Winograd products: an MR x NR block of C as MR x NV accumulator vectors,
 * fed by a packed-A micro-panel (MR values per k) and a packed-B micro-panel
 * (NR values per k), both read strictly linearly, which is what keeps the
 * hardware prefetchers (and GPU coalescing across work-items) happy.
 * Expects REAL, VW, MR, NR, KU and common.h; MICRO_TILE_A_SPACE and
 * MICRO_TILE_B_SPACE name the address spaces of the packed-A and packed-B
 * panels (__global unless the includer says). A kernel that needs the tile
 * over other address spaces too includes this file again with those spaces
 * and MICRO_TILE_FN naming the second set of functions (name##_global, say). */
#ifndef MICRO_TILE_FN
#define MICRO_TILE_FN(name) name
#endif

#ifndef MICRO_TILE_A_SPACE
#define MICRO_TILE_A_SPACE __global
#endif
#ifndef MICRO_TILE_B_SPACE
#define MICRO_TILE_B_SPACE __global
#endif

#if NR % VW != 0
#error "NR must be a multiple of VW"
#endif
#ifndef NV
#define NV (NR / VW) /* accumulator vectors per tile row */
#endif

/* One k step on B's NR values already loaded: acc += (a[0], a[rs], ..,
 * a[(MR-1)*rs]) (x) bv. */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_fma)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, const int rs, const REALV bv[NV])
{
#pragma unroll
    for (int r = 0; r < MR; ++r) {
        const REALV av = (REALV)(a[r * rs]);
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = fma(av, bv[c], acc[r][c]);
    }
}

/* One k step: acc += (a[0], a[rs], .., a[(MR-1)*rs]) (x) bp[0..NR). */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_step_rows)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, const int rs,
                                    MICRO_TILE_B_SPACE const REAL *bp)
{
    REALV bv[NV];
#pragma unroll
    for (int c = 0; c < NV; ++c) bv[c] = VLOAD(bp + c * VW);
    MICRO_TILE_FN(micro_tile_fma)(acc, a, rs, bv);
}

/* One k step of a packed-A micro-panel (its MR values adjacent). */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_step)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, MICRO_TILE_B_SPACE const REAL *bp)
{
    MICRO_TILE_FN(micro_tile_step_rows)(acc, a, 1, bp);
}

/* acc += sum over kk < k of the outer products, in order of kk: A's rows rs
 * apart, its k steps ks apart (packed-A: 1 and MR; A row-major by k: its row
 * length and 1); B's k steps bs apart (packed-B: NR; B row-major by k, read
 * in place: its row length). */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_add_strided)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, const int rs,
                                      const int ks, MICRO_TILE_B_SPACE const REAL *bp, const int bs, const int k)
{
    int kk = 0;
    for (; kk + KU <= k; kk += KU) {
#pragma unroll
        for (int u = 0; u < KU; ++u) {
            MICRO_TILE_FN(micro_tile_step_rows)(acc, a, rs, bp);
            a += ks;
            bp += bs;
        }
    }
    for (; kk < k; ++kk) {
        MICRO_TILE_FN(micro_tile_step_rows)(acc, a, rs, bp);
        a += ks;
        bp += bs;
    }
}

/* The same over a packed-B micro-panel. */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_add_rows)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, const int rs, const int ks,
                                   MICRO_TILE_B_SPACE const REAL *bp, const int k)
{
    MICRO_TILE_FN(micro_tile_add_strided)(acc, a, rs, ks, bp, NR, k);
}

/* acc += sum over kk < k of the packed panels' outer products, in order of kk. */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_add)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, MICRO_TILE_B_SPACE const REAL *bp, const int k)
{
    MICRO_TILE_FN(micro_tile_add_rows)(acc, a, 1, MR, bp, k);
}

/* acc = sum over kk < k of the outer products (acc is overwritten), A's rows
 * rs apart and its k steps ks apart. */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile_rows)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, const int rs, const int ks,
                               MICRO_TILE_B_SPACE const REAL *bp, const int k)
{
#pragma unroll
    for (int r = 0; r < MR; ++r)
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = (REALV)0;
    MICRO_TILE_FN(micro_tile_add_rows)(acc, a, rs, ks, bp, k);
}

/* acc = sum over kk < k of the packed panels' outer products (acc is overwritten). */
static inline __attribute__((always_inline)) void
MICRO_TILE_FN(micro_tile)(REALV acc[MR][NV], MICRO_TILE_A_SPACE const REAL *a, MICRO_TILE_B_SPACE const REAL *bp, const int k)
{
    MICRO_TILE_FN(micro_tile_rows)(acc, a, 1, MR, bp, k);
}
