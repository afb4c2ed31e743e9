// The im2col-style convolutions on devices that run the tiled GEMM family (GPU-class devices, or
// any device with ANYCL_GEMM_FAMILY=tiled): plain row-major im2col columns and the caller's
// tensors in place, one batched tiled GEMM per group and chunk of images. The packed family's
// panel layouts mean nothing to the tiled kernel, which reads any leading dimension and offset.
#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {
namespace {

// Row-major C (m x n) = op(A) op(B) over `batch` matrices; offsets and strides in elements.
struct Operand {
  std::size_t off, ld, stride;
  bool trans;
};

Event tiled_gemm(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k, std::size_t batch, cl_mem a,
                 const Operand& oa, cl_mem b, const Operand& ob, float beta, cl_mem c, const Operand& oc) {
  GemmProblem p;
  p.m = m, p.n = n, p.k = k, p.batch = batch;
  p.trans_a = oa.trans, p.lda = oa.ld, p.a_off = oa.off, p.stride_a = oa.stride;
  p.trans_b = ob.trans, p.ldb = ob.ld, p.b_off = ob.off, p.stride_b = ob.stride;
  p.ldc = oc.ld, p.c_off = oc.off, p.stride_c = oc.stride;
  return Event(enqueue_tiled<float>(slot, p, 1.f, a, b, beta, c));
}

// Plain col (CRS x PQ per image, images col_stride apart) of images [b0, b0 + nimg), group grp.
Event im2col_plain(const DeviceSlot& slot, const ConvGeom& g, cl_mem x, std::size_t b0, std::size_t nimg, cl_int grp,
                   cl_mem col, std::size_t col_stride) {
  return run_kernel(slot, "conv_im2col", "im2col", {std::size_t(g.P), std::size_t(g.Cg) * g.R, nimg}, {1, 1, 1}, x,
                    cl_ulong(b0 * g.CHW), col, cl_ulong(0), cl_ulong(col_stride), g.C, g.H, g.W, g.Cg, grp, g.R, g.S,
                    g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(nimg));
}

// step(col, b0, nimg, grp) for every chunk of `chunk` images and every group, with col a plain
// column workspace (CRS x PQ floats an image of the chunk); returns the last step's event.
template <typename Step>
Event over_chunks(const DeviceSlot& slot, const ConvGeom& g, std::size_t chunk, Step step) {
  const std::size_t col_stride = g.CRS * g.PQ;
  Workspace col(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, col_stride, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk)
    for (cl_int grp = 0; grp < g.groups; ++grp) last = step(col.mem(), b0, std::min(chunk, g.n - b0), grp);
  return last;
}

}  // namespace

bool runs_tiled_gemm(const DeviceSlot& slot) { return slot.has_program("gemm_tiled_f32"); }

// y_g[b] (Kg x PQ) = W_g (Kg x CRS) col[b] (CRS x PQ), the images of a chunk as the batch.
Event forward_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                           std::size_t cap) {
  const std::size_t col_stride = g.CRS * g.PQ;
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({col_stride, sizeof(float)}), cap);
  Event last = over_chunks(slot, g, chunk, [&](cl_mem col, std::size_t b0, std::size_t nimg, cl_int grp) {
    im2col_plain(slot, g, t.x, b0, nimg, grp, col, col_stride);
    return tiled_gemm(slot, g.Kg, g.PQ, g.CRS, nimg, t.w, {grp * g.Kg * g.CRS, g.CRS, 0, false}, col,
                      {0, g.PQ, col_stride, false}, 0.f, t.y, {b0 * g.KPQ + grp * g.Kg * g.PQ, g.PQ, g.KPQ, false});
  });
  if (t.bias || relu) last = bias_act(slot, g, t.y, 0, g.n, t.bias, relu);
  return last;
}

// 1x1 stride 1 unpadded: x_g[b] is already the col matrix, so no workspace at all.
Event forward_gemm1x1_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu) {
  Event last;
  for (cl_int grp = 0; grp < g.groups; ++grp)
    last = tiled_gemm(slot, g.Kg, g.PQ, g.Cg, g.n, t.w, {grp * g.Kg * g.CRS, g.CRS, 0, false}, t.x,
                      {grp * g.Cg * g.PQ, g.PQ, g.CHW, false}, 0.f, t.y, {grp * g.Kg * g.PQ, g.PQ, g.KPQ, false});
  if (t.bias || relu) last = bias_act(slot, g, t.y, 0, g.n, t.bias, relu);
  return last;
}

// col[b] (CRS x PQ) = W_g^T (CRS x Kg) dy_g[b] (Kg x PQ), then col2im gathers dx.
Event backward_data_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                                 std::size_t cap) {
  const std::size_t col_stride = g.CRS * g.PQ;
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({col_stride, sizeof(float)}), cap);
  return over_chunks(slot, g, chunk, [&](cl_mem col, std::size_t b0, std::size_t nimg, cl_int grp) {
    tiled_gemm(slot, g.CRS, g.PQ, g.Kg, nimg, t.w, {grp * g.Kg * g.CRS, g.CRS, 0, true}, t.dy,
               {b0 * g.KPQ + grp * g.Kg * g.PQ, g.PQ, g.KPQ, false}, 0.f, col, {0, g.PQ, col_stride, false});
    return col2im(slot, g, col, col_stride, t.dx, b0, nimg, grp);
  });
}

// part[b] (Kg x CRS) = dy_g[b] (Kg x PQ) col[b]^T (PQ x CRS), batched over the images of a chunk,
// then dW_g = (beta) dW_g + the sum of the parts: the reduction over images is the GEMM batch, so
// a GPU gets nimg times the work-groups of one long-k GEMM.
Event backward_weights_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                    std::size_t cap) {
  const std::size_t col_stride = g.CRS * g.PQ, part_stride = std::size_t(g.Kg) * g.CRS;
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({col_stride + part_stride, sizeof(float)}), cap);
  Workspace part(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, part_stride, sizeof(float)}));
  Event last = over_chunks(slot, g, chunk, [&](cl_mem col, std::size_t b0, std::size_t nimg, cl_int grp) {
    im2col_plain(slot, g, t.x, b0, nimg, grp, col, col_stride);
    tiled_gemm(slot, g.Kg, g.CRS, g.PQ, nimg, t.dy, {b0 * g.KPQ + grp * g.Kg * g.PQ, g.PQ, g.KPQ, false}, col,
               {0, g.PQ, col_stride, true}, 0.f, part.mem(), {0, g.CRS, part_stride, false});
    return run_kernel(slot, "conv_im2col", "conv_sum_slices", {part_stride, 1, 1}, {64, 1, 1}, part.mem(),
                      cl_ulong(part_stride), cl_int(nimg), t.dw, cl_ulong(grp * part_stride), cl_int(part_stride),
                      b0 == 0 ? 0.f : 1.f);
  });
  if (t.dbias) last = dbias_im2col(slot, g, t.dy, 0, g.n, t.dbias);
  return last;
}

}  // namespace anycl::detail
