/* anycl convolution: channels-last (NHWC) helpers. The layout transforms
 * between NHWC and NCHW that algorithms without a channels-last kernel run
 * between, and the bias and dbias of the channels-last pointwise GEMMs (whose
 * output rows are pixels and columns channels).
 *
 * Tunables (every one is a -D define; defaults are correct on any OpenCL 1.2
 * device):
 *   REAL     element type (float)
 *   LT_TILE  transpose tile edge: a LT_TILE x LT_TILE work-group stages one
 *            tile in local memory so that reads and writes both run along
 *            rows
 *   LT_LWS   host: work-group size along the channels of the bias kernels
 *            (POCL vectorises across a work-group's items) */
#ifndef REAL
#define REAL float   /* element type */
#endif
#ifndef LT_TILE
#define LT_TILE 16   /* transpose tile edge (work-group LT_TILE x LT_TILE) */
#endif
#ifndef LT_LWS
#define LT_LWS 16    /* host: bias kernels' work-group size along the channels */
#endif

/* ---------------------------------------------------------------------------
 * out[b][c][r] = in[b][r][c] for b < batch, r < rows, c < cols: NHWC -> NCHW
 * is (rows, cols) = (H*W, C), NCHW -> NHWC (C, H*W), OHWI -> OIHW filters
 * (R*S, C/groups) per output channel. The tile row has one spare column so
 * the transposed reads of local memory do not share banks.
 * global = (round_up(cols, LT_TILE), round_up(rows, LT_TILE), batch). */
__kernel __attribute__((reqd_work_group_size(LT_TILE, LT_TILE, 1)))
void transpose_batched(__global const REAL *restrict in, ulong in_off,
                       __global REAL *restrict out, ulong out_off,
                       int rows, int cols)
{
    __local REAL tile[LT_TILE][LT_TILE + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int c0 = get_group_id(0) * LT_TILE, r0 = get_group_id(1) * LT_TILE;
    const ulong plane = (ulong)rows * cols * get_global_id(2);
    if (r0 + ty < rows && c0 + tx < cols)
        tile[ty][tx] = in[in_off + plane + (ulong)(r0 + ty) * cols + c0 + tx];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c0 + ty < cols && r0 + tx < rows)
        out[out_off + plane + (ulong)(c0 + ty) * rows + r0 + tx] = tile[tx][ty];
}

/* ---------------------------------------------------------------------------
 * y[row][k] = relu?(y[row][k] + bias[k]) over rows x K (bias must still be a
 * valid buffer when has_bias == 0). Work-items run along k, the contiguous
 * axis, so POCL vectorises across them.
 * global = (K rounded up to LT_LWS, rows), local = (LT_LWS, 1). */
__kernel void nhwc_bias_act(__global REAL *restrict y, __global const REAL *restrict bias,
                            int K, int rows, int has_bias, int relu)
{
    const int k = get_global_id(0), row = get_global_id(1);
    if (k >= K || row >= rows) return;
    const ulong i = (ulong)row * K + k;
    REAL v = y[i];
    if (has_bias) v += bias[k];
    if (relu) v = fmax(v, (REAL)0);
    y[i] = v;
}

/* ---------------------------------------------------------------------------
 * dbias[k] = sum over row < rows of dy[row][k]: one work-item per channel,
 * adding the rows in order, so the result is reproducible; neighbouring
 * work-items read neighbouring floats of each row.
 * global = (K rounded up to LT_LWS), local = (LT_LWS). */
__kernel void nhwc_dbias(__global const REAL *restrict dy, __global REAL *restrict dbias,
                         int K, int rows)
{
    const int k = get_global_id(0);
    if (k >= K) return;
    REAL sum = 0;
    for (int row = 0; row < rows; ++row) sum += dy[(ulong)row * K + k];
    dbias[k] = sum;
}
