// The convolution sweep every algorithm is checked on (tests/test_conv.cpp on the CPU path,
// tests/test_conv_tiled.cpp on the GPU-class path) and the per-pass checks against the plain
// reference (tests/reference/conv_reference.hpp, accumulating in double).
//
// Tolerance, per element: |got - ref| <= f * (L + 2) * eps_float * ref_abs + 1e-30, where ref_abs
// is the same reference pass run on |inputs| (the sum of |terms|), L the reduction length, and
// f = 2 (for Winograd, whose transforms add rounding of their own, 16 with 2x2 output tiles and 128
// with 4x4: winograd_factor in conv_check.hpp).
#pragma once

#include <cmath>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"

namespace anycl_test {

using anycl::ConvAlgo;

// n c h w k r s sh sw pt pl pb pr dh dw g
inline const std::vector<ConvDesc> kCases = {
    {1, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // 3x3 pad 1, odd sizes
    {3, 8, 11, 10, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // no padding, batch 3
    {3, 5, 9, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},       // stride 2
    {1, 4, 13, 12, 8, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1, 1},     // asymmetric padding
    {1, 4, 13, 11, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},     // dilation 2, pad 2
    {3, 6, 9, 8, 4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 2},       // 5x5, groups 2
    {1, 3, 15, 15, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},     // 7x7 stride 2 pad 3
    {3, 12, 7, 7, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // 1x1
    {1, 8, 9, 9, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 2},       // 1x1 stride 2, groups 2
    {3, 8, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},      // depthwise
    {1, 6, 10, 9, 6, 3, 3, 2, 1, 1, 0, 2, 1, 2, 1, 6},      // depthwise, stride/dilation/asym pad mixed
    // Depthwise as conv_depthwise runs it: rows past one vector and not a multiple of the rows
    // computed at once, 5x5, stride 2 in both or only along the width, dilation along the width
    // with asymmetric pads (backward-data's rotated pads), stride 3 (the generic direct kernel), and
    // rows of 3 outputs (a vector store spans several rows).
    {2, 3, 23, 35, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3},     // depthwise 5x5
    {2, 5, 37, 21, 5, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 5},     // depthwise 5x5 stride 2
    {1, 4, 9, 19, 4, 3, 3, 1, 2, 0, 1, 2, 0, 1, 1, 4},      // depthwise stride 1x2, asymmetric pads
    {2, 3, 12, 17, 3, 3, 3, 1, 1, 2, 0, 0, 2, 1, 2, 3},     // depthwise dilation 1x2, asymmetric pads
    {1, 2, 10, 10, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2},     // depthwise stride 3
    {3, 4, 7, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},       // depthwise, rows far narrower than a vector
    // Stride 2 rows staged as even and odd columns over several copies, odd and even left pads,
    // right pads the last outputs read; stride-1 planes read in place (all but the buffer's first
    // and last), rows past two vectors.
    {2, 3, 9, 74, 3, 3, 3, 2, 2, 1, 1, 1, 2, 1, 1, 3},      // depthwise stride 2, odd left pad
    {1, 3, 11, 70, 3, 5, 5, 2, 2, 2, 4, 1, 0, 1, 2, 3},     // depthwise 5x5 stride 2, dilation 1x2, pad 4
    {2, 4, 8, 41, 4, 5, 5, 1, 1, 2, 3, 1, 1, 1, 1, 4},      // depthwise 5x5, in place, asymmetric pads
    {1, 33, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // channels past the GEMM tiles (Winograd in Auto)
    {3, 4, 6, 5, 36, 3, 3, 1, 1, 3, 0, 1, 3, 1, 1, 1},      // pad > 2 (Winograd backward-data must decline)
    {1, 8, 6, 6, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // many outputs: Winograd backward-weights splits them
    // Strided layers as Im2col runs them: backward-data by output phase where every phase is one
    // tap or the plane has 1024 pixels or more (phases of 1 to 3x3 taps, phases no tap reaches),
    // else col2im (pads beyond the filter reach).
    {1, 4, 32, 33, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // 3x3 stride 2 on a 32x33 plane: by phase
    {2, 6, 11, 13, 5, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // 3x3 stride 3, odd sizes
    {2, 4, 10, 9, 6, 3, 3, 2, 2, 2, 0, 1, 2, 1, 1, 2},      // 3x3 stride 2, groups 2, asymmetric pads
    {1, 3, 7, 8, 4, 5, 5, 2, 2, 4, 3, 4, 1, 1, 1, 1},       // 5x5 stride 2, pads 4 and 3
    {1, 3, 9, 10, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1},      // 2x2 stride 2
    {2, 5, 8, 7, 3, 1, 1, 3, 2, 0, 0, 0, 0, 1, 1, 1},       // 1x1 stride 3x2
    {3, 5, 9, 23, 6, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1},      // 1x1 stride 2, rows of 12: pads no sample reaches
    {2, 3, 8, 9, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1},       // 1x1 stride 2 whose last row and column are padding
    {2, 6, 10, 10, 4, 1, 3, 2, 3, 0, 1, 0, 1, 1, 1, 2},     // 1x3 stride 2x3, groups 2
    {2, 5, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // 8x8 output: im2col's GEMM per image, not folded
    // Depthwise with several planes a conv_depthwise work-item (a vector store crosses into the
    // next plane of its run, not past the run): stride-1 planes read in place with interior row
    // blocks, rows of 5 vectors with dilation 2, and rows past DW_DIRECT vectors (staged).
    {1, 40, 11, 13, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40},  // depthwise batch 1, 40 planes, odd sizes
    {2, 20, 12, 70, 20, 3, 3, 1, 1, 2, 1, 1, 2, 2, 2, 20},  // depthwise dilation 2, rows of 70
    {2, 9, 10, 150, 9, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 9},    // depthwise 5x5, rows of 150 (staged)
    // Filters past the 5x5 a plane read in place keeps in registers (staged), and a 1x5 in place.
    {2, 6, 13, 21, 6, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 6},     // depthwise 7x7 (staged)
    {1, 5, 9, 30, 5, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1, 5},      // depthwise 1x5, in place
    // Backward-data at stride 2 by output parity: each parity of the rotated pads, a 4x4 filter.
    {2, 4, 11, 40, 4, 3, 3, 2, 2, 0, 2, 1, 0, 1, 1, 4},     // depthwise stride 2, rotated pads even
    {1, 3, 13, 50, 3, 5, 5, 2, 2, 1, 3, 2, 1, 1, 1, 3},     // depthwise 5x5 stride 2, rotated pads odd
    {2, 3, 10, 37, 3, 4, 4, 2, 2, 1, 2, 2, 1, 1, 1, 3},     // depthwise 4x4 stride 2
};

// Few input channels under large or strided filters, where Auto runs ImplicitGemm: 1 to 4
// channels, 5x5 to 11x11, strides 1 to 4 (different per axis), asymmetric pads, dilation, groups,
// output channels that are no multiple of a channel block, rows narrower and wider than a tile.
inline const std::vector<ConvDesc> kStemCases = {
    {2, 3, 31, 29, 10, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},    // the stem's shape, odd sizes
    {1, 1, 17, 23, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},     // 1 channel, 5x5 stride 1
    {1, 2, 40, 37, 9, 11, 11, 4, 4, 2, 2, 1, 3, 1, 1, 1},   // 11x11 stride 4, asymmetric pads
    {2, 4, 19, 21, 16, 5, 5, 3, 2, 1, 2, 0, 1, 1, 1, 1},    // stride 3x2
    {1, 3, 20, 18, 7, 3, 5, 2, 1, 1, 2, 1, 2, 2, 3, 1},     // 3x5, dilation 2x3, stride 2x1
    {2, 4, 13, 15, 6, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 2},     // groups 2 (2 channels each)
    {3, 3, 9, 40, 33, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},     // rows wider than a tile, 33 outputs
    {1, 3, 5, 4, 3, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 1},       // image smaller than the filter
    {1, 3, 48, 48, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},    // 64 outputs, as the stem
};

inline void check_forward(const ConvDesc& r, ConvAlgo algo, unsigned seed, anycl::Runtime& rt) {
  const bool relu = seed % 2 == 0;
  const anycl::Conv2d d = to_anycl(r, relu);
  const auto x = random_values(r.x_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto bias = random_values(std::size_t(r.k), seed + 2);
  const auto ref = anycl_test::conv_forward(r, x, w, bias, relu);
  const auto ref_abs = anycl_test::conv_forward(r, abs_of(x), abs_of(w), abs_of(bias), false);
  std::vector<float> y(r.y_size(), std::nanf(""));
  anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), y.data(), algo);
  CHECK(count_bad(y, ref, ref_abs, double(r.c / r.groups) * r.r * r.s,
                  tolerance_factor(rt, d, algo, anycl::ConvPass::Forward)) == 0);
}

inline void check_backward_data(const ConvDesc& r, ConvAlgo algo, unsigned seed, anycl::Runtime& rt) {
  const anycl::Conv2d d = to_anycl(r, false);
  const auto dy = random_values(r.y_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto ref = anycl_test::conv_backward_data(r, dy, w);
  const auto ref_abs = anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w));
  std::vector<float> dx(r.x_size(), std::nanf(""));
  anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx.data(), algo);
  CHECK(count_bad(dx, ref, ref_abs, double(r.k / r.groups) * r.r * r.s,
                  tolerance_factor(rt, d, algo, anycl::ConvPass::BackwardData)) == 0);
}

inline void check_backward_weights(const ConvDesc& r, ConvAlgo algo, unsigned seed, anycl::Runtime& rt) {
  const anycl::Conv2d d = to_anycl(r, false);
  const auto x = random_values(r.x_size(), seed), dy = random_values(r.y_size(), seed + 1);
  std::vector<float> ref_w, ref_b, abs_w, abs_b;
  anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
  anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
  std::vector<float> dw(r.w_size(), std::nanf("")), dbias(std::size_t(r.k), std::nanf(""));
  anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), dbias.data(), algo);
  const double reduction = double(r.n) * r.out_h() * r.out_w();
  CHECK(count_bad(dw, ref_w, abs_w, reduction, tolerance_factor(rt, d, algo, anycl::ConvPass::BackwardWeights)) == 0);
  CHECK(count_bad(dbias, ref_b, abs_b, reduction, 2) == 0);
}

inline bool winograd_declines_backward_data(const ConvDesc& r) { return r.pad_top > 2 || r.pad_left > 2; }

}  // namespace anycl_test
