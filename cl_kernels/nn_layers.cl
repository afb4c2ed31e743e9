/* anycl training layers: the elementwise and reduction pieces a CNN needs around the
 * convolution and GEMM kernels (bias add, ReLU backward, max and average pooling, dropout, the
 * residual add, softmax cross-entropy, bias gradient, gradient sum, SGD and Adam).
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2 device):
 *   REAL      element type (float)
 *   NN_LWS    work-group size the host launches the 1-D kernels with (any size works: every
 *             kernel guards its global id; only speed depends on it)
 *
 * Layouts are row-major / NCHW. Pooling windows do not overlap (stride == window), so each
 * input element belongs to at most one window and the backward pass is a gather: no atomics,
 * and the result does not depend on scheduling. */
#ifndef REAL
#define REAL float     /* element type */
#endif
#ifndef NN_LWS
#define NN_LWS 64      /* work-group size of the 1-D kernels */
#endif

/* y[r][c] = act(y[r][c] + bias[c]) for a rows x cols matrix (a dense layer's output). */
__kernel void bias_add_rows(__global REAL *restrict y, __global const REAL *restrict bias,
                            int rows, int cols, int relu)
{
    const int i = get_global_id(0);
    if (i >= rows * cols) return;
    const REAL v = y[i] + bias[i % cols];
    y[i] = relu ? fmax(v, (REAL)0) : v;
}

/* dy[i] = 0 where the forward ReLU output y[i] was clamped (y <= 0). */
__kernel void relu_backward(__global REAL *restrict dy, __global const REAL *restrict y, int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    if (!(y[i] > (REAL)0)) dy[i] = (REAL)0;
}

/* One output per work-item: y = max over the size x size window of plane `pl`; arg = the
 * window's first maximum in row-major order, as an index into the H x W plane. Rows/columns
 * past P*size / Q*size are dropped (floor), as in PyTorch. */
__kernel void maxpool_forward(__global const REAL *restrict x, __global REAL *restrict y,
                              __global int *restrict arg, int planes, int H, int W, int P, int Q,
                              int size)
{
    const int i = get_global_id(0);
    if (i >= planes * P * Q) return;
    const int pl = i / (P * Q), pq = i - pl * P * Q, p = pq / Q, q = pq - p * Q;
    __global const REAL *plane = x + (size_t)pl * H * W;
    int best = (p * size) * W + q * size;
    REAL m = plane[best];
    for (int r = 0; r < size; ++r)
        for (int s = 0; s < size; ++s) {
            const int at = (p * size + r) * W + q * size + s;
            if (plane[at] > m) { m = plane[at]; best = at; }
        }
    y[i] = m;
    arg[i] = best;
}

/* One window per work-item, over a ceil(H/size) x ceil(W/size) grid of windows: dx = dy of the
 * window where the element was its argmax, else 0. Grid windows past P x Q cover the rows and
 * columns no pooling window reaches and write zeros. A window, not an element, per work-item:
 * one element needs four integer divisions, enough to make this the slowest kernel of a training
 * step on POCL. */
__kernel void maxpool_backward(__global const REAL *restrict dy, __global const int *restrict arg,
                               __global REAL *restrict dx, int planes, int H, int W, int P, int Q,
                               int size)
{
    const int PH = (H + size - 1) / size, QW = (W + size - 1) / size;
    const int i = get_global_id(0);
    if (i >= planes * PH * QW) return;
    const int pl = i / (PH * QW), pq = i - pl * PH * QW, p = pq / QW, q = pq - p * QW;
    const bool pooled = p < P && q < Q;
    const int o = (pl * P + p) * Q + q;
    const int best = pooled ? arg[o] : -1;
    const REAL g = pooled ? dy[o] : (REAL)0;
    __global REAL *plane = dx + (size_t)pl * H * W;
    const int h1 = min(p * size + size, H), w1 = min(q * size + size, W);
    for (int h = p * size; h < h1; ++h)
        for (int w = q * size; w < w1; ++w) plane[h * W + w] = h * W + w == best ? g : (REAL)0;
}

/* One row (sample) per work-item: loss[r] = logsumexp(z) - z[label]; dz = (softmax(z) -
 * onehot(label)) * scale (scale = 1 / global batch, so the gradients are of the mean loss).
 * The row maximum is subtracted first, so large logits neither overflow nor lose the answer. */
__kernel void softmax_xent(__global const REAL *restrict z, __global const int *restrict label,
                           __global REAL *restrict loss, __global REAL *restrict dz, int rows,
                           int classes, REAL scale)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const REAL *row = z + (size_t)r * classes;
    REAL m = row[0];
    for (int c = 1; c < classes; ++c) m = fmax(m, row[c]);
    REAL sum = (REAL)0;
    for (int c = 0; c < classes; ++c) sum += exp(row[c] - m);
    const REAL lse = log(sum);
    const int y = label[r];
    loss[r] = lse - (row[y] - m);
    for (int c = 0; c < classes; ++c)
        dz[(size_t)r * classes + c] = (exp(row[c] - m - lse) - (c == y ? (REAL)1 : (REAL)0)) * scale;
}

/* db[c] = sum over rows of g[r][c] (a dense layer's bias gradient), in row order. */
__kernel void sum_rows(__global const REAL *restrict g, __global REAL *restrict db, int rows, int cols)
{
    const int c = get_global_id(0);
    if (c >= cols) return;
    REAL s = (REAL)0;
    for (int r = 0; r < rows; ++r) s += g[(size_t)r * cols + c];
    db[c] = s;
}

/* dst += src: one step of the gradient all-reduce. */
__kernel void accumulate(__global REAL *restrict dst, __global const REAL *restrict src, int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    dst[i] += src[i];
}

/* SGD with momentum and L2 weight decay (PyTorch's form): v = momentum * v + g + decay * w;
 * w -= lr * v. */
__kernel void sgd_momentum(__global REAL *restrict w, __global REAL *restrict v,
                           __global const REAL *restrict g, int n, REAL lr, REAL momentum,
                           REAL decay)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const REAL vi = momentum * v[i] + (g[i] + decay * w[i]);
    v[i] = vi;
    w[i] -= lr * vi;
}

/* Adam as PyTorch's: with `decoupled` (AdamW) w *= 1 - lr * decay first, else g += decay * w;
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= step * m / (sqrt(v) / root_bc2 + eps),
 * step = lr / (1 - b1^t) and root_bc2 = sqrt(1 - b2^t) computed by the host. */
__kernel void adam(__global REAL *restrict w, __global REAL *restrict m, __global REAL *restrict v,
                   __global const REAL *restrict g, int n, REAL lr, REAL b1, REAL b2, REAL eps,
                   REAL decay, int decoupled, REAL step, REAL root_bc2)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    REAL wi = w[i], gi = g[i];
    if (decoupled) wi *= (REAL)1 - lr * decay;
    else gi += decay * wi;
    const REAL mi = b1 * m[i] + ((REAL)1 - b1) * gi;
    const REAL vi = b2 * v[i] + ((REAL)1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - step * mi / (sqrt(vi) / root_bc2 + eps);
}

/* Average pooling, one output per work-item: the mean of the kh x kw window (stride = window;
 * rows/columns past the last whole window are dropped). kh = H, kw = W is global pooling. */
__kernel void avgpool_forward(__global const REAL *restrict x, __global REAL *restrict y, int planes,
                              int H, int W, int P, int Q, int kh, int kw)
{
    const int i = get_global_id(0);
    if (i >= planes * P * Q) return;
    const int pl = i / (P * Q), pq = i - pl * P * Q, p = pq / Q, q = pq - p * Q;
    __global const REAL *plane = x + (size_t)pl * H * W + (size_t)p * kh * W + q * kw;
    REAL s = (REAL)0;
    for (int r = 0; r < kh; ++r)
        for (int t = 0; t < kw; ++t) s += plane[r * W + t];
    y[i] = s / (REAL)(kh * kw);
}

/* One input element per work-item: dx = dy of its window / (kh * kw), 0 past the windows. */
__kernel void avgpool_backward(__global const REAL *restrict dy, __global REAL *restrict dx,
                               int planes, int H, int W, int P, int Q, int kh, int kw)
{
    const int i = get_global_id(0);
    if (i >= planes * H * W) return;
    const int pl = i / (H * W), hw = i - pl * H * W, h = hw / W, w = hw - h * W;
    const int p = h / kh, q = w / kw;
    dx[i] = p < P && q < Q ? dy[(pl * P + p) * Q + q] / (REAL)(kh * kw) : (REAL)0;
}

/* A 32-bit finaliser (good avalanche): the dropout masks' random stream. */
uint mix32(uint h)
{
    h ^= h >> 16; h *= 0x7feb352dU;
    h ^= h >> 15; h *= 0x846ca68bU;
    h ^= h >> 16;
    return h;
}

/* Element e of sample s (its index in the global batch) is kept when
 * mix32(mix32(seed ^ s) ^ e) >= threshold (= rate * 2^32); `seed` already mixes the trainer's
 * seed, the step and the layer, so a mask depends on none of the device split. */
bool dropout_keep(uint seed, int per_sample, int first, int i, uint threshold)
{
    const int s = i / per_sample, e = i - s * per_sample;
    return mix32(mix32(seed ^ (uint)(first + s)) ^ (uint)e) >= threshold;
}

/* y = x * scale where kept, else 0 (in training; evaluation does not run it). */
__kernel void dropout_forward(__global const REAL *restrict x, __global REAL *restrict y, int n,
                              int per_sample, int first, uint seed, uint threshold, REAL scale)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    y[i] = dropout_keep(seed, per_sample, first, i, threshold) ? x[i] * scale : (REAL)0;
}

__kernel void dropout_backward(__global const REAL *restrict dy, __global REAL *restrict dx, int n,
                               int per_sample, int first, uint seed, uint threshold, REAL scale)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    dx[i] = dropout_keep(seed, per_sample, first, i, threshold) ? dy[i] * scale : (REAL)0;
}

/* The residual join: y = a + b, then ReLU when asked. */
__kernel void add_forward(__global const REAL *restrict a, __global const REAL *restrict b,
                          __global REAL *restrict y, int n, int relu)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const REAL v = a[i] + b[i];
    y[i] = relu ? fmax(v, (REAL)0) : v;
}

/* The residual join's backward: g = dy, masked where the forward ReLU output y was clamped
 * (when relu); each branch's input gradient (da, db) is set to g (mode 1), has g added (mode 2:
 * another node's gradient of the same activation is there) or is left alone (mode 0: the model
 * input, whose gradient is never needed). */
__kernel void add_backward(__global const REAL *restrict dy, __global const REAL *restrict y,
                           __global REAL *da, __global REAL *db, int n, int relu, int mode_a,
                           int mode_b)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const REAL g = relu && !(y[i] > (REAL)0) ? (REAL)0 : dy[i];
    if (mode_a == 1) da[i] = g;
    else if (mode_a == 2) da[i] += g;
    if (mode_b == 1) db[i] = g;
    else if (mode_b == 2) db[i] += g;
}
