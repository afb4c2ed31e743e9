/* Device peaks: multiply-add throughput and streaming bandwidth, measured by anycl-query --peak.
 * A peak must be a tight upper bound, so each work-item runs CHAINS independent fma chains of
 * explicit VW-wide vectors: enough independent work to hide the FMA latency, in the vector form
 * a CPU runtime (POCL) turns into full-width FMA instructions, and GPUs run as well.
 *
 * Tunables (the host sets REAL; the defaults suit a 16-lane fp32 CPU; params/devices.json may
 * narrow VW for other devices): */
#ifndef REAL
#define REAL float /* element type: float or double */
#endif
#ifndef VW
#define VW 16 /* vector width of each chain: 1, 2, 4, 8 or 16 */
#endif
#ifndef CHAINS
#define CHAINS 12 /* independent fma chains per work-item */
#endif
#ifndef ITERS
#define ITERS 2048 /* fma steps per chain */
#endif
#ifndef WG
#define WG 1 /* work-group size of both kernels (host launch geometry) */
#endif
#ifndef TRIAD_VW
#define TRIAD_VW 16 /* vector width of the bandwidth kernel's loads and stores */
#endif

#include "common.h"

/* out[gid] receives the sum of the chains so no step is dead code. x*a + b with a just below 1
 * keeps every value finite. Multiply-adds: global size * ITERS * CHAINS * VW. */
__kernel void peak_fma(__global REAL *out, const REAL a, const REAL b)
{
    const size_t gid = get_global_id(0);
    REALV x[CHAINS];
#pragma unroll
    for (int c = 0; c < CHAINS; ++c) x[c] = (REALV)((REAL)(gid % 7) + (REAL)c);
    for (int i = 0; i < ITERS; ++i) {
#pragma unroll
        for (int c = 0; c < CHAINS; ++c) x[c] = fma(x[c], (REALV)a, (REALV)b);
    }
    REALV sum = x[0];
#pragma unroll
    for (int c = 1; c < CHAINS; ++c) sum += x[c];
    REAL total = (REAL)0;
    for (int e = 0; e < VW; ++e) total += VELEM(sum, e);
    out[gid] = total;
}

#define TRIADV CONCAT(float, TRIAD_VW)
#define TRIAD_LOAD(p) CONCAT(vload, TRIAD_VW)(0, (p))
#define TRIAD_STORE(v, p) CONCAT(vstore, TRIAD_VW)((v), 0, (p))

/* STREAM triad, TRIAD_VW floats per work-item: c = a + s*b. Bytes moved: 3 * 4 * TRIAD_VW per work-item. */
__kernel void peak_triad(__global const float *restrict a, __global const float *restrict b,
                         __global float *restrict c, const float s)
{
    const size_t i = get_global_id(0) * TRIAD_VW;
    TRIAD_STORE(TRIAD_LOAD(a + i) + s * TRIAD_LOAD(b + i), c + i);
}
