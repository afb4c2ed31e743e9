// Channels-last convolution (ConvLayout::Nhwc: x[n][h][w][c], w[k][r][s][c/groups],
// y[n][p][q][k]) against the plain C++ reference (tests/reference/conv_reference.hpp, accumulating
// in double) run in NCHW, its tensors permuted by plain host loops: every pass and every applicable
// algorithm forced one by one, on one device and split over cpu/2 by images and by channels; and
// the errors of a bad layout value.
//
// Tolerance, per element, as tests/test_conv.cpp: |got - ref| <= f * (L + 2) * eps_float * ref_abs
// + 1e-30, ref_abs the reference on |inputs|, L the reduction length, f = 2 (Winograd's:
// anycl_test::winograd_factor).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "plan_support.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::ConvDesc;
using anycl_test::abs_of;
using anycl_test::channels_first;
using anycl_test::channels_last;
using anycl_test::count_bad;
using anycl_test::describe;
using anycl_test::random_values;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// n c h w k r s sh sw pt pl pb pr dh dw g
const std::vector<ConvDesc> kCases = {
    {1, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3x3 pad 1, odd sizes
    {3, 5, 9, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},    // stride 2
    {1, 4, 13, 12, 8, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1, 1},  // asymmetric padding
    {1, 4, 13, 11, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},  // dilation 2
    {3, 6, 9, 8, 4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 2},    // 5x5, groups 2
    {1, 3, 15, 15, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},  // 7x7 stride 2 pad 3
    {3, 12, 7, 7, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // 1x1: the native GEMMs
    {2, 8, 5, 7, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2},    // 1x1 groups 2: column blocks per group
    {1, 8, 9, 9, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 2},    // 1x1 stride 2 (not pointwise)
    {2, 4, 10, 9, 6, 3, 3, 2, 2, 2, 0, 1, 2, 1, 1, 2},   // 3x3 stride 2, groups 2, asymmetric pads
    {2, 5, 8, 7, 3, 1, 1, 3, 2, 0, 0, 0, 0, 1, 1, 1},    // 1x1 stride 3x2
    {3, 8, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},   // depthwise
    {2, 5, 37, 21, 5, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 5},  // depthwise 5x5 stride 2
    // Channels-last depthwise (conv_depthwise_nhwc): a full channel vector and a partial one,
    // full vectors only (the literal-shape paths) with rows long enough for the unchecked
    // interior, odd sizes at stride 2 with asymmetric pads, stride and dilation mixed, 7x7.
    {2, 20, 11, 13, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 20},    // depthwise 3x3, 16 + 4 channels
    {1, 32, 11, 23, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32},    // depthwise 3x3 stride 2, odd sizes
    {1, 16, 14, 19, 16, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 16},    // depthwise 5x5, batch 1
    {3, 17, 13, 15, 17, 5, 5, 2, 2, 2, 1, 1, 2, 1, 1, 17},    // depthwise 5x5 stride 2, asymmetric
    {2, 32, 15, 17, 32, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 32},    // depthwise 5x5 stride 2, full vectors
    {1, 6, 10, 9, 6, 3, 3, 2, 1, 1, 0, 2, 1, 2, 1, 6},        // depthwise stride/dilation mixed
    {1, 4, 12, 13, 4, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 4},       // depthwise 7x7
    {1, 33, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // Winograd under Auto
};

anycl::Conv2d nhwc(const ConvDesc& r, bool relu) {
  anycl::Conv2d d = anycl_test::to_anycl(r, relu);
  d.layout = anycl::ConvLayout::Nhwc;
  return d;
}

std::size_t hw(const ConvDesc& r) { return std::size_t(r.h) * r.w; }
std::size_t pq(const ConvDesc& r) { return std::size_t(r.out_h()) * r.out_w(); }
std::size_t rs(const ConvDesc& r) { return std::size_t(r.r) * r.s; }
std::size_t cg(const ConvDesc& r) { return std::size_t(r.c / r.groups); }

void check_forward(anycl::Runtime& rt, const ConvDesc& r, ConvAlgo algo, unsigned seed) {
  const bool relu = seed % 2 == 0;
  const auto x = random_values(r.x_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto bias = random_values(std::size_t(r.k), seed + 2);
  const auto ref = anycl_test::conv_forward(r, x, w, bias, relu);
  const auto ref_abs = anycl_test::conv_forward(r, abs_of(x), abs_of(w), abs_of(bias), false);
  std::vector<float> y(r.y_size(), std::nanf(""));
  anycl::conv2d_forward(rt, nhwc(r, relu), channels_last(x, r.n, r.c, hw(r)).data(),
                        channels_last(w, r.k, cg(r), rs(r)).data(), bias.data(), y.data(), algo);
  CHECK(count_bad(channels_first(y, r.n, r.k, pq(r)), ref, ref_abs, double(cg(r) * rs(r)),
                  anycl_test::tolerance_factor(rt, nhwc(r, relu), algo, anycl::ConvPass::Forward)) == 0);
}

void check_backward_data(anycl::Runtime& rt, const ConvDesc& r, ConvAlgo algo, unsigned seed) {
  const auto dy = random_values(r.y_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto ref = anycl_test::conv_backward_data(r, dy, w);
  const auto ref_abs = anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w));
  std::vector<float> dx(r.x_size(), std::nanf(""));
  anycl::conv2d_backward_data(rt, nhwc(r, false), channels_last(dy, r.n, r.k, pq(r)).data(),
                              channels_last(w, r.k, cg(r), rs(r)).data(), dx.data(), algo);
  CHECK(count_bad(channels_first(dx, r.n, r.c, hw(r)), ref, ref_abs, double(r.k / r.groups) * rs(r),
                  anycl_test::tolerance_factor(rt, nhwc(r, false), algo, anycl::ConvPass::BackwardData)) == 0);
}

void check_backward_weights(anycl::Runtime& rt, const ConvDesc& r, ConvAlgo algo, unsigned seed) {
  const auto x = random_values(r.x_size(), seed), dy = random_values(r.y_size(), seed + 1);
  std::vector<float> ref_w, ref_b, abs_w, abs_b;
  anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
  anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
  std::vector<float> dw(r.w_size(), std::nanf("")), dbias(std::size_t(r.k), std::nanf(""));
  anycl::conv2d_backward_weights(rt, nhwc(r, false), channels_last(x, r.n, r.c, hw(r)).data(),
                                 channels_last(dy, r.n, r.k, pq(r)).data(), dw.data(), dbias.data(), algo);
  const double reduction = double(r.n) * pq(r);
  CHECK(count_bad(channels_first(dw, r.k, cg(r), rs(r)), ref_w, abs_w, reduction, 2) == 0);
  CHECK(count_bad(dbias, ref_b, abs_b, reduction, 2) == 0);
}

bool applies(ConvAlgo algo, anycl::ConvPass pass, const ConvDesc& r) {
  if (algo != ConvAlgo::Winograd) return true;
  return pass == anycl::ConvPass::Forward || (pass == anycl::ConvPass::BackwardData && r.pad_top <= 2 && r.pad_left <= 2);
}

void check_every_pass(anycl::Runtime& rt, const ConvDesc& r, ConvAlgo algo, unsigned seed) {
  INFO(describe(r) << " algorithm " << anycl::to_string(algo));
  if (applies(algo, anycl::ConvPass::Forward, r)) check_forward(rt, r, algo, seed);
  if (applies(algo, anycl::ConvPass::BackwardData, r)) check_backward_data(rt, r, algo, seed + 10);
  if (applies(algo, anycl::ConvPass::BackwardWeights, r)) check_backward_weights(rt, r, algo, seed + 20);
}

}  // namespace

TEST_CASE("NHWC conv2d matches the reference in every pass and algorithm", "[conv][nhwc]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : anycl_test::algorithms_for(nhwc(kCases[i], false)))
      check_every_pass(runtime(), kCases[i], algo, unsigned(300 + 31 * i));
}

// Winograd forward and backward-data read NHWC x (dy) and OHWI filters and write NHWC y (dx) in
// their own kernels, no transpose launched: output edges that cut tiles, channel counts that are
// no multiple of the packed panels (and fewer input channels than work-items of a group, or more
// than one pass through local memory holds), asymmetric pads up to 2, bias and ReLU (even seeds).
TEST_CASE("NHWC Winograd forward and backward-data run natively and match the reference", "[conv][nhwc][winograd]") {
  const std::vector<ConvDesc> cases = {
      {2, 19, 11, 13, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // odd sizes, partial panels
      {3, 9, 10, 7, 10, 3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1},    // asymmetric pads
      {1, 6, 9, 14, 40, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1, 1},    // asymmetric pads, few input channels
      {2, 3, 5, 6, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // 3 input channels, many output
      {2, 150, 6, 5, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // more channels than one local-memory pass
      {8, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // several tile panels per image row
  };
  // Both forms of the filter transform: inside the tile kernel (FC 5: steps of 5 channels) and apart.
  anycl_test::TempDir dir;
  for (bool fused : {true, false}) {
    INFO((fused ? "fused" : "apart"));
    const auto rt = anycl_test::runtime_with_params(
        dir, std::string(R"({"conv_winograd": {"FC": 5, "WINOGRAD_FUSE_PANELS": )") + (fused ? "4096" : "1") + "}}");
    anycl::set_kernel_profiling(*rt, true);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO(describe(cases[i]));
      anycl::clear_kernel_profile(*rt);
      check_forward(*rt, cases[i], ConvAlgo::Winograd, unsigned(800 + 2 * i));
      check_forward(*rt, cases[i], ConvAlgo::Winograd, unsigned(801 + 2 * i));
      check_backward_data(*rt, cases[i], ConvAlgo::Winograd, unsigned(850 + i));
      const std::vector<anycl::KernelTime> profile = anycl::kernel_profile(*rt);
      const auto ran = [&](const std::string& kernel) {
        return std::any_of(profile.begin(), profile.end(), [&](const anycl::KernelTime& k) { return k.kernel == kernel; });
      };
      CHECK(ran(fused ? "winograd_tiles_fused" : "winograd_tiles"));
      CHECK(ran("winograd_filter_transform") == !fused);
      CHECK_FALSE(ran("transpose_batched"));
    }
  }
}

// Channels-last depthwise outputs larger than the device's cache, each pixel's channel blocks
// whole cache lines, are stored non-temporally (DWN_STREAM): forward, and backward-data at
// stride 2 (the upsampled rows), 64 channels over enough pixels to outgrow the cache.
TEST_CASE("NHWC depthwise outputs above the device's cache are stored non-temporally and match the reference",
          "[conv][nhwc]") {
  anycl_test::TempDir dir;
  const auto rt =
      anycl_test::runtime_with_params(dir, R"({"conv_depthwise_nhwc": {"DWN_STREAM": 1, "DWN_VW": 16}})");
  REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_depthwise_nhwc") + " ", "-DDWN_STREAM=1 "));
  const anycl::DeviceInfo& dev = rt->device(0);
  INFO(dev.name << ": cache " << dev.global_mem_cache << " bytes, lines of " << dev.global_mem_cacheline);
  REQUIRE(dev.global_mem_cache > 0);
  REQUIRE(dev.global_mem_cacheline > 0);
  REQUIRE(16 * sizeof(float) % dev.global_mem_cacheline == 0);
  const int c = 64;
  const int side = 8 + 8 * int(std::sqrt(double(dev.global_mem_cache) / (2.0 * c * sizeof(float))) / 8);
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc forward{2, c, side, side, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c};
  const ConvDesc strided{2, c, side, side, c, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, c};
  REQUIRE(forward.y_size() * sizeof(float) > dev.global_mem_cache);
  REQUIRE(strided.x_size() * sizeof(float) > dev.global_mem_cache);
  check_forward(*rt, forward, ConvAlgo::Direct, 1001);
  check_backward_data(*rt, strided, ConvAlgo::Direct, 1002);
}

// ImplicitGemm's forward reads NHWC x and OHWI filters and writes NHWC y itself (no transpose
// launched); its backward-weights runs between transposes (backward-data is not its): the stem's
// shape, batch 1 and several, stride 1 and 2, asymmetric pads, groups, dilation, channel counts
// that fill whole register tiles and rows that end inside a vector, bias and ReLU (even seeds).
TEST_CASE("NHWC conv2d ImplicitGemm forward and backward-weights match the reference", "[conv][nhwc][implicit]") {
  const std::vector<ConvDesc> stems = {
      {1, 3, 15, 15, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},    // 7x7 stride 2 pad 3, batch 1
      {3, 3, 17, 14, 10, 7, 7, 2, 2, 3, 2, 1, 3, 1, 1, 1},   // several images, asymmetric pads
      {2, 1, 12, 11, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},    // 1 channel, 5x5 stride 1
      {2, 4, 13, 15, 6, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 2},    // groups 2
      {2, 3, 40, 37, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // whole channel blocks, 19 columns
      {1, 2, 17, 16, 9, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1},    // dilation 2
  };
  anycl::Runtime rt("");
  anycl::set_kernel_profiling(rt, true);
  for (std::size_t i = 0; i < stems.size(); ++i) {
    INFO(describe(stems[i]));
    anycl::clear_kernel_profile(rt);
    check_forward(rt, stems[i], ConvAlgo::ImplicitGemm, unsigned(600 + 7 * i));
    const std::vector<anycl::KernelTime> profile = anycl::kernel_profile(rt);
    const auto ran = [&](const std::string& kernel) {
      return std::any_of(profile.begin(), profile.end(), [&](const anycl::KernelTime& k) { return k.kernel == kernel; });
    };
    CHECK(ran("conv_ig_fwd"));
    CHECK_FALSE(ran("transpose_batched"));
    check_forward(rt, stems[i], ConvAlgo::Auto, unsigned(601 + 7 * i));
    check_backward_weights(rt, stems[i], ConvAlgo::ImplicitGemm, unsigned(650 + 7 * i));
    check_backward_weights(rt, stems[i], ConvAlgo::Auto, unsigned(680 + 7 * i));
  }
}

TEST_CASE("NHWC pointwise layers run the native GEMMs under Auto", "[conv][nhwc]") {
  const anycl::Conv2d d = nhwc(kCases[6], false);
  CHECK(anycl::conv2d_select(runtime(), d) == ConvAlgo::Gemm1x1);
  for (anycl::ConvPass pass : {anycl::ConvPass::BackwardData, anycl::ConvPass::BackwardWeights})
    CHECK(anycl::conv2d_find(runtime(), d, pass).times.size() >= 2);
}

// Images (data), output channels (model: strided blocks of y's pixels) or both, on two
// sub-devices with equal weights.
TEST_CASE("NHWC conv2d split over cpu/2 matches the reference", "[conv][nhwc][multi]") {
  anycl::Runtime rt("cpu/2");
  anycl::set_device_weights(rt, std::vector<double>(rt.device_count(), 1.0));
  const ConvDesc cases[] = {
      {4, 6, 9, 8, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3x3
      {4, 16, 6, 6, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},   // 1x1
      {4, 33, 10, 10, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}  // Winograd under Auto
  };
  for (anycl::Parallel mode : {anycl::Parallel::Data, anycl::Parallel::Model, anycl::Parallel::Hybrid}) {
    anycl::set_parallel(rt, mode);
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      INFO("parallel mode " << int(mode) << " " << describe(cases[i]));
      const anycl::detail::Plan plan = anycl_test::conv_plan(rt, anycl::ConvPass::Forward, nhwc(cases[i], false));
      REQUIRE(anycl_test::pieces_of(plan).size() == 2);  // a forced mode: pieces, never the shared pass
      check_every_pass(rt, cases[i], ConvAlgo::Auto, unsigned(700 + 31 * i));
    }
  }
}

// Under Auto the sub-devices share one Winograd pass stage by stage (claiming tile panels, or split
// by weight), reading and writing the channels-last tensors in place.
TEST_CASE("NHWC Winograd shared by cpu/2 under Auto matches the reference", "[conv][nhwc][multi]") {
  anycl::Runtime rt("cpu/2");
  anycl::set_parallel(rt, anycl::Parallel::Auto);
  const ConvDesc cases[] = {
      {4, 32, 8, 8, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {3, 33, 9, 7, 44, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1, 1},  // odd sizes, asymmetric padding
  };
  for (const auto& weights : {std::vector<double>{1, 1}, std::vector<double>{3, 1}})
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      INFO(describe(cases[i]) << " weights " << weights[0] << ":" << weights[1]);
      anycl::set_device_weights(rt, weights);
      for (anycl::ConvPass pass : {anycl::ConvPass::Forward, anycl::ConvPass::BackwardData})
        REQUIRE(anycl_test::shared_of(anycl_test::conv_plan(rt, pass, nhwc(cases[i], false))).size() == 2);
      check_forward(rt, cases[i], ConvAlgo::Auto, unsigned(900 + 2 * i));      // bias + ReLU
      check_forward(rt, cases[i], ConvAlgo::Auto, unsigned(901 + 2 * i));      // bias
      check_backward_data(rt, cases[i], ConvAlgo::Auto, unsigned(950 + i));
    }
}

TEST_CASE("NHWC conv2d on device buffers split over cpu/2 matches host pointers", "[conv][nhwc][multi]") {
  anycl::Runtime rt("cpu/2");
  anycl::set_device_weights(rt, std::vector<double>(rt.device_count(), 1.0));
  const ConvDesc r{8, 16, 12, 12, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const anycl::Conv2d d = nhwc(r, true);
  const auto x = random_values(r.x_size(), 41), w = random_values(r.w_size(), 42), b = random_values(r.k, 43);
  std::vector<float> expect(r.y_size()), got(r.y_size(), std::nanf(""));
  anycl::Runtime one("");
  anycl::conv2d_forward(one, d, x.data(), w.data(), b.data(), expect.data());
  REQUIRE(anycl_test::pieces_of(anycl_test::conv_plan(rt, anycl::ConvPass::Forward, d, 0)).size() == 2);
  const std::size_t f = sizeof(float);
  const anycl::Buffer xb = rt.alloc(x.size() * f), wb = rt.alloc(w.size() * f), bb = rt.alloc(b.size() * f),
                      yb = rt.alloc(got.size() * f);
  rt.write(xb, x.data(), x.size() * f), rt.write(wb, w.data(), w.size() * f), rt.write(bb, b.data(), b.size() * f);
  anycl::conv2d_forward(rt, d, xb, wb, &bb, yb).wait();
  rt.read(yb, got.data(), got.size() * f);
  // The same algorithm on the same data: equal up to the summation order of each device's GEMM.
  const auto ref_abs = anycl_test::conv_forward(r, abs_of(channels_first(x, r.n, r.c, hw(r))),
                                                abs_of(channels_first(w, r.k, cg(r), rs(r))), abs_of(b), false);
  CHECK(count_bad(channels_first(got, r.n, r.k, pq(r)), channels_first(expect, r.n, r.k, pq(r)), ref_abs,
                  double(cg(r) * rs(r)), 16) == 0);
}

TEST_CASE("A bad conv layout is an invalid-argument error naming the layout", "[conv][nhwc]") {
  anycl::Conv2d d = nhwc(kCases[0], false);
  d.layout = static_cast<anycl::ConvLayout>(7);
  std::vector<float> x(d.x_size()), w(d.w_size()), y(kCases[0].y_size(), -1.f);
  try {
    anycl::conv2d_forward(runtime(), d, x.data(), w.data(), nullptr, y.data());
    FAIL("no error for layout 7");
  } catch (const anycl::Error& e) {
    CHECK(e.status() == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK_THAT(e.what(), Catch::Contains("layout = 7"));
  }
  CHECK(y[0] == -1.f);  // nothing written

  anycl_runtime* crt = nullptr;
  REQUIRE(anycl_runtime_create("", &crt) == ANYCL_SUCCESS);
  anycl_conv2d_desc c{};
  c.n = c.c = c.h = c.w = c.k = c.r = c.s = 1;
  c.stride_h = c.stride_w = c.dilation_h = c.dilation_w = c.groups = 1;
  c.layout = static_cast<anycl_conv_layout>(2);
  float one = 1, out = -1;
  CHECK(anycl_conv2d_forward(crt, &c, &one, &one, nullptr, &out) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(anycl_last_error(), Catch::Contains("layout = 2"));
  CHECK(out == -1.f);
  c.layout = ANYCL_CONV_NHWC;  // 1x1x1: the same numbers in both layouts
  CHECK(anycl_conv2d_forward(crt, &c, &one, &one, nullptr, &out) == ANYCL_SUCCESS);
  CHECK(out == 1.f);
  anycl_runtime_destroy(crt);
}
