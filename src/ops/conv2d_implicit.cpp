// ImplicitGemm (cl_kernels/conv_implicit.cl, conv_implicit_weights.cl): the filter taps walked
// straight over a zero-padded, stride-phase-split copy of the input, so a layer with few input
// channels and a large or strided filter (the 7x7 stride-2 stem) runs forward and
// backward-weights without im2col's column matrix, which is R*S/(sh*sw) times the input.
#include <algorithm>
#include <climits>
#include <string>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"

namespace anycl::detail {
namespace {

// The register tile and the staged input's extents for one problem.
struct ImplicitShape {
  std::size_t mr, tile_q, tp, wg;
  cl_int kblocks, blocks, ptiles, qtiles, Hs, Ws;

  ImplicitShape(const BuiltProgram& prog, const ConvGeom& g)
      : mr(std::size_t(prog.param("MR"))), tile_q(std::size_t(prog.param("TQ") * prog.param("VW"))),
        tp(std::size_t(prog.param("TP"))), wg(std::size_t(prog.param("IG_WG"))),
        kblocks(cl_int(ceil_div(std::size_t(g.Kg), mr))), blocks(g.groups * kblocks),
        ptiles(cl_int(ceil_div(std::size_t(g.P), tp))), qtiles(cl_int(ceil_div(std::size_t(g.Q), tile_q))),
        // Every row and phase column the tiles read, the padded tiles included.
        Hs(cl_int((std::size_t(ptiles) * tp - 1) * g.sh + std::size_t(g.R - 1) * g.dh + 1)),
        Ws(cl_int(std::size_t(qtiles) * tile_q + std::size_t(g.S - 1) * g.dw / g.sw)) {}

  std::size_t staged_floats_per_image(const ConvGeom& g) const {
    return std::size_t(g.C) * std::size_t(Hs) * std::size_t(g.sw) * std::size_t(Ws);
  }
};

}  // namespace

Event forward_implicit(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                       std::size_t cap, ConvLayout layout) {
  const cl_int channels_last = cl_int(layout == ConvLayout::Nhwc);
  const ImplicitShape tile(slot.program("conv_implicit"), g);
  const std::size_t per_image = tile.staged_floats_per_image(g);
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({per_image, sizeof(float)}), cap);
  // The filter panels, then one int a tap: its offset in a channel group's staged x.
  if (std::size_t(g.Cg) * tile.staged_floats_per_image(g) / std::size_t(g.C) > std::size_t(INT_MAX))
    fail(ANYCL_ERROR_UNSUPPORTED, "anycl::conv2d_forward: ImplicitGemm's staged input of " + std::to_string(g.Cg) +
                                      " channels exceeds 2^31 - 1 floats on " + slot.where());
  Workspace wp(*slot.workspace, *slot.context, slot.info,
               workspace_bytes({std::size_t(tile.blocks) * tile.mr + 1, g.CRS, sizeof(float)}));
  Workspace xs(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, per_image, sizeof(float)}));
  run_kernel(slot, "conv_implicit", "conv_ig_pack_w", {g.CRS, std::size_t(tile.blocks), 1}, {16, 1, 1}, t.w, wp.mem(),
             g.Kg, cl_int(g.CRS), tile.kblocks, tile.blocks, g.R, g.S, g.sw, g.dh, g.dw, tile.Hs, tile.Ws, channels_last);
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0), planes = nimg * std::size_t(g.C);
    run_kernel(slot, "conv_implicit", "conv_ig_stage_x", {planes, std::size_t(tile.Hs) * g.sw, 1}, {1, 16, 1}, t.x,
               cl_ulong(b0 * g.CHW), xs.mem(), g.C, g.H, g.W, tile.Hs, tile.Ws, g.sw, g.pt, g.pl, cl_int(planes),
               channels_last);
    last = run_kernel(slot, "conv_implicit", "conv_ig_fwd",
                      {std::size_t(tile.qtiles), std::size_t(tile.blocks), nimg * std::size_t(tile.ptiles)},
                      {1, tile.wg, 1},
                      xs.mem(), wp.mem(), t.bias ? t.bias : t.w, t.y, cl_ulong(b0 * g.KPQ), g.C, g.Cg, g.K, g.Kg, g.R,
                      g.S, g.P, g.Q, g.sh, g.sw, g.dh, g.dw, tile.Hs, tile.Ws, tile.kblocks, tile.blocks, tile.ptiles,
                      cl_int(t.bias != nullptr), cl_int(relu), channels_last);
  }
  return last;
}

// Backward-weights: the batch's output rows split into segments, one work-group each over every
// register tile of dw, each segment's partial dw summed in segment order by a second kernel.
Event backward_weights_implicit(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap) {
  const BuiltProgram& prog = slot.program("conv_implicit_weights");
  const std::size_t vw = std::size_t(prog.param("VW")), mr = std::size_t(prog.param("MR"));
  const std::size_t nt = std::size_t(prog.param("NT")), wg = std::size_t(prog.param("IGW_WG"));
  const std::size_t kblocks = ceil_div(std::size_t(g.Kg), mr), tblocks = ceil_div(g.CRS, nt);
  const std::size_t tiles = std::size_t(g.groups) * kblocks * tblocks;
  // Every row and phase column the taps read; the columns past Q meet zero dy.
  const cl_int Hs = cl_int(std::size_t(g.P - 1) * g.sh + std::size_t(g.R - 1) * g.dh + 1);
  const cl_int Ws = cl_int(round_up(std::size_t(g.Q), vw) + std::size_t(g.S - 1) * g.dw / g.sw);
  const std::size_t per_image = std::size_t(g.C) * std::size_t(Hs) * std::size_t(g.sw) * std::size_t(Ws);
  // The row count nimg * P is a 32-bit kernel argument.
  const std::size_t chunk = std::min(images_per_chunk(g.n, workspace_bytes({per_image, sizeof(float)}), cap),
                                     std::size_t(0x7fffffff) / std::size_t(g.P));
  // Segments of a fixed row count, whatever the device: a data-parallel replica on a sub-device
  // sums in the order a whole device does.
  const std::size_t seg_rows = std::size_t(std::max(1L, prog.param("IGW_SEG_ROWS")));
  const std::size_t most_segments = ceil_div(chunk * std::size_t(g.P), seg_rows), count = std::size_t(g.K) * g.CRS;
  Workspace xs(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, per_image, sizeof(float)}));
  Workspace part(*slot.workspace, *slot.context, slot.info, workspace_bytes({most_segments, count, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0), planes = nimg * std::size_t(g.C);
    const std::size_t rows = nimg * std::size_t(g.P), segments = ceil_div(rows, seg_rows);
    run_kernel(slot, "conv_implicit", "conv_ig_stage_x", {planes, std::size_t(Hs) * g.sw, 1}, {1, 16, 1}, t.x,
               cl_ulong(b0 * g.CHW), xs.mem(), g.C, g.H, g.W, Hs, Ws, g.sw, g.pt, g.pl, cl_int(planes), cl_int(0));
    run_kernel(slot, "conv_implicit_weights", "conv_igw_tiles", {round_up(tiles, wg), segments, 1}, {wg, 1, 1},
               xs.mem(), t.dy, cl_ulong(b0 * g.KPQ), part.mem(), g.C, g.Cg, g.K, g.Kg, g.R, g.S, g.P, g.Q, g.sh,
               g.sw, g.dh, g.dw, Hs, Ws, cl_int(kblocks), cl_int(tblocks), cl_int(tiles), cl_int(rows),
               cl_int(seg_rows), cl_ulong(g.n * g.KPQ));
    last = run_kernel(slot, "conv_implicit_weights", "conv_igw_sum", {count, 1, 1}, {64, 1, 1}, part.mem(), t.dw,
                      cl_int(count), cl_int(segments), cl_int(b0 != 0));
    if (t.dbias) last = dbias_im2col(slot, g, t.dy, b0, nimg, t.dbias);
  }
  return last;
}

}  // namespace anycl::detail
