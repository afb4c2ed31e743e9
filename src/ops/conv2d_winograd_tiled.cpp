// Winograd F(2x2, 3x3) on GPU-class devices (cl_kernels/conv_winograd_tiled.cl): the filter and
// input transforms into plain planes, the 16 products as one batched tiled GEMM, then the output
// transform. Built only where the tiled GEMM family runs, so its presence is the capability test
// (winograd_form). The stages take parts, so devices sharing one memory can split them
// (the scheduler's shared pass).
#include <algorithm>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_winograd.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

WinogradForm winograd_form(const DeviceSlot& slot) {
  return slot.has_program("conv_winograd_tiled") ? WinogradForm::Tiled : WinogradForm::Panels;
}

WinogradTiledLayout::WinogradTiledLayout(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n,
                                         std::size_t cap)
    : tp(ceil_div(std::size_t(w.oh), 2)), tq(ceil_div(std::size_t(w.ow), 2)),
      lws(std::size_t(slot.program("conv_winograd_tiled").param("WT_LWS"))) {
  const std::size_t cin = std::size_t(w.cin), cout = std::size_t(w.cout);
  // V and M per image; the kernels and the GEMM count tiles and plane sizes in int.
  const std::size_t per_image = workspace_bytes({16, (cin + cout) * tiles(1), sizeof(float)});
  const std::size_t widest = std::max<std::size_t>({cin, cout, 1}) * tiles(1);
  chunk = std::clamp<std::size_t>(std::min(cap / per_image, 0x7fffffff / widest), 1, n);
  u_bytes = workspace_bytes({16, cout, cin, sizeof(float)});
  v_bytes = workspace_bytes({16, cin, tiles(chunk), sizeof(float)});
  m_bytes = workspace_bytes({16, cout, tiles(chunk), sizeof(float)});
}

void winograd_tiled_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradTiledLayout& lay,
                            cl_mem filter, cl_mem u, Range rows) {
  run_kernel_part(slot, "conv_winograd_tiled", "wt_filter", {0, rows.begin, 0}, {std::size_t(w.cin), rows.size(), 1},
                  {lay.lws, 1, 1}, filter, u, w.cout, w.cin, cl_int(w.flip));
}

Event winograd_tiled_tiles(const DeviceSlot& slot, const WinogradPlan& w, const WinogradTiledLayout& lay,
                           const WinogradTiledPlanes& planes, std::size_t b0, std::size_t nimg, bool relu,
                           Range tiles) {
  const std::size_t cin = std::size_t(w.cin), cout = std::size_t(w.cout), t = lay.tiles(nimg);
  const cl_int tp = cl_int(lay.tp), tq = cl_int(lay.tq);
  run_kernel_part(slot, "conv_winograd_tiled", "wt_input", {tiles.begin, 0, 0}, {tiles.size(), cin, 1},
                  {lay.lws, 1, 1}, planes.in, cl_ulong(b0 * cin * w.ih * w.iw), planes.v, w.cin, w.ih, w.iw, tp, tq,
                  w.pt, w.pl, cl_int(nimg));
  GemmProblem p;  // columns tiles.begin .. of the 16 products M = U V
  p.m = cout, p.n = tiles.size(), p.k = cin, p.batch = 16;
  p.lda = cin, p.stride_a = cout * cin, p.ldb = t, p.stride_b = cin * t, p.ldc = t, p.stride_c = cout * t;
  p.b_off = p.c_off = tiles.begin;
  Event(enqueue_tiled<float>(slot, p, 1.f, planes.u, planes.v, 0.f, planes.m));
  return run_kernel_part(slot, "conv_winograd_tiled", "wt_output", {tiles.begin, 0, 0}, {tiles.size(), cout, 1},
                         {lay.lws, 1, 1}, planes.m, planes.bias ? planes.bias : planes.out, planes.out,
                         cl_ulong(b0 * cout * w.oh * w.ow), w.cout, w.oh, w.ow, tp, tq, cl_int(nimg),
                         cl_int(planes.bias != nullptr), cl_int(relu));
}

namespace {

// One device, the whole pass, in chunks of images within `cap`.
Event winograd_tiled(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, cl_mem in, cl_mem filter,
                     cl_mem bias, cl_mem out, bool relu, std::size_t cap) {
  const WinogradTiledLayout lay(slot, w, n, cap);
  Workspace u(*slot.workspace, *slot.context, slot.info, lay.u_bytes);
  Workspace v(*slot.workspace, *slot.context, slot.info, lay.v_bytes);
  Workspace m(*slot.workspace, *slot.context, slot.info, lay.m_bytes);
  winograd_tiled_filters(slot, w, lay, filter, u.mem(), {0, std::size_t(w.cout)});
  const WinogradTiledPlanes planes{u.mem(), v.mem(), m.mem(), in, bias, out};
  Event last;
  for (std::size_t b0 = 0; b0 < n; b0 += lay.chunk) {
    const std::size_t nimg = std::min(lay.chunk, n - b0);
    last = winograd_tiled_tiles(slot, w, lay, planes, b0, nimg, relu, {0, lay.tiles(nimg)});
  }
  return last;
}

}  // namespace

Event forward_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                             std::size_t cap) {
  return winograd_tiled(slot, winograd_forward_plan(g), g.n, t.x, t.w, t.bias, t.y, relu, cap);
}

Event backward_data_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                                   std::size_t cap) {
  return winograd_tiled(slot, winograd_backward_data_plan(g), g.n, t.dy, t.w, nullptr, t.dx, false, cap);
}

}  // namespace anycl::detail
