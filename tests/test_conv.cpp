// Convolution against the plain C++ reference (tests/reference/conv_reference.hpp, accumulating
// in double): every pass and every applicable algorithm, forced one by one, over a sweep of
// stride, padding (including asymmetric), dilation, groups, filter sizes, odd spatial sizes and
// batch 1 and 3.
//
// Tolerance, per element: |got - ref| <= f * (L + 2) * eps_float * ref_abs + 1e-30, where ref_abs
// is the same reference pass run on |inputs| (the sum of |terms|), L the reduction length, and
// f = 2 (f = 16 for Winograd, whose transforms add rounding of their own).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::ConvDesc;
using anycl_test::abs_of;
using anycl_test::algorithms_for;
using anycl_test::count_bad;
using anycl_test::describe;
using anycl_test::random_values;
using anycl_test::to_anycl;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// n c h w k r s sh sw pt pl pb pr dh dw g
const std::vector<ConvDesc> kCases = {
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
    {1, 33, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // channels past the GEMM tiles (Winograd in Auto)
    {3, 4, 6, 5, 36, 3, 3, 1, 1, 3, 0, 1, 3, 1, 1, 1},      // pad > 2 (Winograd backward-data must decline)
};

void check_forward(const ConvDesc& r, ConvAlgo algo, unsigned seed, anycl::Runtime& rt = runtime()) {
  const bool relu = seed % 2 == 0;
  const anycl::Conv2d d = to_anycl(r, relu);
  const auto x = random_values(r.x_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto bias = random_values(std::size_t(r.k), seed + 2);
  const auto ref = anycl_test::conv_forward(r, x, w, bias, relu);
  const auto ref_abs = anycl_test::conv_forward(r, abs_of(x), abs_of(w), abs_of(bias), false);
  std::vector<float> y(r.y_size(), std::nanf(""));
  anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), y.data(), algo);
  CHECK(count_bad(y, ref, ref_abs, double(r.c / r.groups) * r.r * r.s, algo == ConvAlgo::Winograd ? 16 : 2) == 0);
}

void check_backward_data(const ConvDesc& r, ConvAlgo algo, unsigned seed, anycl::Runtime& rt = runtime()) {
  const anycl::Conv2d d = to_anycl(r, false);
  const auto dy = random_values(r.y_size(), seed), w = random_values(r.w_size(), seed + 1);
  const auto ref = anycl_test::conv_backward_data(r, dy, w);
  const auto ref_abs = anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w));
  std::vector<float> dx(r.x_size(), std::nanf(""));
  anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx.data(), algo);
  CHECK(count_bad(dx, ref, ref_abs, double(r.k / r.groups) * r.r * r.s, algo == ConvAlgo::Winograd ? 16 : 2) == 0);
}

void check_backward_weights(const ConvDesc& r, ConvAlgo algo, unsigned seed) {
  const anycl::Conv2d d = to_anycl(r, false);
  const auto x = random_values(r.x_size(), seed), dy = random_values(r.y_size(), seed + 1);
  std::vector<float> ref_w, ref_b, abs_w, abs_b;
  anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
  anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
  std::vector<float> dw(r.w_size(), std::nanf("")), dbias(std::size_t(r.k), std::nanf(""));
  anycl::conv2d_backward_weights(runtime(), d, x.data(), dy.data(), dw.data(), dbias.data(), algo);
  const double reduction = double(r.n) * r.out_h() * r.out_w();
  CHECK(count_bad(dw, ref_w, abs_w, reduction, 2) == 0);
  CHECK(count_bad(dbias, ref_b, abs_b, reduction, 2) == 0);
}

bool winograd_declines_backward_data(const ConvDesc& r) { return r.pad_top > 2 || r.pad_left > 2; }

}  // namespace

TEST_CASE("conv2d forward matches the reference for every algorithm", "[conv]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : algorithms_for(to_anycl(kCases[i], false))) {
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      check_forward(kCases[i], algo, unsigned(100 + i));
    }
}

TEST_CASE("conv2d backward-data matches the reference for every algorithm", "[conv]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : algorithms_for(to_anycl(kCases[i], false))) {
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      if (algo == ConvAlgo::Winograd && winograd_declines_backward_data(kCases[i])) {
        std::vector<float> dy(kCases[i].y_size(), 1), w(kCases[i].w_size(), 1), dx(kCases[i].x_size(), 5);
        CHECK_THROWS_AS(anycl::conv2d_backward_data(runtime(), to_anycl(kCases[i], false), dy.data(), w.data(),
                                                    dx.data(), algo),
                        anycl::Error);
        CHECK(dx[0] == 5);
        continue;
      }
      check_backward_data(kCases[i], algo, unsigned(200 + i));
    }
}

TEST_CASE("conv2d backward-weights matches the reference for every algorithm", "[conv]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : algorithms_for(to_anycl(kCases[i], false))) {
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      if (algo == ConvAlgo::Winograd) {  // not offered for this pass: a clear error, not a guess
        // Real tensors, so the refusal comes from the algorithm check, not the null checks.
        const ConvDesc& r = kCases[i];
        std::vector<float> x(r.x_size(), 1), dy(r.y_size(), 1), dw(r.w_size(), 5), db(std::size_t(r.k), 5);
        std::string message;
        CHECK(anycl_test::status_of(
                  [&] {
                    anycl::conv2d_backward_weights(runtime(), to_anycl(r, false), x.data(), dy.data(), dw.data(),
                                                   db.data(), algo);
                  },
                  &message) == ANYCL_ERROR_UNSUPPORTED);
        CHECK(anycl_test::contains(message, "algorithm winograd"));
        CHECK(dw[0] == 5);
        continue;
      }
      check_backward_weights(kCases[i], algo, unsigned(300 + i));
    }
}

// The Winograd filter transform takes a vector path when the GEMM's panel height MR is an
// OpenCL vector width; MR = 3 has none and takes the scalar one. The products share the GEMM's
// register tile: KU = 3 leaves a k-loop tail for most channel counts.
TEST_CASE("conv2d Winograd with MR = 3 and KU = 3 matches the reference", "[conv]") {
  anycl_test::TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  anycl_test::spit(dir.path() + "/params/zz-test.json",
                   // Every key matches any device: more keys than any shipped entry, so this one wins.
                   R"({"entries": [{"name": "odd panels", "match": {"device_name_prefix": "",
                       "driver_version_prefix": "", "min_vector_width_float": 0, "min_local_mem_kb": 0},
                       "params": {"gemm_packed_f32": {"MR": 3, "NR": 8, "VW": 4, "KU": 3}}}]})");
  anycl::RuntimeOptions opt = anycl::RuntimeOptions::from_env();
  opt.kernel_path = dir.path();
  opt.cache = false;
  anycl::Runtime rt(opt);
  bool built = false;  // the parameters really reached the Winograd build
  for (const anycl::BuildReport& b : rt.build_reports())
    if (b.family == "conv_winograd")
      built = b.ok && b.options.find("-DMR=3 ") != std::string::npos && b.options.find("-DKU=3 ") != std::string::npos;
  REQUIRE(built);
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    const anycl::Conv2d d = to_anycl(kCases[i], false);
    const auto algos = algorithms_for(d);
    if (std::find(algos.begin(), algos.end(), ConvAlgo::Winograd) == algos.end()) continue;
    INFO(describe(kCases[i]));
    check_forward(kCases[i], ConvAlgo::Winograd, unsigned(400 + i), rt);
    if (!winograd_declines_backward_data(kCases[i]))
      check_backward_data(kCases[i], ConvAlgo::Winograd, unsigned(500 + i), rt);
  }
}

// ANYCL_CONV_WORKSPACE_MB takes a whole number of MiB; anything else is reported and the default
// (256 MiB) stays, rather than a prefix or a wrapped value becoming the cap.
TEST_CASE("ANYCL_CONV_WORKSPACE_MB: garbage and out-of-range values are ignored, a number is MiB", "[conv][env]") {
  const std::size_t default_limit = std::size_t(256) << 20;  // README, ANYCL_CONV_WORKSPACE_MB
  anycl_test::ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
  for (const char* bad : {"12abc", "-5", "99999999999999999999", "0", "1048577"}) {
    INFO("ANYCL_CONV_WORKSPACE_MB=" << bad);
    anycl_test::ScopedEnv env("ANYCL_CONV_WORKSPACE_MB", std::string(bad));
    anycl_test::StderrCapture capture;
    anycl::Runtime rt("");
    const std::string log = capture.text();
    CHECK(anycl::detail::engine(rt).ops.conv_workspace_limit == default_limit);
    CHECK(anycl_test::contains(log, "ANYCL_CONV_WORKSPACE_MB='" + std::string(bad) + "'"));
  }
  anycl_test::ScopedEnv env("ANYCL_CONV_WORKSPACE_MB", std::string("64"));
  anycl::Runtime rt("");
  CHECK(anycl::detail::engine(rt).ops.conv_workspace_limit == std::size_t(64) << 20);
}

TEST_CASE("conv2d in batch chunks under a small workspace cap gives the same result", "[conv]") {
  anycl::Runtime rt("");
  anycl::set_conv_workspace_limit(rt, 4096);  // forces one image per chunk
  const ConvDesc r{3, 5, 9, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const anycl::Conv2d d = to_anycl(r, false);
  const auto x = random_values(r.x_size(), 1), w = random_values(r.w_size(), 2), dy = random_values(r.y_size(), 3);
  for (ConvAlgo algo : {ConvAlgo::Im2col, ConvAlgo::Winograd}) {
    INFO(anycl::to_string(algo));
    std::vector<float> y(r.y_size()), dx(r.x_size());
    anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data(), algo);
    CHECK(count_bad(y, anycl_test::conv_forward(r, x, w, {}, false),
                    anycl_test::conv_forward(r, abs_of(x), abs_of(w), {}, false), 45, 16) == 0);
    anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx.data(), algo);
    CHECK(count_bad(dx, anycl_test::conv_backward_data(r, dy, w), anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w)),
                    63, 16) == 0);
  }
  std::vector<float> dw(r.w_size()), db(r.k), ref_w, ref_b, abs_w, abs_b;
  anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), db.data(), ConvAlgo::Im2col);
  anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
  anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
  CHECK(count_bad(dw, ref_w, abs_w, 3 * 81, 2) == 0);
  CHECK(count_bad(db, ref_b, abs_b, 3 * 81, 2) == 0);
  // Pointwise Gemm1x1 folds the chunk's images into one GEMM: chunk edges inside a panel.
  const ConvDesc pw{3, 5, 7, 5, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  const auto xp = random_values(pw.x_size(), 4), wp = random_values(pw.w_size(), 5);
  std::vector<float> yp(pw.y_size());
  anycl::conv2d_forward(rt, to_anycl(pw, false), xp.data(), wp.data(), nullptr, yp.data(), ConvAlgo::Gemm1x1);
  CHECK(count_bad(yp, anycl_test::conv_forward(pw, xp, wp, {}, false),
                  anycl_test::conv_forward(pw, abs_of(xp), abs_of(wp), {}, false), 5, 2) == 0);
}

TEST_CASE("bad convolution descriptors are INVALID_ARGUMENT and outputs stay untouched", "[conv][errors]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  const anycl_conv2d_desc good = {1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ANYCL_CONV_NCHW};
  std::vector<float> x(1024, 1), w(1024, 1), y(1024, 9);
  struct Bad {
    const char* what;
    anycl_conv2d_desc d;
    const char* mentions;
  };
  std::vector<Bad> cases;
  auto with = [&](const char* what, const char* mentions, auto edit) {
    anycl_conv2d_desc d = good;
    edit(d);
    cases.push_back({what, d, mentions});
  };
  with("zero stride", "stride", [](auto& d) { d.stride_h = 0; });
  with("zero dilation", "dilation", [](auto& d) { d.dilation_w = 0; });
  with("groups not dividing c", "groups", [](auto& d) { d.groups = 3; });
  with("dilated filter larger than input", "larger than the padded input", [](auto& d) { d.r = 5, d.dilation_h = 4; });
  with("zero batch (empty output)", "n must be positive", [](auto& d) { d.n = 0; });
  with("size overflow", "overflow", [](auto& d) { d.n = 1u << 30, d.c = 1u << 30, d.h = 1u << 20; });
  with("field beyond 32 bits", "n = 9223372036854775807 exceeds 2^31 - 1", [](auto& d) { d.n = SIZE_MAX / 2; });
  with("unknown layout", "layout = 5", [](auto& d) { d.layout = static_cast<anycl_conv_layout>(5); });
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(anycl_conv2d_forward(rt, &c.d, x.data(), w.data(), nullptr, y.data()) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(anycl_last_error()).find(c.mentions) != std::string::npos);
    size_t p = 0, q = 0;
    CHECK(anycl_conv2d_output_size(&c.d, &p, &q) == ANYCL_ERROR_INVALID_ARGUMENT);
  }
  for (float v : y) CHECK(v == 9);
  size_t p = 0, q = 0;
  REQUIRE(anycl_conv2d_output_size(&good, &p, &q) == ANYCL_SUCCESS);
  CHECK(p == 8);
  CHECK(q == 8);
  CHECK(anycl_conv2d_forward(rt, &good, nullptr, w.data(), nullptr, y.data()) == ANYCL_ERROR_INVALID_ARGUMENT);
  anycl_runtime_destroy(rt);
}
