/* anycl batch normalisation over N x C x HW (NCHW; a dense layer's output is HW = 1).
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2 device):
 *   REAL      element type (float)
 *   NN_LWS    work-group size the host launches the kernels with (every kernel guards its id)
 *
 * The statistics of a batch split over devices are combined by the host: each device computes
 * its part's per-channel mean and squared deviations (bn_stats), the host merges the parts
 * (Chan's formula, in double, in device order) and gives every device the mean and 1/sqrt(var +
 * eps) of the whole batch as stats[2c], stats[2c + 1]. The backward pass does the same with the
 * sums of dy and dy * xhat (bn_backward_sums), which are also beta's and gamma's gradients. When
 * one device holds the whole batch (`whole`), bn_stats writes stats and bn_backward_sums writes
 * sums themselves, the numbers of the host merge of one part (1/sqrt(var + eps) in double where
 * the device has fp64, as the host's): no host round trip. The per-channel kernels run one
 * work-item per channel (a sum in a fixed order, no atomics); the elementwise ones stay separate
 * launches, as one work-item per channel would leave all but one core idle. */
#ifndef REAL
#define REAL float     /* element type */
#endif
#ifndef NN_LWS
#define NN_LWS 64      /* work-group size of the kernels */
#endif

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double stat_real;  /* the host merge's precision */
#else
typedef float stat_real;
#endif

/* Channel c's mean and sum of squared deviations over the N samples (two passes). */
void channel_moments(__global const REAL *restrict x, int c, int N, int C, int HW, REAL *mean,
                     REAL *m2)
{
    REAL s = (REAL)0;
    for (int n = 0; n < N; ++n) {
        __global const REAL *p = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) s += p[i];
    }
    const REAL mu = s / (REAL)(N * HW);
    REAL d2 = (REAL)0;
    for (int n = 0; n < N; ++n) {
        __global const REAL *p = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) d2 += (p[i] - mu) * (p[i] - mu);
    }
    *mean = mu;
    *m2 = d2;
}

REAL normalise(REAL x, REAL mean, REAL invstd, REAL gamma, REAL beta)
{
    return gamma * (x - mean) * invstd + beta;
}

/* Channel c's sum dy and sum dy * xhat, masking dy in place by the ReLU output y first (when relu). */
void channel_grad_sums(__global REAL *restrict dy, __global const REAL *restrict y,
                       __global const REAL *restrict x, int c, int N, int C, int HW, int relu,
                       REAL mean, REAL invstd, REAL *s1, REAL *s2)
{
    REAL a = (REAL)0, b = (REAL)0;
    for (int n = 0; n < N; ++n) {
        const size_t at = ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) {
            REAL g = dy[at + i];
            if (relu && !(y[at + i] > (REAL)0)) { g = (REAL)0; dy[at + i] = g; }
            a += g;
            b += g * (x[at + i] - mean) * invstd;
        }
    }
    *s1 = a;
    *s2 = b;
}

/* dx = gamma * invstd * (dy - S1 / M - xhat * S2 / M) over the batch's M = count elements. */
REAL input_grad(REAL dy, REAL x, REAL mean, REAL invstd, REAL gamma, REAL s1, REAL s2, REAL count)
{
    const REAL xhat = (x - mean) * invstd;
    return gamma * invstd * (dy - s1 / count - xhat * s2 / count);
}

/* part[2c] = mean of channel c over the N samples, part[2c + 1] = sum of squared deviations;
 * with `whole`, also stats[2c] = mean, stats[2c + 1] = 1 / sqrt(m2 / (N HW) + eps). */
__kernel void bn_stats(__global const REAL *restrict x, __global REAL *restrict part,
                       __global REAL *restrict stats, int N, int C, int HW, int whole, REAL eps)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    REAL mean, m2;
    channel_moments(x, c, N, C, HW, &mean, &m2);
    part[2 * c] = mean;
    part[2 * c + 1] = m2;
    if (!whole) return;
    stats[2 * c] = mean;
    stats[2 * c + 1] = (REAL)((stat_real)1 / sqrt((stat_real)m2 / (stat_real)(N * HW) + (stat_real)eps));
}

/* y = gamma * (x - mean) * invstd + beta, then ReLU when asked. */
__kernel void bn_forward(__global const REAL *restrict x, __global REAL *restrict y,
                         __global const REAL *restrict stats, __global const REAL *restrict gamma,
                         __global const REAL *restrict beta, int N, int C, int HW, int relu)
{
    const int i = get_global_id(0);
    if (i >= N * C * HW) return;
    const int c = (i / HW) % C;
    const REAL v = normalise(x[i], stats[2 * c], stats[2 * c + 1], gamma[c], beta[c]);
    y[i] = relu ? fmax(v, (REAL)0) : v;
}

/* Per channel: masks dy by the ReLU output y first (when relu), then dbeta[c] = sum dy and
 * dgamma[c] = sum dy * xhat over this device's samples; with `whole`, also sums[2c] = dbeta[c],
 * sums[2c + 1] = dgamma[c] (bn_backward_data's whole-batch sums). */
__kernel void bn_backward_sums(__global REAL *restrict dy, __global const REAL *restrict y,
                               __global const REAL *restrict x, __global const REAL *restrict stats,
                               __global REAL *restrict dgamma, __global REAL *restrict dbeta,
                               __global REAL *restrict sums, int N, int C, int HW, int relu,
                               int whole)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    REAL s1, s2;
    channel_grad_sums(dy, y, x, c, N, C, HW, relu, stats[2 * c], stats[2 * c + 1], &s1, &s2);
    dbeta[c] = s1;
    dgamma[c] = s2;
    if (!whole) return;
    sums[2 * c] = s1;
    sums[2 * c + 1] = s2;
}

/* dx = gamma * invstd * (dy - S1 / M - xhat * S2 / M), with the whole batch's sums
 * S1 = sums[2c], S2 = sums[2c + 1] over its M = count elements per channel. */
__kernel void bn_backward_data(__global const REAL *restrict dy, __global const REAL *restrict x,
                               __global const REAL *restrict stats,
                               __global const REAL *restrict gamma,
                               __global const REAL *restrict sums, __global REAL *restrict dx,
                               int N, int C, int HW, REAL count)
{
    const int i = get_global_id(0);
    if (i >= N * C * HW) return;
    const int c = (i / HW) % C;
    dx[i] = input_grad(dy[i], x[i], stats[2 * c], stats[2 * c + 1], gamma[c], sums[2 * c],
                       sums[2 * c + 1], count);
}
