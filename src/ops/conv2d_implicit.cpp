// ImplicitGemm forward (cl_kernels/conv_implicit.cl): the filter taps walked straight over a
// zero-padded, stride-phase-split copy of the input, so a layer with few input channels and a
// large or strided filter (the 7x7 stride-2 stem) runs without im2col's column matrix, which is
// R*S/(sh*sw) times the input and was a third of im2col's time there.
#include "ops/conv2d_algorithms.hpp"

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
                       std::size_t cap) {
  const ImplicitShape tile(slot.program("conv_implicit"), g);
  const std::size_t per_image = tile.staged_floats_per_image(g);
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({per_image, sizeof(float)}), cap);
  Workspace wp(*slot.workspace, *slot.context, slot.info,
               workspace_bytes({std::size_t(tile.blocks), g.CRS, tile.mr, sizeof(float)}));
  Workspace xs(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, per_image, sizeof(float)}));
  run_kernel(slot, "conv_implicit", "conv_ig_pack_w", {g.CRS, std::size_t(tile.blocks), 1}, {16, 1, 1}, t.w, wp.mem(),
             g.Kg, cl_int(g.CRS), tile.kblocks, tile.blocks);
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0), planes = nimg * std::size_t(g.C);
    run_kernel(slot, "conv_implicit", "conv_ig_stage_x", {planes, std::size_t(tile.Hs) * g.sw, 1}, {1, 16, 1}, t.x,
               cl_ulong(b0 * g.CHW), xs.mem(), g.H, g.W, tile.Hs, tile.Ws, g.sw, g.pt, g.pl, cl_int(planes));
    last = run_kernel(slot, "conv_implicit", "conv_ig_fwd",
                      {std::size_t(tile.qtiles), std::size_t(tile.blocks), nimg * std::size_t(tile.ptiles)},
                      {1, tile.wg, 1},
                      xs.mem(), wp.mem(), t.bias ? t.bias : t.w, t.y, cl_ulong(b0 * g.KPQ), g.C, g.Cg, g.K, g.Kg, g.R,
                      g.S, g.P, g.Q, g.sh, g.sw, g.dh, g.dw, tile.Hs, tile.Ws, tile.kblocks, tile.blocks, tile.ptiles,
                      cl_int(t.bias != nullptr), cl_int(relu));
  }
  return last;
}

}  // namespace anycl::detail
