// Convolution against PyTorch as an independent oracle: torch.nn.functional.conv2d and its
// autograd gradients (tests/torch_conv_oracle.py, run by ANYCL_TEST_PYTHON, computing in float64)
// on the same random tensors, exchanged through files. Every pass, every applicable algorithm
// forced one by one, host-pointer API, in NCHW and channels-last.
//
// Torch missing is a FAILURE with a message saying how to install it, never a silent skip.
//
// Tolerance, per element: |got - ref| <= f * L * eps_f32 * (1 + |ref|), L the reduction length
// of the pass (c/g*r*s forward, k/g*r*s backward-data, n*p*q backward-weights and dbias), f = 4
// (for Winograd, whose input/output transforms add rounding of their own, the sweep's
// anycl_test::winograd_factor: 16 with 2x2 output tiles, 128 with 4x4).
// Why: every output is a float32 sum of L products of inputs drawn from [-1, 1]. Rounding errors
// of such a sum behave like a random walk, ~sqrt(L) * eps * sqrt(sum of squared terms) <= L * eps;
// the (1 + |ref|) term covers the final rounding of large results. The oracle's own error
// (float64, inputs exactly representable, result rounded once to float32) is below eps * |ref|.
// A real mistake (a missing, extra or misplaced term, magnitude ~0.01..1) exceeds the bound by
// orders of magnitude: e.g. L = 147 (7x7x3) allows 7e-5 * (1 + |ref|).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::random_values;

struct Case {
  std::string name;
  anycl::Conv2d d;
  bool bias;
};

anycl::Conv2d make(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t k, std::size_t r,
                   std::size_t s, std::size_t sh, std::size_t sw, std::size_t pt, std::size_t pl, std::size_t pb,
                   std::size_t pr, std::size_t dh, std::size_t dw, std::size_t g, bool relu) {
  anycl::Conv2d d;
  d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = r, d.s = s, d.stride_h = sh, d.stride_w = sw;
  d.pad_top = pt, d.pad_left = pl, d.pad_bottom = pb, d.pad_right = pr;
  d.dilation_h = dh, d.dilation_w = dw, d.groups = g, d.relu = relu;
  return d;
}

// Every case in NCHW and again channels-last: NHWC tensors and OHWI filters, which the oracle
// reads as PyTorch's channels_last memory format and convolves in it.
std::vector<Case> in_both_layouts(std::vector<Case> cases) {
  const std::size_t nchw = cases.size();
  for (std::size_t i = 0; i < nchw; ++i) {
    Case c = cases[i];
    c.name += ", channels-last";
    c.d.layout = anycl::ConvLayout::Nhwc;
    cases.push_back(c);
  }
  return cases;
}

//                          n  c   h   w   k  r  s sh sw pt pl pb pr dh dw  g  relu        bias
const std::vector<Case> kCases = in_both_layouts({
    {"3x3 stride 2", make(2, 3, 9, 10, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true), true},
    {"3x3 asymmetric padding", make(1, 4, 8, 7, 5, 3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1, false), true},
    {"3x3 dilation 2", make(2, 3, 10, 9, 4, 3, 3, 1, 1, 2, 1, 2, 1, 2, 2, 1, false), false},
    {"3x3 groups 2", make(2, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true), true},
    {"3x3 depthwise stride 2", make(2, 6, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, false), true},
    {"3x3 depthwise", make(2, 5, 14, 33, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, true), true},
    {"5x5 depthwise stride 2", make(2, 4, 19, 23, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 4, true), false},
    {"5x5 depthwise", make(1, 3, 11, 18, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3, false), true},
    {"1x1", make(2, 8, 6, 5, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), true},
    {"3x3 Winograd shape", make(2, 5, 9, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true), true},
    {"3x3 Winograd shape, asymmetric padding", make(1, 3, 8, 9, 4, 3, 3, 1, 1, 1, 2, 0, 1, 1, 1, 1, false), false},
    {"7x7 stride 2", make(1, 3, 16, 15, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, false), true},
});

enum class Pass { Forward, BackwardData, BackwardWeights };

bool pointwise(const anycl::Conv2d& d) {
  return d.r == 1 && d.s == 1 && d.stride_h == 1 && d.stride_w == 1 && !d.pad_top && !d.pad_left && !d.pad_bottom &&
         !d.pad_right;
}

bool winograd_shape(const anycl::Conv2d& d) {
  return d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 && d.dilation_w == 1 &&
         d.groups == 1;
}

// The algorithms the README documents as applicable to a pass (Auto first).
std::vector<ConvAlgo> algorithms_for(const anycl::Conv2d& d, Pass pass) {
  std::vector<ConvAlgo> out = {ConvAlgo::Auto, ConvAlgo::Im2col, ConvAlgo::Direct};
  if (pointwise(d)) out.push_back(ConvAlgo::Gemm1x1);
  if (winograd_shape(d) && (pass != Pass::BackwardData || (d.pad_top <= 2 && d.pad_left <= 2)))
    out.push_back(ConvAlgo::Winograd);
  return out;
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  static_assert(std::numeric_limits<float>::is_iec559, "raw float32 exchange");
  std::string bytes(v.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());  // little-endian host (x86-64, the CI)
  anycl_test::spit(path, bytes);
}

std::vector<float> read_floats(const std::string& path, std::size_t expect) {
  const std::string bytes = anycl_test::slurp(path);
  if (bytes.size() != expect * sizeof(float))
    throw std::runtime_error(path + " holds " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(expect * sizeof(float)));
  std::vector<float> v(expect);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

struct Tensors {
  std::vector<float> x, w, bias, dy;              // inputs
  std::vector<float> y, dx, dw, dbias;            // torch's answers
};

std::string describe(const anycl::Conv2d& d) {
  std::ostringstream o;
  o << "n" << d.n << " c" << d.c << " " << d.h << "x" << d.w << " k" << d.k << " " << d.r << "x" << d.s << " stride "
    << d.stride_h << "/" << d.stride_w << " pad " << d.pad_top << "," << d.pad_left << "," << d.pad_bottom << ","
    << d.pad_right << " dil " << d.dilation_h << "/" << d.dilation_w << " groups " << d.groups
    << (d.relu ? " relu" : "");
  return o.str();
}

// Runs the oracle once over every case. Any failure to run it (torch missing included) throws
// with the oracle's output, so the test fails loudly.
std::vector<Tensors> torch_results(const anycl_test::TempDir& dir) {
  std::vector<Tensors> all;
  nlohmann::json cases = nlohmann::json::array();
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    const auto& c = kCases[i];
    const anycl::Conv2d& d = c.d;
    Tensors t;
    const unsigned seed = unsigned(1000 + 10 * i);
    t.x = random_values(d.x_size(), seed);
    t.w = random_values(d.w_size(), seed + 1);
    if (c.bias) t.bias = random_values(d.k, seed + 2);
    t.dy = random_values(d.y_size(), seed + 3);
    const std::string base = dir / std::to_string(i);
    write_floats(base + ".x", t.x);
    write_floats(base + ".w", t.w);
    if (c.bias) write_floats(base + ".bias", t.bias);
    write_floats(base + ".dy", t.dy);
    cases.push_back({{"name", c.name}, {"n", d.n}, {"c", d.c}, {"h", d.h}, {"w", d.w}, {"k", d.k}, {"r", d.r},
                     {"s", d.s}, {"stride", {d.stride_h, d.stride_w}},
                     {"pad", {d.pad_top, d.pad_left, d.pad_bottom, d.pad_right}},
                     {"dilation", {d.dilation_h, d.dilation_w}}, {"groups", d.groups}, {"relu", d.relu},
                     {"bias", c.bias}, {"layout", anycl::to_string(d.layout)}});
    all.push_back(std::move(t));
  }
  anycl_test::spit(dir / "cases.json", nlohmann::json{{"cases", cases}}.dump(1));

  const std::string python = ANYCL_TEST_PYTHON, script = ANYCL_TEST_TORCH_ORACLE;
  if (::access(python.c_str(), X_OK) != 0)
    FAIL("the PyTorch oracle needs " << python << ", which does not exist: install python3 and python3-torch "
                                     << "(apt-get install python3-torch; scripts/setup.sh does this)");
  const anycl_test::ProcessResult r = anycl_test::run_process({python, script, dir.path()});
  if (r.exit_code == 3)
    FAIL("\n*** PyTorch is MISSING: " << python << " cannot import torch. This test needs it as its oracle.\n"
         << "*** Install it: apt-get install python3-torch (scripts/setup.sh and .ci/run do this).\n"
         << r.err);
  if (r.exit_code != 0)
    FAIL("the PyTorch oracle " << python << " " << script << " failed (exit " << r.exit_code << ", signal "
                               << r.signal << "):\n" << r.out << r.err);
  const auto done = nlohmann::json::parse(anycl_test::slurp(dir / "done.json"));
  REQUIRE(done.at("cases").size() == kCases.size());
  UNSCOPED_INFO("torch " << done.at("torch").get<std::string>());
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    const anycl::Conv2d& d = kCases[i].d;
    const std::string base = dir / std::to_string(i);
    all[i].y = read_floats(base + ".y", d.y_size());
    all[i].dx = read_floats(base + ".dx", d.x_size());
    all[i].dw = read_floats(base + ".dw", d.w_size());
    all[i].dbias = read_floats(base + ".dbias", d.k);
  }
  return all;
}

const std::vector<Tensors>& oracle() {
  static anycl_test::TempDir dir("anycl-torch");
  static const std::vector<Tensors> results = torch_results(dir);
  return results;
}

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// Largest observed |got - ref| / (L * eps * (1 + |ref|)) over the whole run, reported at the end.
double g_worst_ratio = 0;

std::size_t count_bad(const std::vector<float>& got, const std::vector<float>& ref, double reduction, double factor) {
  const double eps = std::numeric_limits<float>::epsilon();
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double scale = reduction * eps * (1 + std::fabs(double(ref[i])));
    const double err = std::fabs(double(got[i]) - double(ref[i]));
    if (!(err <= factor * scale)) {
      if (bad++ < 3) UNSCOPED_INFO("element " << i << ": anycl " << got[i] << ", torch " << ref[i] << ", allowed +- "
                                              << factor * scale);
    } else {
      g_worst_ratio = std::max(g_worst_ratio, err / scale);
    }
  }
  return bad;
}

// Winograd's factor of test_conv (16 or 128) for the same pass and runtime; 4 for a direct sum.
double factor_for(const anycl::Conv2d& d, ConvAlgo algo, anycl::ConvPass pass) {
  return std::max(4.0, anycl_test::tolerance_factor(runtime(), d, algo, pass));
}

}  // namespace

// One test case, so the oracle (a Python start-up plus torch import, a few seconds) runs once.
TEST_CASE("conv2d forward, backward-data, backward-weights and dbias match PyTorch for every applicable algorithm",
          "[conv][torch]") {
  const auto& ref = oracle();
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    const anycl::Conv2d& d = kCases[i].d;
    const Tensors& t = ref[i];
    for (ConvAlgo algo : algorithms_for(d, Pass::Forward)) {
      INFO("forward, " << kCases[i].name << ": " << describe(d) << (kCases[i].bias ? " bias" : "") << ", algorithm "
                       << anycl::to_string(algo));
      std::vector<float> y(d.y_size(), std::nanf(""));
      anycl::conv2d_forward(runtime(), d, t.x.data(), t.w.data(), kCases[i].bias ? t.bias.data() : nullptr, y.data(),
                            algo);
      CHECK(count_bad(y, t.y, double(d.c / d.groups * d.r * d.s), factor_for(d, algo, anycl::ConvPass::Forward)) == 0);
    }
    for (ConvAlgo algo : algorithms_for(d, Pass::BackwardData)) {
      INFO("backward-data, " << kCases[i].name << ": " << describe(d) << ", algorithm " << anycl::to_string(algo));
      std::vector<float> dx(d.x_size(), std::nanf(""));
      anycl::conv2d_backward_data(runtime(), d, t.dy.data(), t.w.data(), dx.data(), algo);
      CHECK(count_bad(dx, t.dx, double(d.k / d.groups * d.r * d.s),
                      factor_for(d, algo, anycl::ConvPass::BackwardData)) == 0);
    }
    for (ConvAlgo algo : algorithms_for(d, Pass::BackwardWeights)) {
      INFO("backward-weights, " << kCases[i].name << ": " << describe(d) << ", algorithm " << anycl::to_string(algo));
      std::vector<float> dw(d.w_size(), std::nanf("")), dbias(d.k, std::nanf(""));
      anycl::conv2d_backward_weights(runtime(), d, t.x.data(), t.dy.data(), dw.data(), dbias.data(), algo);
      const double reduction = double(d.n * d.p() * d.q());
      CHECK(count_bad(dw, t.dw, reduction, factor_for(d, algo, anycl::ConvPass::BackwardWeights)) == 0);
      CHECK(count_bad(dbias, t.dbias, reduction, factor_for(d, algo, anycl::ConvPass::BackwardWeights)) == 0);
    }
  }
  // How much of the bound the worst passing element used, in units of L * eps * (1 + |ref|)
  // (the bound is 4, Winograd's 16 or 128); shown by ctest --verbose.
  std::printf("test_conv_torch: worst error / (L * eps * (1 + |ref|)) = %.3g\n", g_worst_ratio);
}
