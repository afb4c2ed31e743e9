// Winograd F(2x2, 3x3) for stride 1, dilation 1, one group: 16 GEMMs between transformed filter
// and input tiles. Backward-data is the same algorithm on dy with the rotated, transposed filter.
#include "ops/conv2d_geometry.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {
namespace {

// A stride-1 3x3 correlation from `in` (cin x ih x iw) to `out` (cout x oh x ow), the filter
// taken forward or flipped (backward-data), with top/left padding pt/pl.
struct WinogradPlan {
  cl_int cin, cout, ih, iw, oh, ow, pt, pl;
  bool flip;
};

Event winograd(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, cl_mem in, cl_mem filter, cl_mem bias,
               cl_mem out, bool relu, std::size_t cap) {
  const PackedLayout lay = packed_layout(slot);
  const std::size_t run = std::size_t(slot.program("conv_winograd").param("WOT_RUN"));
  const std::size_t tp = ceil_div(std::size_t(w.oh), 2), tq = ceil_div(std::size_t(w.ow), 2);
  const std::size_t ustride = lay.a_panel_elems(std::size_t(w.cout), std::size_t(w.cin));
  Workspace u(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, ustride, sizeof(float)}));
  run_kernel(slot, "conv_winograd", "winograd_filter_transform", {std::size_t(w.cin), ceil_div(w.cout, lay.mr), 1},
             {1, 1, 1}, filter, u.mem(), cl_ulong(ustride), w.cout, w.cin, cl_int(w.flip));
  // Per image: 16 transformed input blocks (packed B) and 16 GEMM outputs.
  const std::size_t tiles1 = tp * tq;
  const std::size_t per_image = workspace_bytes({16, std::size_t(w.cin) + std::size_t(w.cout), tiles1, sizeof(float)});
  const std::size_t chunk = images_per_chunk(n, per_image, cap);
  // Off-by-a-little strides: exact multiples of 4 KiB made the 16 blocks alias in cache (the
  // transforms ran 15-20% slower on POCL).
  const std::size_t skew = 32;
  const std::size_t vstride = round_up(chunk * tiles1, lay.nr) * w.cin + skew;
  const std::size_t mstride = std::size_t(w.cout) * chunk * tiles1 + skew;
  Workspace v(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, vstride, sizeof(float)}));
  Workspace m(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, mstride, sizeof(float)}));
  const std::size_t in_image = std::size_t(w.cin) * w.ih * w.iw, out_image = std::size_t(w.cout) * w.oh * w.ow;
  Event last;
  for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, n - b0), tiles = nimg * tiles1;
    run_kernel(slot, "conv_winograd", "winograd_input_transform", {std::size_t(w.cin), ceil_div(tiles, lay.nr), 1},
               {1, 1, 1}, in, cl_ulong(b0 * in_image), v.mem(), cl_ulong(0), cl_ulong(vstride), w.cin, w.ih, w.iw,
               cl_int(tp), cl_int(tq), w.pt, w.pl, cl_int(nimg));
    Event(enqueue_packed_micro<float>(slot, w.cout, tiles, w.cin, 1.f, u.mem(), ustride, v.mem(), vstride, 0.f,
                                      m.mem(), 0, tiles, mstride, 16));
    last = run_kernel(slot, "conv_winograd", "winograd_output_transform",
                      {ceil_div(tq, run), tp, nimg * std::size_t(w.cout)}, {1, 1, 1}, m.mem(), cl_ulong(0),
                      cl_ulong(mstride),
                      cl_int(tiles), bias ? bias : out, out, cl_ulong(b0 * out_image), w.cout, w.oh, w.ow, cl_int(tp),
                      cl_int(tq), cl_int(nimg), cl_int(bias != nullptr), cl_int(relu));
  }
  return last;
}

}  // namespace

bool is_winograd_shape(const Conv2d& d) {
  return d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 && d.dilation_w == 1 &&
         d.groups == 1;
}

Event forward_winograd(const DeviceSlot& slot, const ConvGeom& g, const ConvTensors& t, bool relu, std::size_t cap) {
  return winograd(slot, {g.C, g.K, g.H, g.W, g.P, g.Q, g.pt, g.pl, false}, g.n, t.x, t.w, t.bias, t.y, relu, cap);
}

// dx is the full correlation of dy with the rotated filter: padding becomes 2 - pad, and the
// output is the input's size.
Event backward_data_winograd(const DeviceSlot& slot, const ConvGeom& g, const ConvTensors& t, std::size_t cap) {
  return winograd(slot, {g.K, g.C, g.P, g.Q, g.H, g.W, 2 - g.pt, 2 - g.pl, true}, g.n, t.y, t.w, nullptr, t.x, false,
                  cap);
}

}  // namespace anycl::detail
