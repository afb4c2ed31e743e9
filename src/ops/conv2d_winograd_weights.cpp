// Winograd F(2x2, 3x3) backward-weights: the packed GEMM's products in the transform domain, 16
// of them over the tiles, fused with the transforms (conv_winograd_weights.cl says how). The
// kernel reads x and dy in either layout, NCHW along its rows; with the family's STAGE 2, NCHW
// tensors are instead first staged channels-last in workspace, a chunk of images at a time (a
// read and a write of both that the in-place transforms save). Layers of many channels and output
// channels (PACKED_MIN_CHANNELS) take the packed path instead (backward_weights_packed).
#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_nhwc.hpp"
#include "ops/conv2d_packing.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {
namespace {

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

// Output channels split to give `wanted` groups, at least GROUP_ROWS a group: each group
// transforms x for itself, and holds the partial sums of its rows and every channel (segments of
// tiles give the rest). Then, where local memory holds no tile, channels and more rows.
WeightsGrid weights_grid(const DeviceSlot& slot, const PackedLayout& lay, const ConvGeom& g, std::size_t wanted) {
  const std::size_t row_panels = ceil_div(std::size_t(g.K), lay.mr), col_panels = ceil_div(std::size_t(g.C), lay.nr);
  const std::size_t least_rows = std::size_t(std::max(1L, slot.program("conv_winograd_weights").param("GROUP_ROWS")));
  WeightsGrid w{std::clamp<std::size_t>(row_panels * lay.mr / least_rows, 1, wanted), 0, 1, col_panels, 0};
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

// The packed path (conv_winograd_weights.cl): x and dy transformed once into panels of every tile,
// then each work-item's products reduce over all of them and fold into dw. NCHW read in place, the
// whole batch at once (its sum is one ordered reduction); the fused kernel does everything else.
bool packed_path_applies(const BuiltProgram& prog, const PackedLayout& lay, const ConvGeom& g, std::size_t tiles,
                         std::size_t cap, ConvLayout layout) {
  const long least = prog.param("PACKED_MIN_CHANNELS");
  if (layout != ConvLayout::Nchw || prog.param("STAGE") == 2 || std::min(g.K, g.C) < least) return false;
  // The kernels step through a plane of the panels (T*NR or T*MR floats) in int.
  if (g.n * tiles > std::size_t(INT_MAX) / std::max(lay.mr, lay.nr)) return false;
  const std::size_t panels = round_up(std::size_t(g.K), lay.mr) + round_up(std::size_t(g.C), lay.nr);
  return workspace_bytes({16, g.n, tiles, panels, sizeof(float)}) <= cap;
}

Event backward_weights_packed(const DeviceSlot& slot, const PackedLayout& lay, const ConvGeom& g,
                              const BackwardWeightsTensors& t, std::size_t tp, std::size_t tq) {
  const BuiltProgram& prog = slot.program("conv_winograd_weights");
  const std::size_t T = g.n * tp * tq, row_panels = ceil_div(std::size_t(g.K), lay.mr);
  const std::size_t col_panels = ceil_div(std::size_t(g.C), lay.nr), nv = lay.nr / std::size_t(prog.param("VW"));
  const std::size_t pack = ceil_div(T, std::size_t(prog.param("PACK_TILES")));
  Workspace vp(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, T, col_panels * lay.nr, sizeof(float)}));
  Workspace yp(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, T, row_panels * lay.mr, sizeof(float)}));
  run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_pack_x_nchw", {col_panels * nv, pack, 1}, {1, 1, 1}, t.x,
             cl_ulong(0), g.C, g.H, g.W, g.pt, g.pl, cl_int(tp), cl_int(tq), cl_int(T), vp.mem());
  run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_pack_dy_nchw", {row_panels, pack, 1}, {1, 1, 1}, t.dy,
             cl_ulong(0), g.K, g.P, g.Q, cl_int(tp), cl_int(tq), cl_int(T), yp.mem());
  const std::size_t group = std::min<std::size_t>(row_panels, 8);
  Event last = run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_products",
                          {col_panels, row_panels, 1}, {1, group, 1}, yp.mem(), vp.mem(), g.K, g.C,
                          cl_int(T), t.dw, cl_int(0));
  if (t.dbias) last = dbias_im2col(slot, g, t.dy, 0, g.n, t.dbias);
  return last;
}

}  // namespace

// One fused kernel over segments of tiles into per-segment partial sums of the 16 planes, then
// their ordered sum folded into dw (by the tile kernel itself for one segment in one launch).
// GROUPS_PER_CU work-groups a compute unit of the whole device keep the cores busy: output channels split
// (weights_grid), then the tiles into segments, each a set of partial sums within the workspace
// cap, as are the channels-last copies of a chunk of images.
Event backward_weights_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap, ConvLayout layout) {
  const BuiltProgram& prog = slot.program("conv_winograd_weights");
  const bool stage = layout == ConvLayout::Nchw && prog.param("STAGE") == 2;
  const bool channels_last = layout == ConvLayout::Nhwc || stage;
  const PackedLayout lay = tile_layout(slot, "conv_winograd_weights");
  const std::size_t tp = ceil_div(std::size_t(g.P), 2), tq = ceil_div(std::size_t(g.Q), 2), tiles = tp * tq;
  if (packed_path_applies(prog, lay, g, tiles, cap, layout)) return backward_weights_packed(slot, lay, g, t, tp, tq);
  const std::size_t plane_bytes =
      workspace_bytes({16, round_up(std::size_t(g.K), lay.mr), round_up(std::size_t(g.C), lay.nr), sizeof(float)});
  // The tile count nimg * tp * tq is a 32-bit kernel argument.
  std::size_t chunk = std::min(g.n, std::size_t(INT_MAX) / tiles);
  if (stage) chunk = std::min(chunk, images_per_chunk(g.n, workspace_bytes({g.CHW + g.KPQ, sizeof(float)}), cap));
  const std::size_t first_tiles = chunk * tiles;
  // By the whole device's units: segments, and so the order of dw's sum, do not change with a
  // sub-device (data-parallel replicas on cpu/2 sum as one process on the whole device).
  const std::size_t wanted = std::size_t(std::max(1L, prog.param("GROUPS_PER_CU"))) *
                             std::max<std::size_t>(slot.root_compute_units, 1);
  const WeightsGrid w = weights_grid(slot, lay, g, wanted);
  const std::size_t most = std::max<std::size_t>(cap / plane_bytes, 1), groups = w.row_groups * w.col_groups;
  const std::size_t seg = round_up(ceil_div(first_tiles, std::min(ceil_div(wanted, groups), most)), std::size_t(w.tc));
  const std::size_t segments = ceil_div(first_tiles, seg);
  Workspace mp(*slot.workspace, *slot.context, slot.info, plane_bytes * segments);
  std::unique_ptr<Workspace> xs, dys;
  if (stage) {
    xs = std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, g.CHW, sizeof(float)}));
    dys = std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, g.KPQ, sizeof(float)}));
  }
  // One segment and one launch: the tile kernel writes dw itself (its last pass, no output kernel).
  const bool direct = segments == 1 && chunk >= g.n;
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0);
    cl_mem x = t.x, dy = t.dy;
    cl_ulong x_off = b0 * g.CHW, dy_off = b0 * g.KPQ;
    if (stage) {
      transpose_images(slot, t.x, x_off, xs->mem(), 0, nimg, std::size_t(g.C), std::size_t(g.H) * g.W);
      transpose_images(slot, t.dy, dy_off, dys->mem(), 0, nimg, std::size_t(g.K), g.PQ);
      x = xs->mem(), dy = dys->mem(), x_off = dy_off = 0;
    }
    last = run_kernel(slot, "conv_winograd_weights", channels_last ? "winograd_bwdw_tiles" : "winograd_bwdw_tiles_nchw",
                      {w.col_groups, w.group_rows * w.row_groups, segments}, {1, w.group_rows, 1}, x, x_off, dy,
                      dy_off, g.C, g.H, g.W, g.K, g.P, g.Q, g.pt, g.pl, cl_int(tp), cl_int(tq), cl_int(nimg),
                      cl_int(seg), w.tc, cl_int(kPlanePad), cl_int(w.group_cols), cl_int(b0 != 0), mp.mem(),
                      LocalBytes{16 * (w.tc * lay.nr + kPlanePad) * w.group_cols * sizeof(float)},
                      LocalBytes{16 * (w.tc * lay.mr + kPlanePad) * w.group_rows * sizeof(float)}, t.dw,
                      cl_int(direct), cl_int(layout == ConvLayout::Nhwc));
    if (t.dbias && layout == ConvLayout::Nchw) last = dbias_im2col(slot, g, t.dy, b0, nimg, t.dbias);
  }
  if (t.dbias && layout == ConvLayout::Nhwc) last = dbias_nhwc(slot, g, t.dy, t.dbias);
  if (direct) return last;
  const std::size_t vectors = ceil_div(std::size_t(g.C), std::size_t(prog.param("VW")));
  return run_kernel(slot, "conv_winograd_weights", "winograd_bwdw_output", {vectors, std::size_t(g.K), 1},
                    {std::min<std::size_t>(vectors, 64), 1, 1}, mp.mem(), t.dw, g.K, g.C, cl_int(segments),
                    cl_int(layout == ConvLayout::Nhwc));
}

}  // namespace anycl::detail
