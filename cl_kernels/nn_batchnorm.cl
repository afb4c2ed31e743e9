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
 * sums of dy and dy * xhat (bn_backward_sums), which are also beta's and gamma's gradients. The
 * per-channel kernels run one work-item per channel: a sum in a fixed order, no atomics. */
#ifndef REAL
#define REAL float     /* element type */
#endif
#ifndef NN_LWS
#define NN_LWS 64      /* work-group size of the kernels */
#endif

/* part[2c] = mean of channel c over the N samples, part[2c + 1] = sum of squared deviations. */
__kernel void bn_stats(__global const REAL *restrict x, __global REAL *restrict part, int N, int C,
                       int HW)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    REAL s = (REAL)0;
    for (int n = 0; n < N; ++n) {
        __global const REAL *p = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) s += p[i];
    }
    const REAL mean = s / (REAL)(N * HW);
    REAL m2 = (REAL)0;
    for (int n = 0; n < N; ++n) {
        __global const REAL *p = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) m2 += (p[i] - mean) * (p[i] - mean);
    }
    part[2 * c] = mean;
    part[2 * c + 1] = m2;
}

/* y = gamma * (x - mean) * invstd + beta, then ReLU when asked. */
__kernel void bn_forward(__global const REAL *restrict x, __global REAL *restrict y,
                         __global const REAL *restrict stats, __global const REAL *restrict gamma,
                         __global const REAL *restrict beta, int N, int C, int HW, int relu)
{
    const int i = get_global_id(0);
    if (i >= N * C * HW) return;
    const int c = (i / HW) % C;
    const REAL v = gamma[c] * (x[i] - stats[2 * c]) * stats[2 * c + 1] + beta[c];
    y[i] = relu ? fmax(v, (REAL)0) : v;
}

/* Per channel: masks dy by the ReLU output y first (when relu), then dbeta[c] = sum dy and
 * dgamma[c] = sum dy * xhat over this device's samples. */
__kernel void bn_backward_sums(__global REAL *restrict dy, __global const REAL *restrict y,
                               __global const REAL *restrict x, __global const REAL *restrict stats,
                               __global REAL *restrict dgamma, __global REAL *restrict dbeta,
                               int N, int C, int HW, int relu)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    const REAL mean = stats[2 * c], invstd = stats[2 * c + 1];
    REAL s1 = (REAL)0, s2 = (REAL)0;
    for (int n = 0; n < N; ++n) {
        const size_t at = ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; ++i) {
            REAL g = dy[at + i];
            if (relu && !(y[at + i] > (REAL)0)) { g = (REAL)0; dy[at + i] = g; }
            s1 += g;
            s2 += g * (x[at + i] - mean) * invstd;
        }
    }
    dbeta[c] = s1;
    dgamma[c] = s2;
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
    const REAL mean = stats[2 * c], invstd = stats[2 * c + 1];
    const REAL xhat = (x[i] - mean) * invstd;
    dx[i] = gamma[c] * invstd * (dy[i] - sums[2 * c] / count - xhat * sums[2 * c + 1] / count);
}
