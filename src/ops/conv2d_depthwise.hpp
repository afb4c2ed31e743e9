// What the depthwise kernel families (conv_depthwise.cl for NCHW, conv_depthwise_nhwc.cl for
// channels-last) share: one correlation as their forward kernels see it, which shapes each pass
// can take, and when an output is stored non-temporally.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "ops/conv2d_geometry.hpp"
#include "ops/conv2d_passes.hpp"

namespace anycl::detail {

// One depthwise correlation: `in` (planes of ih x iw, upsampled up_h x up_w with zeros between)
// to `out` (oh x ow), the filter rotated when flip.
struct DepthwiseRun {
  cl_int ih, iw, oh, ow, sh, sw, pt, pl, up_h, up_w;
  bool flip;
};

inline DepthwiseRun depthwise_forward_run(const ConvGeom& g) {
  return {g.H, g.W, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, 1, 1, false};
}

// dx is the stride-1 correlation of dy, upsampled by the stride, with the rotated filter.
inline DepthwiseRun depthwise_backward_data_run(const ConvGeom& g) {
  return {g.P, g.Q, g.H, g.W, 1, 1, (g.R - 1) * g.dh - g.pt, (g.S - 1) * g.dw - g.pl, g.sh, g.sw, true};
}

// groups == C == K, and for backward-data every pad at most the dilated filter's reach, so the
// rotated pads are not negative.
inline bool depthwise_shape(ConvPass pass, const ConvGeom& g) {
  if (g.groups != g.C || g.K != g.C) return false;
  return pass != ConvPass::BackwardData ||
         (std::max(g.pt, g.pb) <= (g.R - 1) * g.dh && std::max(g.pl, g.pr) <= (g.S - 1) * g.dw);
}

// Whether an output of `bytes` is stored non-temporally (the families' DW_STREAM, DWN_STREAM): it
// outgrows the device's cache, so it would leave the cache before anything reads it, and each of
// `spans` (what one run of stores covers) is whole cache lines (a partial line stored so costs a
// read anyway).
inline bool streams_past_cache(const DeviceSlot& slot, std::uint64_t bytes,
                               std::initializer_list<std::uint64_t> spans) {
  const std::uint64_t cache = slot.info.global_mem_cache, line = slot.info.global_mem_cacheline;
  if (cache == 0 || line == 0 || bytes <= cache) return false;
  return std::all_of(spans.begin(), spans.end(), [&](std::uint64_t span) { return span % line == 0; });
}

// Channels-last depthwise in every pass with no layout transform (conv2d_depthwise_nhwc.cpp),
// where it fits: the shape, the family built, a CPU-class device (one work-item a run of rows),
// a filter row backward-weights holds in registers.
bool depthwise_nhwc_fits(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g);
// `set` in its NHWC / OHWI roles.
Event depthwise_nhwc(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g, const ConvTensorSet& set, bool relu);

}  // namespace anycl::detail
