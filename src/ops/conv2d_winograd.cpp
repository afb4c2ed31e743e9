// Winograd F(2x2, 3x3) for stride 1, dilation 1, one group: 16 GEMMs between transformed filter
// and input tiles. Backward-data is the same algorithm on dy with the rotated, transposed filter.
#include "ops/conv2d_winograd.hpp"

#include <algorithm>

#include "ops/gemm_kernels.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

WinogradPlan winograd_forward_plan(const ConvGeom& g) { return {g.C, g.K, g.H, g.W, g.P, g.Q, g.pt, g.pl, false}; }

WinogradPlan winograd_backward_data_plan(const ConvGeom& g) {
  return {g.K, g.C, g.P, g.Q, g.H, g.W, 2 - g.pt, 2 - g.pl, true};
}

WinogradLayout::WinogradLayout(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n) {
  const PackedLayout lay = packed_layout(slot);
  mr = lay.mr, nr = lay.nr, images = n;
  tp = ceil_div(std::size_t(w.oh), 2), tq = ceil_div(std::size_t(w.ow), 2);
  row_panels = ceil_div(std::size_t(w.cout), mr);
  ustride = lay.a_panel_elems(std::size_t(w.cout), std::size_t(w.cin));
  // Off-by-a-little strides: exact multiples of 4 KiB made the 16 blocks alias in cache (the
  // transforms ran 15-20% slower on POCL).
  const std::size_t skew = 32;
  vstride = round_up(tiles(n), nr) * std::size_t(w.cin) + skew;
}

std::size_t WinogradLayout::tile_panels(std::size_t nimg) const { return ceil_div(tiles(nimg), nr); }

void winograd_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem filter,
                      cl_mem u, Range panels) {
  run_kernel_part(slot, "conv_winograd", "winograd_filter_transform", {0, panels.begin, 0},
                  {std::size_t(w.cin), panels.size(), 1}, {1, 1, 1}, filter, u, cl_ulong(lay.ustride), w.cout, w.cin,
                  cl_int(w.flip));
}

void winograd_inputs(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem in,
                     std::size_t b0, std::size_t nimg, cl_mem v, Range channels, const Claim* claim) {
  const std::size_t in_image = std::size_t(w.cin) * w.ih * w.iw;
  // Claimed, the stage is cut into spans of (channel, tile panel) items instead (claim.h,
  // claim_span): 32 of them leave a late device at most ~3% of the stage. On two POCL
  // sub-devices (64ch 56x56, batch 8) 13 or 49 spans ran the transform in 1.2-1.3 ms against
  // 2.3 ms claiming 16 channels a group; 16, 32 and 64 spans made no difference to the call.
  const std::size_t spans = 32;
  if (claim && channels.size() != std::size_t(w.cin))
    fail(ANYCL_ERROR_INTERNAL, "claimed Winograd input transform over a part of the channels");
  const Range3 global = claim ? Range3{spans, 1, 1} : Range3{channels.size(), lay.tile_panels(nimg), 1};
  clReleaseEvent(enqueue_kernel(slot, "conv_winograd", "winograd_input_transform", claim,
                                {claim ? 0 : channels.begin, 0, 0}, global, {1, 1, 1}, in, cl_ulong(b0 * in_image), v,
                                cl_ulong(0), cl_ulong(lay.vstride), w.cin, w.ih, w.iw, cl_int(lay.tp), cl_int(lay.tq),
                                w.pt, w.pl, cl_int(nimg)));
}

Event winograd_products(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay,
                        const WinogradScratch& s, cl_mem bias, cl_mem out, std::size_t b0, std::size_t nimg, bool relu,
                        Range tile_panels, const Claim* claim) {
  const std::size_t out_image = std::size_t(w.cout) * w.oh * w.ow;
  const std::size_t rows = std::size_t(slot.program("conv_winograd").param("WG_ROWS"));
  return Event(enqueue_kernel(slot, "conv_winograd", "winograd_products_output", claim, {tile_panels.begin, 0, 0},
                              {tile_panels.size(), lay.row_panels, 1}, {1, rows, 1}, s.u, cl_ulong(lay.ustride), s.v,
                              cl_ulong(lay.vstride), w.cout, w.cin, bias ? bias : out, out, cl_ulong(b0 * out_image),
                              w.oh, w.ow, cl_int(lay.tp), cl_int(lay.tq), cl_int(nimg), cl_int(bias != nullptr),
                              cl_int(relu)));
}

namespace {

// One device, the whole pass: the batch in chunks whose V fits the workspace cap.
Event winograd(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, cl_mem in, cl_mem filter, cl_mem bias,
               cl_mem out, bool relu, std::size_t cap) {
  const WinogradLayout one(slot, w, 1);
  const std::size_t per_image = workspace_bytes({16, std::size_t(w.cin), one.tiles(1), sizeof(float)});
  const WinogradLayout lay(slot, w, images_per_chunk(n, per_image, cap));
  Workspace u(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, lay.ustride, sizeof(float)}));
  winograd_filters(slot, w, lay, filter, u.mem(), {0, lay.row_panels});
  Workspace v(*slot.workspace, *slot.context, slot.info, workspace_bytes({16, lay.vstride, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < n; b0 += lay.images) {
    const std::size_t nimg = std::min(lay.images, n - b0);
    winograd_inputs(slot, w, lay, in, b0, nimg, v.mem(), {0, std::size_t(w.cin)});
    last = winograd_products(slot, w, lay, {u.mem(), v.mem()}, bias, out, b0, nimg, relu, {0, lay.tile_panels(nimg)});
  }
  return last;
}

}  // namespace

bool is_winograd_shape(const Conv2d& d) {
  return d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 && d.dilation_w == 1 &&
         d.groups == 1;
}

Event forward_winograd(const DeviceSlot& slot, const ConvGeom& g, const ConvTensors& t, bool relu, std::size_t cap) {
  return winograd(slot, winograd_forward_plan(g), g.n, t.x, t.w, t.bias, t.y, relu, cap);
}

Event backward_data_winograd(const DeviceSlot& slot, const ConvGeom& g, const ConvTensors& t, std::size_t cap) {
  return winograd(slot, winograd_backward_data_plan(g), g.n, t.y, t.w, nullptr, t.x, false, cap);
}

}  // namespace anycl::detail
