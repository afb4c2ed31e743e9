// Backward-weights: dw (and dbias) from x and dy. im2col form: one packed GEMM per group whose
// reduction runs over (image, p, q): dW_g = dy_g (Kg x n*PQ) * col^T (n*PQ x CRS); chunks of the
// batch accumulate with beta = 1. Winograd: the same GEMM in the F(2x2, 3x3) transform domain,
// 16 products over the tiles (conv_winograd_weights.cl says how). Direct: one work-group per
// weight with a local tree.
#include <algorithm>
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

Event backward_weights_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t, std::size_t cap) {
  const PackedLayout lay = packed_layout(slot);
  const std::size_t per_image =
      workspace_bytes({round_up(g.Kg, lay.mr) + round_up(g.CRS, lay.nr), g.PQ, sizeof(float)});
  // The reduction length nimg * PQ is a 32-bit kernel argument.
  const std::size_t chunk = std::min(images_per_chunk(g.n, per_image, cap), std::size_t(0x7fffffff) / g.PQ);
  Workspace ap(*slot.workspace, *slot.context, slot.info, workspace_bytes({round_up(g.Kg, lay.mr), g.PQ, chunk, sizeof(float)}));
  Workspace bp(*slot.workspace, *slot.context, slot.info, workspace_bytes({round_up(g.CRS, lay.nr), g.PQ, chunk, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0);
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      run_kernel(slot, "conv_im2col", "conv_pack_dy_a", {g.PQ, ceil_div(std::size_t(g.Kg), lay.mr), nimg}, {16, 1, 1},
                 t.dy, cl_ulong(b0 * g.KPQ), ap.mem(), cl_ulong(0), g.K, g.Kg, grp, cl_int(g.PQ), cl_int(nimg));
      run_kernel(slot, "conv_im2col", "im2col_t_packed", {std::size_t(g.P), ceil_div(g.CRS, lay.nr), nimg}, {1, 1, 1},
                 t.x, cl_ulong(b0 * g.CHW), bp.mem(), cl_ulong(0), g.C, g.H, g.W, g.Cg, grp, g.R, g.S, g.P, g.Q, g.sh,
                 g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(nimg));
      last = Event(enqueue_packed_micro<float>(slot, g.Kg, g.CRS, nimg * g.PQ, 1.f, ap.mem(), 0, bp.mem(), 0,
                                               b0 == 0 ? 0.f : 1.f, t.dw, std::size_t(grp) * g.Kg * g.CRS, g.CRS, 0, 1));
    }
    if (t.dbias) last = dbias_im2col(slot, g, t.dy, b0, nimg, t.dbias);
  }
  return last;
}

// Tiles a backward-weights work-group transforms into local memory at a time: at most the
// family's TC and what local memory holds (16 planes of every channel and every output channel).
// Floats each local plane of tiles is padded by (conv_winograd_weights.cl says why).
constexpr std::size_t kPlanePad = 16;

// How winograd_bwdw_tiles splits the output channels (rows) and channels (cols) over
// work-groups, and the tiles each group transforms into local memory at a time.
struct WeightsGrid {
  std::size_t row_groups, group_rows, col_groups, group_cols;
  cl_int tc;
};

// Tiles that fit local memory: at most the family's TC; 16 padded planes of the group's channel
// panels and output-channel panels a tile.
long tiles_fitting(const DeviceSlot& slot, const PackedLayout& lay, std::size_t cols, std::size_t rows) {
  const std::uint64_t reserve = 256 + 16 * (cols + rows) * kPlanePad * sizeof(float);
  const std::uint64_t per_tile = 16 * (cols * lay.nr + rows * lay.mr) * sizeof(float);
  const std::uint64_t fits = slot.info.local_mem > reserve ? (slot.info.local_mem - reserve) / per_tile : 0;
  return std::min<long>(slot.program("conv_winograd_weights").param("TC"), long(fits));
}

// Output channels split to give `wanted` groups, at least 128 a group: each group transforms x
// for itself, which costs about a quarter of the products of 128 rows (segments of tiles give the
// rest). Then, where local memory holds no tile, channels and more rows.
WeightsGrid weights_grid(const DeviceSlot& slot, const PackedLayout& lay, const ConvGeom& g, std::size_t wanted) {
  const std::size_t row_panels = ceil_div(std::size_t(g.K), lay.mr), col_panels = ceil_div(std::size_t(g.C), lay.nr);
  WeightsGrid w{std::clamp<std::size_t>(row_panels * lay.mr / 128, 1, wanted), 0, 1, col_panels, 0};
  w.group_rows = ceil_div(row_panels, w.row_groups);
  while (tiles_fitting(slot, lay, w.group_cols, w.group_rows) < 1) {
    if (w.group_cols > 1) {
      w.group_cols = ceil_div(col_panels, ++w.col_groups);
    } else if (w.group_rows > 1) {
      w.group_rows = ceil_div(row_panels, ++w.row_groups);
    } else {
      fail(ANYCL_ERROR_UNSUPPORTED, "Winograd backward-weights on " + slot.where() + ": " +
                                        std::to_string(slot.info.local_mem) + " bytes of local memory hold no tile");
    }
  }
  w.col_groups = ceil_div(col_panels, w.group_cols);
  w.row_groups = ceil_div(row_panels, w.group_rows);
  w.tc = cl_int(tiles_fitting(slot, lay, w.group_cols, w.group_rows));
  return w;
}

// One fused kernel over segments of tiles into per-segment partial sums of the 16 planes, then
// their ordered sum folded into dw (conv_winograd_weights.cl says how). Two work-groups per
// compute unit keep the cores busy: output channels split (weights_grid), then the tiles into
// segments, each a set of partial sums within the workspace cap.
Event backward_weights_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap) {
  const PackedLayout lay = packed_layout(slot);
  const std::size_t tp = ceil_div(std::size_t(g.P), 2), tq = ceil_div(std::size_t(g.Q), 2), tiles = tp * tq;
  const std::size_t plane_bytes =
      workspace_bytes({16, round_up(std::size_t(g.K), lay.mr), round_up(std::size_t(g.C), lay.nr), sizeof(float)});
  // The tile count nimg * tp * tq is a 32-bit kernel argument.
  const std::size_t chunk = std::min(g.n, std::size_t(0x7fffffff) / tiles), first_tiles = chunk * tiles;
  const std::size_t wanted = 2 * std::max<std::size_t>(slot.info.compute_units, 1);
  const WeightsGrid w = weights_grid(slot, lay, g, wanted);
  const std::size_t most = std::max<std::size_t>(cap / plane_bytes, 1), groups = w.row_groups * w.col_groups;
  const std::size_t seg = round_up(ceil_div(first_tiles, std::min(ceil_div(wanted, groups), most)), std::size_t(w.tc));
  const std::size_t segments = ceil_div(first_tiles, seg);
  Workspace mp(*slot.workspace, *slot.context, slot.info, plane_bytes * segments);
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0);
    run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_tiles",
               {w.col_groups, w.group_rows * w.row_groups, segments}, {1, w.group_rows, 1},
               t.x, cl_ulong(b0 * g.CHW), t.dy, cl_ulong(b0 * g.KPQ), g.C, g.H, g.W, g.K, g.P, g.Q, g.pt, g.pl,
               cl_int(tp), cl_int(tq), cl_int(nimg), cl_int(seg), w.tc, cl_int(kPlanePad), cl_int(w.group_cols),
               cl_int(b0 != 0), mp.mem(), LocalBytes{16 * (w.tc * lay.nr + kPlanePad) * w.group_cols * sizeof(float)},
               LocalBytes{16 * (w.tc * lay.mr + kPlanePad) * w.group_rows * sizeof(float)});
    if (t.dbias) last = dbias_im2col(slot, g, t.dy, b0, nimg, t.dbias);
  }
  return run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_output", {std::size_t(g.C), std::size_t(g.K), 1},
                    {std::min<std::size_t>(std::size_t(g.C), 64), 1, 1},
                    mp.mem(), t.dw, g.K, g.C, cl_int(segments));
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
