// Winograd F(2x2, 3x3) in its three stages: filter transform, input transform, then the 16
// products with the output transform (one kernel). One device runs them back to back (forward_winograd); devices that
// share one context each run a part of every stage and meet between stages
// (sched/run_conv_shared.cpp).
#pragma once

#include "ops/conv2d_geometry.hpp"
#include "runtime/range.hpp"

namespace anycl::detail {

struct Claim;  // runtime/launch.hpp

// A stride-1 3x3 correlation from `in` (cin x ih x iw) to `out` (cout x oh x ow), the filter
// taken forward or flipped (backward-data), with top/left padding pt/pl.
struct WinogradPlan {
  cl_int cin, cout, ih, iw, oh, ow, pt, pl;
  bool flip;
};

WinogradPlan winograd_forward_plan(const ConvGeom& g);
// dx is the full correlation of dy with the rotated filter: padding becomes 2 - pad.
WinogradPlan winograd_backward_data_plan(const ConvGeom& g);

// The transform-domain buffers of a pass over up to `images` images, in elements: U (16 packed-A
// blocks of transformed filters) and V (16 packed-B blocks of transformed input tiles), each
// block `*stride` after the previous one.
struct WinogradLayout {
  std::size_t mr, nr, tp, tq, images, ustride, vstride;
  std::size_t row_panels;  // packed-A panels of output channels: how devices split the filters
  WinogradLayout(const DeviceSlot& slot, const WinogradPlan& w, std::size_t images);
  std::size_t tiles(std::size_t nimg) const { return nimg * tp * tq; }
  // Packed-B panels of tiles: how devices split the products when they do not claim them.
  std::size_t tile_panels(std::size_t nimg) const;
};

// U for the filters of `panels` (output channels panels.begin*mr ..).
void winograd_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem filter,
                      cl_mem u, Range panels);
// V for the input channels `channels` of images [b0, b0 + nimg) of `in`. With `claim`, the
// devices that launch it claim spans of the whole stage (runtime/launch.hpp, Claim): `channels`
// must then be all of them.
void winograd_inputs(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem in,
                     std::size_t b0, std::size_t nimg, cl_mem v, Range channels, const Claim* claim = nullptr);

struct WinogradScratch {
  cl_mem u, v;
};

// The 16 products U V for the tiles of `tile_panels` (nr tiles each) of images [b0, b0 + nimg),
// each folded into their outputs in `out` (+bias, ReLU) as it is computed. With `claim`, the
// devices that launch the same panels claim their parts of them. Returns the event.
Event winograd_products(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay,
                        const WinogradScratch& s, cl_mem bias, cl_mem out, std::size_t b0, std::size_t nimg, bool relu,
                        Range tile_panels, const Claim* claim = nullptr);

}  // namespace anycl::detail
