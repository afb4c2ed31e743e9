/* anycl training layers: the elementwise and reduction pieces a small CNN needs around the
 * convolution and GEMM kernels (bias add, ReLU backward, max-pooling, softmax cross-entropy,
 * bias gradient, gradient sum, SGD with momentum).
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

/* SGD with momentum (PyTorch's form): v = momentum * v + g; w -= lr * v. */
__kernel void sgd_momentum(__global REAL *restrict w, __global REAL *restrict v,
                           __global const REAL *restrict g, int n, REAL lr, REAL momentum)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const REAL vi = momentum * v[i] + g[i];
    v[i] = vi;
    w[i] -= lr * vi;
}
