/* Tiled GEMM for devices with fast local memory and many lanes (GPU class): 2-D work-groups,
 * tiles of both operands staged through local memory, a register tile per work-item, vector
 * loads and coalesced global reads. Any m, n, k (>= 0), ld, offset, transposes and batch: edge
 * tiles are zero-filled in local memory, so no padding or packing pass is needed.
 *
 * Parameters follow CLBlast's Xgemm, which computes a column-major C. anycl's C is row-major,
 * so here "M" runs along C's contiguous dimension (its columns j) and "N" along its rows i:
 *   the M-side tile (KWG x MWG) comes from op(B)[kk][j], the N-side tile (KWG x NWG) from op(A)[i][kk].
 * Coalesced vector loads happen along M for op(B) when B is not transposed and along N for op(A)
 * when A is transposed; the other layouts are loaded with k fastest (still coalesced, scalar).
 *
 * Tunables (cl_kernels/params/gemm_tiled.space.json lists the search space and its
 * constraints; the defaults below suit any OpenCL 1.2 GPU: 64 work-items, 4 KiB local memory
 * in fp32): */
#ifndef REAL
#define REAL float /* element type: float or double */
#endif
#ifndef MWG
#define MWG 32 /* tile of C along M (columns j) per work-group */
#endif
#ifndef NWG
#define NWG 32 /* tile of C along N (rows i) per work-group */
#endif
#ifndef KWG
#define KWG 16 /* k per local-memory tile */
#endif
#ifndef MDIMC
#define MDIMC 8 /* work-items along M (local size 0) */
#endif
#ifndef NDIMC
#define NDIMC 8 /* work-items along N (local size 1) */
#endif
#ifndef MDIMA
#define MDIMA 8 /* work-items along M when loading the op(B) tile (vector path) */
#endif
#ifndef NDIMB
#define NDIMB 8 /* work-items along N when loading the op(A) tile (vector path) */
#endif
#ifndef KWI
#define KWI 2 /* unroll of the k loop over a local tile; divides KWG */
#endif
#ifndef VWM
#define VWM 2 /* vector width along M: op(B) loads, accumulators, C stores */
#endif
#ifndef VWN
#define VWN 2 /* vector width along N: op(A) loads */
#endif
#ifndef STRM
#define STRM 0 /* 0: a work-item's M elements are contiguous; 1: strided by MDIMC*VWM */
#endif
#ifndef STRN
#define STRN 0 /* 0: a work-item's N elements are contiguous; 1: strided by NDIMC*VWN */
#endif
#ifndef SA
#define SA 1 /* 1: stage the op(B) tile in local memory; 0: each work-item reads global memory */
#endif
#ifndef SB
#define SB 1 /* 1: stage the op(A) tile in local memory; 0: each work-item reads global memory */
#endif

#include "common.h"

#define THREADS (MDIMC * NDIMC)
#define MWI (MWG / MDIMC) /* C columns per work-item */
#define NWI (NWG / NDIMC) /* C rows per work-item */
#define MVI (MWI / VWM)   /* accumulator vectors per row of the register tile */
#define KDIMA (THREADS / MDIMA)
#define KDIMB (THREADS / NDIMB)

#if MWG % (MDIMC * VWM) != 0 || NWG % (NDIMC * VWN) != 0
#error "MWG must be a multiple of MDIMC*VWM and NWG of NDIMC*VWN"
#endif
#if MWG % (MDIMA * VWM) != 0 || NWG % (NDIMB * VWN) != 0 || THREADS % MDIMA != 0 || THREADS % NDIMB != 0
#error "MWG must be a multiple of MDIMA*VWM, NWG of NDIMB*VWN; MDIMA and NDIMB must divide MDIMC*NDIMC"
#endif
#if KWG % KWI != 0 || KWG % KDIMA != 0 || KWG % KDIMB != 0
#error "KWI, MDIMC*NDIMC/MDIMA and MDIMC*NDIMC/NDIMB must divide KWG"
#endif

#if VWM == 1
#define REALM REAL
#define VLOADM(p) (*(p))
#define VSTOREM(v, p) (*(p) = (v))
#else
#define REALM CONCAT(REAL, VWM)
#define VLOADM(p) CONCAT(vload, VWM)(0, (p))
#define VSTOREM(v, p) CONCAT(vstore, VWM)((v), 0, (p))
#endif
#if VWN == 1
#define REALN REAL
#define VLOADN(p) (*(p))
#define VSTOREN(v, p) (*(p) = (v))
#else
#define REALN CONCAT(REAL, VWN)
#define VLOADN(p) CONCAT(vload, VWN)(0, (p))
#define VSTOREN(v, p) CONCAT(vstore, VWN)((v), 0, (p))
#endif

/* One operand as the kernel sees it: element (kk, x) at base[kk*ks + x*xs]; x < xmax, kk < kmax. */
typedef struct {
    __global const REAL *base;
    ulong ks, xs;
    int xmax, kmax;
} Operand;

REAL load_or_zero(const Operand o, const int kk, const int x)
{
    /* Clamped address, then select: the load is always in bounds and never diverges. */
    const REAL v = o.base[(ulong)min(kk, o.kmax - 1) * o.ks + (ulong)min(x, o.xmax - 1) * o.xs];
    return (kk < o.kmax && x < o.xmax) ? v : (REAL)0;
}

/* Column (M) of vector v of a work-item's register tile, and row (N) of element r. */
int m_of(const int v, const int lx)
{
#if STRM == 0
    return (lx * MVI + v) * VWM;
#else
    return (v * MDIMC + lx) * VWM;
#endif
}
int n_of(const int r, const int ly)
{
#if STRN == 0
    return ly * NWI + r;
#else
    return ((r / VWN) * NDIMC + ly) * VWN + r % VWN;
#endif
}

/* Local tile (KWG x MWG, row kk) from op(B) at k0, j0. x-contiguous layouts load VWM-vectors
 * with MDIMA work-items along M; k-contiguous ones go k fastest so neighbours read neighbours. */
void load_tile_m(__local REAL *tile, const Operand o, const int k0, const int j0, const int tid)
{
    if (o.xs == 1) {
        const int tx = tid % MDIMA, tk = tid / MDIMA;
        for (int kl = tk; kl < KWG; kl += KDIMA)
            for (int vl = tx; vl < MWG / VWM; vl += MDIMA) {
                const int kk = k0 + kl, x = j0 + vl * VWM;
                REALM v;
                if (kk < o.kmax && x + VWM <= o.xmax) {
                    v = VLOADM(o.base + (ulong)kk * o.ks + x);
                } else {
                    REAL e[VWM];
                    for (int u = 0; u < VWM; ++u) e[u] = load_or_zero(o, kk, x + u);
                    v = VLOADM(e);
                }
                VSTOREM(v, tile + kl * MWG + vl * VWM);
            }
    } else {
        for (int idx = tid; idx < KWG * MWG; idx += THREADS)
            tile[(idx % KWG) * MWG + idx / KWG] = load_or_zero(o, k0 + idx % KWG, j0 + idx / KWG);
    }
}

/* Local tile (KWG x NWG) from op(A) at k0, i0; as load_tile_m with VWN and NDIMB (OpenCL C has
 * no templates, and the two sides load different vector types). */
void load_tile_n(__local REAL *tile, const Operand o, const int k0, const int i0, const int tid)
{
    if (o.xs == 1) {
        const int tx = tid % NDIMB, tk = tid / NDIMB;
        for (int kl = tk; kl < KWG; kl += KDIMB)
            for (int vl = tx; vl < NWG / VWN; vl += NDIMB) {
                const int kk = k0 + kl, x = i0 + vl * VWN;
                REALN v;
                if (kk < o.kmax && x + VWN <= o.xmax) {
                    v = VLOADN(o.base + (ulong)kk * o.ks + x);
                } else {
                    REAL e[VWN];
                    for (int u = 0; u < VWN; ++u) e[u] = load_or_zero(o, kk, x + u);
                    v = VLOADN(e);
                }
                VSTOREN(v, tile + kl * NWG + vl * VWN);
            }
    } else {
        for (int idx = tid; idx < KWG * NWG; idx += THREADS)
            tile[(idx % KWG) * NWG + idx / KWG] = load_or_zero(o, k0 + idx % KWG, i0 + idx / KWG);
    }
}

/* The VWM columns of vector v at depth kl: from local memory (SA) or straight from global. */
REALM m_values(__local const REAL *tile, const Operand o, const int k0, const int kl, const int j0, const int j)
{
#if SA
    return VLOADM(tile + kl * MWG + j);
#else
    REAL e[VWM];
    for (int u = 0; u < VWM; ++u) e[u] = load_or_zero(o, k0 + kl, j0 + j + u);
    return VLOADM(e);
#endif
}

REAL n_value(__local const REAL *tile, const Operand o, const int k0, const int kl, const int i0, const int i)
{
#if SB
    return tile[kl * NWG + i];
#else
    return load_or_zero(o, k0 + kl, i0 + i);
#endif
}

/* Row i of the register tile into C: alpha*acc + beta*C; beta == 0 never reads C. */
void store_row(__global REAL *crow, const REALM *acc, const int j0, const int lx, const int n, const REAL alpha,
               const REAL beta)
{
    for (int v = 0; v < MVI; ++v) {
        const int j = j0 + m_of(v, lx);
        REALM r = alpha * acc[v];
        if (j + VWM <= n) {
            if (beta != (REAL)0) r = fma((REALM)beta, VLOADM(crow + j), r);
            VSTOREM(r, crow + j);
        } else {
            REAL e[VWM];
            VSTOREM(r, e);
            for (int u = 0; u < VWM && j + u < n; ++u)
                crow[j + u] = beta != (REAL)0 ? fma(beta, crow[j + u], e[u]) : e[u];
        }
    }
}

/* gemm_tiled: C = alpha * op(A) op(B) + beta * C, row-major views as in gemm_direct.cl:
 *   op(A)[i][kk] = A[a_off + i*lda + kk] (trans_a == 0) or A[a_off + kk*lda + i]
 *   op(B)[kk][j] = B[b_off + kk*ldb + j] (trans_b == 0) or B[b_off + j*ldb + kk]
 *   C[c_off + i*ldc + j]; batch item b (global id 2) adds b times each stride.
 * Global: (ceil(n/MWG)*MDIMC, ceil(m/NWG)*NDIMC, batch); local: (MDIMC, NDIMC, 1).
 * k = 0 computes beta*C without reading A or B (the host passes 0 for alpha == 0 too). */
__kernel __attribute__((reqd_work_group_size(MDIMC, NDIMC, 1)))
void gemm_tiled(const int m, const int n, const int k, const REAL alpha,
                __global const REAL *restrict A, const ulong a_off, const int lda, const int trans_a,
                const ulong a_stride, __global const REAL *restrict B, const ulong b_off, const int ldb,
                const int trans_b, const ulong b_stride, const REAL beta, __global REAL *restrict C,
                const ulong c_off, const int ldc, const ulong c_stride)
{
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int tid = ly * MDIMC + lx;
    const int j0 = get_group_id(0) * MWG, i0 = get_group_id(1) * NWG;
    const ulong b = get_global_id(2);

    Operand ob, oa;
    ob.base = B + b_off + b * b_stride;
    ob.ks = trans_b ? 1 : (ulong)ldb;
    ob.xs = trans_b ? (ulong)ldb : 1;
    ob.xmax = n;
    ob.kmax = k;
    oa.base = A + a_off + b * a_stride;
    oa.ks = trans_a ? (ulong)lda : 1;
    oa.xs = trans_a ? 1 : (ulong)lda;
    oa.xmax = m;
    oa.kmax = k;

    __local REAL tile_m[SA ? KWG * MWG : 1];
    __local REAL tile_n[SB ? KWG * NWG : 1];

    REALM acc[NWI][MVI];
    for (int r = 0; r < NWI; ++r)
        for (int v = 0; v < MVI; ++v) acc[r][v] = (REALM)0;

    for (int k0 = 0; k0 < k; k0 += KWG) {
#if SA
        load_tile_m(tile_m, ob, k0, j0, tid);
#endif
#if SB
        load_tile_n(tile_n, oa, k0, i0, tid);
#endif
#if SA || SB
        barrier(CLK_LOCAL_MEM_FENCE);
#endif
        for (int kl = 0; kl < KWG; kl += KWI) {
#pragma unroll
            for (int u = 0; u < KWI; ++u) {
                REALM mv[MVI];
#pragma unroll
                for (int v = 0; v < MVI; ++v) mv[v] = m_values(tile_m, ob, k0, kl + u, j0, m_of(v, lx));
#pragma unroll
                for (int r = 0; r < NWI; ++r) {
                    const REALM nv = (REALM)n_value(tile_n, oa, k0, kl + u, i0, n_of(r, ly));
#pragma unroll
                    for (int v = 0; v < MVI; ++v) acc[r][v] = fma(nv, mv[v], acc[r][v]);
                }
            }
        }
#if SA || SB
        barrier(CLK_LOCAL_MEM_FENCE);
#endif
    }

    __global REAL *cbase = C + c_off + b * c_stride;
    for (int r = 0; r < NWI; ++r) {
        const int i = i0 + n_of(r, ly);
        if (i < m) store_row(cbase + (ulong)i * ldc, acc[r], j0, lx, n, alpha, beta);
    }
}
