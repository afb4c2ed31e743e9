// Winograd F(2x2, 3x3) on GPU-class devices (cl_kernels/conv_winograd_tiled.cl): the filter and
// input transforms into plain planes, the 16 products as one batched tiled GEMM, then the output
// transform. Built only where the tiled GEMM family runs, so its presence is the capability test.
#include <algorithm>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_winograd.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {
namespace {

Event winograd_tiled(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, cl_mem in, cl_mem filter,
                     cl_mem bias, cl_mem out, bool relu, std::size_t cap) {
  const std::size_t cin = std::size_t(w.cin), cout = std::size_t(w.cout);
  const std::size_t tp = ceil_div(std::size_t(w.oh), 2), tq = ceil_div(std::size_t(w.ow), 2);
  const std::size_t tiles = tp * tq, lws = std::size_t(slot.program("conv_winograd_tiled").param("WT_LWS"));
  // V and M per image; the kernels and the GEMM count tiles and plane sizes in int.
  const std::size_t per_image = workspace_bytes({16, (cin + cout) * tiles, sizeof(float)});
  const std::size_t widest = std::max<std::size_t>({cin, cout, 1}) * tiles;
  const std::size_t chunk = std::clamp<std::size_t>(std::min(cap / per_image, 0x7fffffff / widest), 1, n);
  Workspace u(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, cout, cin, sizeof(float)}));
  Workspace v(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, cin, chunk * tiles, sizeof(float)}));
  Workspace m(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, cout, chunk * tiles, sizeof(float)}));
  run_kernel(slot, "conv_winograd_tiled", "wt_filter", {cin, cout, 1}, {lws, 1, 1}, filter, u.mem(), w.cout, w.cin,
             cl_int(w.flip));
  Event last;
  for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, n - b0), t = nimg * tiles;
    run_kernel(slot, "conv_winograd_tiled", "wt_input", {t, cin, 1}, {lws, 1, 1}, in,
               cl_ulong(b0 * cin * w.ih * w.iw), v.mem(), w.cin, w.ih, w.iw, cl_int(tp), cl_int(tq), w.pt, w.pl,
               cl_int(nimg));
    GemmProblem p;
    p.m = cout, p.n = t, p.k = cin, p.batch = 16;
    p.lda = cin, p.stride_a = cout * cin, p.ldb = t, p.stride_b = cin * t, p.ldc = t, p.stride_c = cout * t;
    Event(enqueue_tiled<float>(slot, p, 1.f, u.mem(), v.mem(), 0.f, m.mem()));
    last = run_kernel(slot, "conv_winograd_tiled", "wt_output", {t, cout, 1}, {lws, 1, 1}, m.mem(),
                      bias ? bias : out, out, cl_ulong(b0 * cout * w.oh * w.ow), w.cout, w.oh, w.ow, cl_int(tp),
                      cl_int(tq), cl_int(nimg), cl_int(bias != nullptr), cl_int(relu));
  }
  return last;
}

}  // namespace

bool runs_winograd_tiled(const DeviceSlot& slot) { return slot.has_program("conv_winograd_tiled"); }

Event forward_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                             std::size_t cap) {
  return winograd_tiled(slot, winograd_forward_plan(g), g.n, t.x, t.w, t.bias, t.y, relu, cap);
}

Event backward_data_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                                   std::size_t cap) {
  return winograd_tiled(slot, winograd_backward_data_plan(g), g.n, t.dy, t.w, nullptr, t.dx, false, cap);
}

}  // namespace anycl::detail
