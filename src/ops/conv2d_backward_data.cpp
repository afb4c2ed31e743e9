// Backward-data: dx from dy and w. im2col form: col = W_g^T dy_g (packed GEMM), then col2im as a
// gather (deterministic, no atomics); 1x1 as a transposed GEMM; direct gather kernel.
#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

Event col2im(const DeviceSlot& slot, const ConvGeom& g, cl_mem col, std::size_t col_stride, cl_mem dx, std::size_t b0,
             std::size_t nimg, cl_int grp) {
  const long vw = slot.program("conv_im2col").param("C2I_VW");
  // Work-groups of 2 rows of 4 planes: with single work-items POCL spent most of the kernel on
  // starting groups (4x the device time on 56x56 planes).
  return run_kernel(slot, "conv_im2col", "col2im",
                    {ceil_div(std::size_t(g.W), std::size_t(vw)), std::size_t(g.H), std::size_t(g.Cg) * nimg}, {1, 2, 4},
                    col, cl_ulong(0), cl_ulong(col_stride), dx, cl_ulong(b0 * g.CHW), g.C, g.H, g.W, g.Cg, grp, g.R,
                    g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(nimg), 0.f);
}

Event backward_data_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap) {
  if (samples_inside_1x1(g) && g.sh == 1 && g.sw == 1) return backward_data_pointwise(slot, g, t, cap);
  if (backward_data_phases_fit(slot, g, cap)) return backward_data_phases(slot, g, t, cap);
  const PackedLayout lay = packed_layout(slot);
  // Images side by side in the GEMM's N where per-image GEMMs pad more than an eighth of each
  // image's columns: each pass over the filter then serves the chunk (3x3 stride 2, batch 8: 20%
  // less GEMM device time on 7x7 dy, 5% on 14x14); col keeps its per-image blocks through the
  // micro-kernel's column segments, so col2im is unchanged.
  const bool fold = (round_up(g.PQ, lay.nr) - g.PQ) * 8 > g.PQ;
  const std::size_t bp_stride = round_up(g.PQ, lay.nr) * g.Kg, col_stride = g.CRS * g.PQ;
  // At most C2I_MAX_COL floats of col a chunk (3x3 stride 2, 64 -> 128 channels on 56x56 dx, batch
  // 32: 8 images a chunk rather than 32, 24.9 -> 18.5 ms).
  const std::size_t max_col = std::size_t(slot.program("conv_im2col").param("C2I_MAX_COL"));
  const std::size_t chunk =
      std::min(images_per_chunk(g.n, workspace_bytes({bp_stride + col_stride, sizeof(float)}), cap),
               even_chunk(g.n, max_col / col_stride));
  const PackedFilter filter(slot, g, t.w, /*transposed=*/true);
  Workspace bp(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, bp_stride, sizeof(float)}));
  Workspace col(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, col_stride, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0);
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      if (fold) {
        run_kernel(slot, "conv_im2col", "conv_pack_x_1x1", {std::size_t(g.Kg), ceil_div(nimg * g.PQ, lay.nr), 1},
                   {16, 1, 1}, t.dy, cl_ulong(b0 * g.KPQ), bp.mem(), g.K, g.Kg, grp, cl_int(g.PQ), cl_int(nimg));
        Event(enqueue_packed_micro<float>(slot, g.CRS, nimg * g.PQ, g.Kg, 1.f, filter.group(grp), 0, bp.mem(), 0, 0.f,
                                          col.mem(), 0, g.PQ, 0, 1, g.PQ, col_stride));
      } else {
        // Groups of 8 channels, for the reason of col2im's (40% less device time on 28x28 dy).
        run_kernel(slot, "conv_im2col", "conv_pack_dy_b", {std::size_t(g.Kg), ceil_div(g.PQ, lay.nr), nimg},
                   {8, 1, 1}, t.dy, cl_ulong(b0 * g.KPQ), bp.mem(), cl_ulong(0), cl_ulong(bp_stride), g.K, g.Kg, grp,
                   cl_int(g.PQ), cl_int(nimg));
        Event(enqueue_packed_micro<float>(slot, g.CRS, g.PQ, g.Kg, 1.f, filter.group(grp), 0, bp.mem(), bp_stride,
                                          0.f, col.mem(), 0, g.PQ, col_stride, nimg));
      }
      last = col2im(slot, g, col.mem(), col_stride, t.dx, b0, nimg, grp);
    }
  }
  return last;
}

Event backward_data_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t) {
  // dX_g[b] (Cg x HW) = W_g^T (Cg x Kg) dY_g[b] (Kg x HW).
  Event last;
  for (cl_int grp = 0; grp < g.groups; ++grp) {
    GemmProblem p{};
    p.m = std::size_t(g.Cg), p.n = g.PQ, p.k = std::size_t(g.Kg);
    p.trans_a = true, p.trans_b = false;
    p.lda = std::size_t(g.Cg), p.ldb = g.PQ, p.ldc = g.PQ;
    p.a_off = std::size_t(grp) * g.Kg * g.Cg, p.b_off = std::size_t(grp) * g.Kg * g.PQ;
    p.c_off = std::size_t(grp) * g.Cg * g.PQ;
    p.batch = g.n, p.stride_a = 0, p.stride_b = g.KPQ, p.stride_c = g.CHW;
    last = Event(enqueue_gemm<float>(slot, p, 1.f, t.w, t.dy, 0.f, t.dx));
  }
  return last;
}

Event backward_data_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t) {
  if (direct_wg_fits(slot, g)) return backward_data_direct_wg(slot, g, t);
  if (depthwise_kernel_fits(slot, ConvPass::BackwardData, g)) return backward_data_depthwise(slot, g, t);
  const long ow = slot.program("conv_direct").param("DIR_OW");
  return run_kernel(slot, "conv_direct", "conv_direct_bwd_data",
                    {ceil_div(std::size_t(g.W), std::size_t(ow)), std::size_t(g.H), g.n * std::size_t(g.C)}, {1, 1, 1},
                    t.dy, cl_ulong(0), t.w, t.dx, cl_ulong(0), g.C, g.H, g.W, g.K, g.groups, g.R, g.S, g.P, g.Q, g.sh,
                    g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n), 0.f);
}

}  // namespace anycl::detail
