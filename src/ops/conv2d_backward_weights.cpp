// Backward-weights: dw (and dbias) from x and dy. im2col form: one packed GEMM per group whose
// reduction runs over (image, p, q): dW_g = dy_g (Kg x n*PQ, read in place) * col^T (n*PQ x CRS);
// chunks of the batch accumulate with beta = 1. Direct: one work-group per weight with a local tree. Winograd is
// conv2d_winograd_weights.cpp.
#include <algorithm>
#include <optional>
#include <string>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

Event dbias_im2col(const DeviceSlot& slot, const ConvGeom& g, cl_mem dy, std::size_t b0, std::size_t nimg, cl_mem dbias) {
  const std::size_t lws = std::size_t(slot.program("conv_im2col").param("DBIAS_LWS"));
  return run_kernel(slot, "conv_im2col", "conv_dbias", {std::size_t(g.K) * lws, 1, 1}, {lws, 1, 1}, dy,
                    cl_ulong(b0 * g.KPQ), dbias, g.K, cl_int(g.PQ), cl_int(nimg), b0 == 0 ? 0.f : 1.f);
}

namespace {

// Images a GEMM launch reduces over. The reduction length nimg * PQ is a 32-bit kernel argument.
// Gathered x (im2col_t_packed) is kept to BWW_MAX_K pixels a launch, in chunks of equal size: a
// work-item then walks panels that stay in L2 (3x3 stride 2, 64 -> 128 channels on 56x56 x, batch
// 32: 25.8 -> 19.0 ms).
std::size_t backward_weights_chunk(const DeviceSlot& slot, const ConvGeom& g, std::size_t per_image, std::size_t cap) {
  std::size_t chunk = std::min(images_per_chunk(g.n, per_image, cap), std::size_t(0x7fffffff) / g.PQ);
  if (samples_inside_1x1(g)) return chunk;
  const std::size_t max_k = std::size_t(slot.program("conv_im2col").param("BWW_MAX_K"));
  return std::min(chunk, even_chunk(g.n, max_k / g.PQ));
}

}  // namespace

Event backward_weights_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t, std::size_t cap) {
  const PackedLayout lay = packed_layout(slot);
  // dy is the GEMM's A read in place (gemm_rows_a) where its rows fill a register tile; a packed
  // copy of dy took 28-39% of the pass on 1x1 layers.
  const bool dy_in_place = std::size_t(g.Kg) >= lay.mr;
  const std::size_t a_rows = dy_in_place ? 0 : round_up(g.Kg, lay.mr);
  const std::size_t per_image = workspace_bytes({a_rows + round_up(g.CRS, lay.nr), g.PQ, sizeof(float)});
  const std::size_t chunk = backward_weights_chunk(slot, g, per_image, cap);
  std::optional<Workspace> ap;
  if (!dy_in_place)
    ap.emplace(*slot.workspace, *slot.context, slot.info, workspace_bytes({a_rows, g.PQ, chunk, sizeof(float)}));
  Workspace bp(*slot.workspace, *slot.context, slot.info, workspace_bytes({round_up(g.CRS, lay.nr), g.PQ, chunk, sizeof(float)}));
  const std::size_t dya_pix = std::size_t(slot.program("conv_im2col").param("DYA_PIX"));
  // im2col_t_packed's output rows per work-item: with 16-wide panels, as many rows narrower than 16
  // as fill its 16-pixel tile.
  const std::size_t rows = lay.nr % 16 == 0 && g.Q < 16 ? 16 / std::size_t(g.Q) : 1;
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0);
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      if (!dy_in_place)
        run_kernel(slot, "conv_im2col", "conv_pack_dy_a",
                   {ceil_div(g.PQ, dya_pix), ceil_div(std::size_t(g.Kg), lay.mr), nimg}, {1, 1, 1}, t.dy,
                   cl_ulong(b0 * g.KPQ), ap->mem(), cl_ulong(0), g.K, g.Kg, grp, cl_int(g.PQ), cl_int(nimg));
      if (samples_inside_1x1(g))
        run_kernel(slot, "conv_im2col", "conv_pack_x_t_1x1", {nimg * g.P, ceil_div(g.CRS, lay.nr), 1}, {1, 1, 1}, t.x,
                   cl_ulong(b0 * g.CHW), bp.mem(), g.C, g.Cg, grp, g.H, g.W, g.P, g.Q, g.sh, g.sw, cl_int(nimg));
      else
        run_kernel(slot, "conv_im2col", "im2col_t_packed", {ceil_div(std::size_t(g.P), rows), ceil_div(g.CRS, lay.nr), nimg},
                   {1, 1, 1}, t.x, cl_ulong(b0 * g.CHW), bp.mem(), cl_ulong(0), g.C, g.H, g.W, g.Cg, grp, g.R, g.S,
                   g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(nimg), cl_int(rows));
      const float beta = b0 == 0 ? 0.f : 1.f;
      const std::size_t dw_off = std::size_t(grp) * g.Kg * g.CRS;
      if (dy_in_place)
        last = Event(enqueue_rows_a_micro(slot, g.Kg, g.CRS, nimg * g.PQ, g.PQ, t.dy,
                                          b0 * g.KPQ + std::size_t(grp) * g.Kg * g.PQ, g.PQ, g.KPQ, bp.mem(), beta,
                                          t.dw, dw_off, g.CRS));
      else
        last = Event(enqueue_packed_micro<float>(slot, g.Kg, g.CRS, nimg * g.PQ, 1.f, ap->mem(), 0, bp.mem(), 0, beta,
                                                 t.dw, dw_off, g.CRS, 0, 1));
    }
    if (t.dbias) last = dbias_im2col(slot, g, t.dy, b0, nimg, t.dbias);
  }
  return last;
}

Event backward_weights_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t) {
  if (depthwise_kernel_fits(slot, ConvPass::BackwardWeights, g)) return backward_weights_depthwise(slot, g, t);
  const std::size_t lws = std::size_t(slot.program("conv_direct").param("DIR_RED_LWS"));
  Event last = run_kernel(slot, "conv_direct", "conv_direct_bwd_weights",
                          {std::size_t(g.K) * g.CRS * lws, 1, 1}, {lws, 1, 1}, t.x, cl_ulong(0), t.dy, cl_ulong(0), t.dw,
                          g.C, g.H, g.W, g.K, g.groups, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw,
                          cl_int(g.n), 0.f);
  if (t.dbias)
    last = run_kernel(slot, "conv_direct", "conv_direct_dbias", {std::size_t(g.K) * lws, 1, 1}, {lws, 1, 1}, t.dy,
                      cl_ulong(0), t.dbias, g.K, cl_int(g.PQ), cl_int(g.n), 0.f);
  return last;
}

}  // namespace anycl::detail
