// Winograd F(m x m, 3x3) (m = the device's WINO_M of conv_winograd, 2 or 4) in two kernels: the
// filter transform, then the input transform, the (m + 2)^2 products and the output transform as
// one pass over panels of tiles (V lives in each work-group's local memory). One device runs them back to back (forward_winograd); devices that share one
// memory each run a part of both and meet between them (the scheduler's shared pass). The
// GPU-class form (conv2d_winograd_tiled.cpp) runs in stages the same way.
#pragma once

#include "ops/conv2d_geometry.hpp"
#include "runtime/range.hpp"

namespace anycl::detail {

struct Claim;  // runtime/launch.hpp

// A stride-1 3x3 correlation from `in` (cin x ih x iw) to `out` (cout x oh x ow), the filter
// taken forward or flipped (backward-data), with top/left padding pt/pl; channels_last: the
// tensors are NHWC and the filters OHWI (the panels form only).
struct WinogradPlan {
  cl_int cin, cout, ih, iw, oh, ow, pt, pl;
  bool flip;
  bool channels_last = false;
};

WinogradPlan winograd_forward_plan(const ConvGeom& g, ConvLayout layout = ConvLayout::Nchw);
// dx is the full correlation of dy with the rotated filter: padding becomes 2 - pad.
WinogradPlan winograd_backward_data_plan(const ConvGeom& g, ConvLayout layout = ConvLayout::Nchw);
// The one of the two for a forward or backward-data pass.
WinogradPlan winograd_plan(ConvPass pass, const Conv2d& d);

// The transformed filters of a pass: U, planes() packed-A blocks, each `ustride` elements after
// the previous one, and the panels of tiles (m x m outputs each) the second kernel runs over.
struct WinogradLayout {
  std::size_t m, mr, nr, tp, tq, ustride;
  std::size_t row_panels;  // packed-A panels of output channels: how devices split the filters
  WinogradLayout(const DeviceSlot& slot, const WinogradPlan& w);
  std::size_t tiles(std::size_t nimg) const { return nimg * tp * tq; }
  // Points of the transform domain: one product (one U block) each.
  std::size_t planes() const { return (m + 2) * (m + 2); }
  // Packed-B panels of tiles (one work-group each): how devices split the second kernel when
  // they do not claim it.
  std::size_t tile_panels(std::size_t nimg) const;
  // Bytes of the transformed filters, the pass's only scratch.
  std::size_t filter_bytes() const;
};

// Winograd's error bound on `slot` for `pass`, as the factor f of |err| <= f (L + 2) eps_f32 times
// the sum of |terms| (L the reduction length): 16 with 2x2 output tiles (backward-weights and the
// GPU-class path always), 128 with 4x4. Derived in docs/reliability.md, "Winograd accuracy".
double winograd_error_factor(const DeviceSlot& slot, ConvPass pass);

// Work-groups that share each tile panel's output channels (row panels) when the pass has
// `tile_panels` panels on a device of `compute_units`: 1 unless the panels are too few to keep
// every unit busy.
std::size_t winograd_row_groups(const WinogradLayout& lay, std::size_t tile_panels, std::size_t compute_units);

// U for the filters of `panels` (output channels panels.begin*mr ..).
void winograd_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem filter,
                      cl_mem u, Range panels);

// The input transform, the products U V and the output transform of the tiles of
// `tile_panels` (nr tiles each) of images [b0, b0 + nimg) of `in` into `out` (+bias, ReLU). With
// `claim`, the devices that launch the same panels claim their parts of them. `row_groups` work-
// groups share each panel's output channels (0: winograd_row_groups', 1 when claimed). Returns
// the event.
Event winograd_tiles(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem u, cl_mem in,
                     cl_mem bias, cl_mem out, std::size_t b0, std::size_t nimg, bool relu, Range tile_panels,
                     const Claim* claim = nullptr, std::size_t row_groups = 0);

// Which form of Winograd a device runs: Tiled (conv_winograd_tiled.cl around the tiled GEMM)
// where that family is built, that is on devices running the tiled GEMM family; else Panels
// (conv_winograd.cl). Single-device calls and the scheduler's shared pass both follow it.
enum class WinogradForm { Panels, Tiled };
WinogradForm winograd_form(const DeviceSlot& slot);

// The tiled form as stages (conv2d_winograd_tiled.cpp): U, the 16 transformed filters (cout x cin
// each), once; then per chunk of images V (cin x T) and M = U V (cout x T) over its T tiles.
struct WinogradTiledLayout {
  std::size_t tp, tq;  // tiles of an image: tp x tq
  std::size_t lws;     // the transform kernels' work-group width along tiles (WT_LWS)
  std::size_t chunk;   // images a V/M chunk holds within the workspace cap
  std::size_t u_bytes, v_bytes, m_bytes;  // U; V and M of one chunk
  WinogradTiledLayout(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, std::size_t cap);
  std::size_t tiles(std::size_t nimg) const { return nimg * tp * tq; }
};

// The buffers of the tiled stages: scratch U, V, M (the layout's sizes) and the pass's tensors.
struct WinogradTiledPlanes {
  cl_mem u, v, m, in, bias, out;
};

// U rows [rows.begin, rows.end): output channels of the pass.
void winograd_tiled_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradTiledLayout& lay,
                            cl_mem filter, cl_mem u, Range rows);

// The input transform, the 16 products and the output transform (+bias, ReLU) of tiles
// [tiles.begin, tiles.end) of the chunk of images [b0, b0 + nimg). Devices that split the tiles
// give each a part starting at a multiple of every device's lws. Returns the last event.
Event winograd_tiled_tiles(const DeviceSlot& slot, const WinogradPlan& w, const WinogradTiledLayout& lay,
                           const WinogradTiledPlanes& planes, std::size_t b0, std::size_t nimg, bool relu,
                           Range tiles);

}  // namespace anycl::detail
