// Helpers shared by the convolution tests: random tensors, descriptor conversion, and the
// elementwise tolerance check against the double-accumulating reference.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "reference/conv_reference.hpp"
#include "support.hpp"

namespace anycl_test {

inline std::vector<float> abs_of(std::vector<float> v) {
  for (auto& x : v) x = std::fabs(x);
  return v;
}

inline anycl::Conv2d to_anycl(const ConvDesc& r, bool relu) {
  anycl::Conv2d d;
  d.n = r.n, d.c = r.c, d.h = r.h, d.w = r.w, d.k = r.k, d.r = r.r, d.s = r.s;
  d.stride_h = r.stride_h, d.stride_w = r.stride_w;
  d.pad_top = r.pad_top, d.pad_left = r.pad_left, d.pad_bottom = r.pad_bottom, d.pad_right = r.pad_right;
  d.dilation_h = r.dil_h, d.dilation_w = r.dil_w, d.groups = r.groups, d.relu = relu;
  return d;
}

// The largest |got - ref| / ((reduction + 2) eps_float ref_abs) count_bad saw on this thread since
// it was last set to 0: how much of its factor the error used.
inline double& worst_error_ratio() {
  thread_local double worst = 0;
  return worst;
}

// Elements outside factor * (reduction + 2) * eps_float * ref_abs of the reference, where
// ref_abs is the reference pass run on |inputs| (the sum of |terms|).
inline std::size_t count_bad(const std::vector<float>& got, const std::vector<float>& ref,
                             const std::vector<float>& ref_abs, double reduction, double factor) {
  std::size_t bad = 0;
  const double eps = std::numeric_limits<float>::epsilon();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double unit = (reduction + 2) * eps * ref_abs[i] + 1e-30;
    if (unit > 1e-29) worst_error_ratio() = std::max(worst_error_ratio(), std::fabs(double(got[i]) - ref[i]) / unit);
    const double bound = factor * (reduction + 2) * eps * ref_abs[i] + 1e-30;
    if (!(std::fabs(double(got[i]) - ref[i]) <= bound) && bad++ < 3)
      UNSCOPED_INFO("element " << i << ": " << got[i] << " vs " << ref[i] << " +- " << bound);
  }
  return bad;
}

// The factor f of count_bad for Winograd F(m x m, 3x3): 16 for m = 2, 128 for m = 4. Where they
// come from: docs/reliability.md, "Winograd accuracy".
inline double winograd_tile_factor(int m) { return m == 4 ? 128 : 16; }

// Winograd's f for `pass` on device 0 of `rt`: forward and backward-data run the output tile
// conv_winograd was built with (WINO_M), F(2x2) on the GPU-class path; backward-weights is F(2x2)
// in every build.
inline double winograd_factor(const anycl::Runtime& rt, anycl::ConvPass pass = anycl::ConvPass::Forward) {
  const bool f4 = build_options(rt, "conv_winograd_tiled").empty() &&
                  contains(build_options(rt, "conv_winograd") + " ", "-DWINO_M=4 ");
  return winograd_tile_factor(f4 && pass != anycl::ConvPass::BackwardWeights ? 4 : 2);
}

// f for `algo` in `pass` on `rt`: 2 for a direct sum, Winograd's above (Auto: what the selector
// picks, which for backward-data is the forward pick where Winograd applies).
inline double tolerance_factor(const anycl::Runtime& rt, const anycl::Conv2d& d, anycl::ConvAlgo algo,
                               anycl::ConvPass pass) {
  if (algo == anycl::ConvAlgo::Auto) algo = anycl::conv2d_select(rt, d);
  return algo == anycl::ConvAlgo::Winograd ? winograd_factor(rt, pass) : 2;
}

// Every algorithm to force on `d`: Auto, those that apply to any problem, Gemm1x1 on pointwise
// layers and Winograd on 3x3 stride-1 ungrouped ones.
inline std::vector<anycl::ConvAlgo> algorithms_for(const anycl::Conv2d& d) {
  using anycl::ConvAlgo;
  std::vector<ConvAlgo> out = {ConvAlgo::Auto, ConvAlgo::Im2col, ConvAlgo::Direct};
  if (d.r == 1 && d.s == 1 && d.stride_h == 1 && d.stride_w == 1 && !d.pad_top && !d.pad_left && !d.pad_bottom &&
      !d.pad_right)
    out.push_back(ConvAlgo::Gemm1x1);
  if (d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 && d.dilation_w == 1 &&
      d.groups == 1)
    out.push_back(ConvAlgo::Winograd);
  return out;
}

// v[b][c][hw] as out[b][hw][c] (to_last): NCHW to NHWC (b images, c channels, hw pixels), or
// KCRS filters to KRSC (b = k, c = c/groups, hw = r*s); else the inverse.
inline std::vector<float> permute_channels(const std::vector<float>& v, std::size_t b, std::size_t c, std::size_t hw,
                                           bool to_last) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < b; ++i)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t p = 0; p < hw; ++p) {
        const std::size_t first = (i * c + ch) * hw + p, last = (i * hw + p) * c + ch;
        if (to_last) out[last] = v[first];
        else out[first] = v[last];
      }
  return out;
}
inline std::vector<float> channels_last(const std::vector<float>& v, std::size_t b, std::size_t c, std::size_t hw) {
  return permute_channels(v, b, c, hw, true);
}
inline std::vector<float> channels_first(const std::vector<float>& v, std::size_t b, std::size_t c, std::size_t hw) {
  return permute_channels(v, b, c, hw, false);
}

inline std::string describe(const ConvDesc& r) {
  return "n" + std::to_string(r.n) + " c" + std::to_string(r.c) + " " + std::to_string(r.h) + "x" + std::to_string(r.w) +
         " k" + std::to_string(r.k) + " " + std::to_string(r.r) + "x" + std::to_string(r.s) + " stride " +
         std::to_string(r.stride_h) + "/" + std::to_string(r.stride_w) + " pad " + std::to_string(r.pad_top) + "," +
         std::to_string(r.pad_left) + "," + std::to_string(r.pad_bottom) + "," + std::to_string(r.pad_right) +
         " dil " + std::to_string(r.dil_h) + "/" + std::to_string(r.dil_w) + " groups " + std::to_string(r.groups);
}

}  // namespace anycl_test
