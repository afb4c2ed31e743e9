// ImplicitGemm (cl_kernels/conv_implicit.cl) against the plain C++ reference accumulating in
// double, with test_conv's bound (tests/conv_sweep.hpp: 2 * (L + 2) * eps_float * the reference on
// |inputs|): the whole sweep and the stem-like shapes, forced and through Auto, under other
// register tiles, in batch chunks; backward-weights (conv_implicit_weights.cl, with dbias) the same
// way, run to run bitwise the same and picked by Auto on the stem shapes; backward-data, which it
// does not serve, is refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "conv_sweep.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::describe;
using anycl_test::kCases;
using anycl_test::kStemCases;
using anycl_test::to_anycl;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

}  // namespace

TEST_CASE("conv2d ImplicitGemm forward matches the reference on the sweep", "[conv][implicit]") {
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    INFO(describe(kCases[i]));
    anycl_test::check_forward(kCases[i], ConvAlgo::ImplicitGemm, unsigned(700 + i), runtime());
  }
}

TEST_CASE("conv2d ImplicitGemm backward-weights matches the reference on the sweep", "[conv][implicit]") {
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    INFO(describe(kCases[i]));
    anycl_test::check_backward_weights(kCases[i], ConvAlgo::ImplicitGemm, unsigned(1100 + i), runtime());
  }
  for (std::size_t i = 0; i < kStemCases.size(); ++i) {
    INFO(describe(kStemCases[i]));
    anycl_test::check_backward_weights(kStemCases[i], ConvAlgo::ImplicitGemm, unsigned(1150 + i), runtime());
    anycl_test::check_backward_weights(kStemCases[i], ConvAlgo::Auto, unsigned(1170 + i), runtime());
  }
}

namespace {
// The kernels one backward-weights call of `d` under `algo` ran (dbias asked for or not).
std::vector<std::string> weights_kernels(const anycl::Conv2d& d, ConvAlgo algo, bool with_bias) {
  std::vector<float> x(d.x_size(), 1), dy(d.y_size(), 1), dw(d.w_size()), db(d.k);
  anycl::set_kernel_profiling(runtime(), true);
  anycl::clear_kernel_profile(runtime());
  anycl::conv2d_backward_weights(runtime(), d, x.data(), dy.data(), dw.data(), with_bias ? db.data() : nullptr, algo);
  std::vector<std::string> out;
  for (const anycl::KernelTime& k : anycl::kernel_profile(runtime())) out.push_back(k.kernel);
  anycl::set_kernel_profiling(runtime(), false);
  anycl::clear_kernel_profile(runtime());
  return out;
}
bool ran(const std::vector<std::string>& kernels, const std::string& name) {
  return std::find(kernels.begin(), kernels.end(), name) != kernels.end();
}
}  // namespace

// Auto runs the ImplicitGemm kernels for the stem's backward-weights; dbias only when asked for,
// and the result is the same bits on a second run (the segments' partials are summed in order).
TEST_CASE("conv2d ImplicitGemm backward-weights: Auto on the stem, dbias on request, deterministic", "[conv][implicit]") {
  anycl_test::ConvDesc stem = kStemCases[8];
  stem.n = 2;
  const anycl::Conv2d d = to_anycl(stem, false);
  const auto with_bias = weights_kernels(d, ConvAlgo::Auto, true);
  CHECK(ran(with_bias, "conv_igw_tiles"));
  CHECK(ran(with_bias, "conv_igw_sum"));
  CHECK(ran(with_bias, "conv_dbias"));
  CHECK_FALSE(ran(weights_kernels(d, ConvAlgo::ImplicitGemm, false), "conv_dbias"));
  const auto x = anycl_test::random_values(stem.x_size(), 31), dy = anycl_test::random_values(stem.y_size(), 32);
  std::vector<float> dw1(stem.w_size()), dw2(stem.w_size(), 7), db1(stem.k), db2(stem.k, 7);
  anycl::conv2d_backward_weights(runtime(), d, x.data(), dy.data(), dw1.data(), db1.data(), ConvAlgo::ImplicitGemm);
  anycl::conv2d_backward_weights(runtime(), d, x.data(), dy.data(), dw2.data(), db2.data(), ConvAlgo::ImplicitGemm);
  CHECK(dw1 == dw2);
  CHECK(db1 == db2);
}

TEST_CASE("conv2d stem shapes: Auto picks ImplicitGemm (ungrouped) and both match the reference", "[conv][implicit]") {
  for (std::size_t i = 0; i < kStemCases.size(); ++i) {
    INFO(describe(kStemCases[i]));
    // Thin groups stay Direct's (the selector asks for it first).
    const ConvAlgo pick = kStemCases[i].groups > 1 ? ConvAlgo::Direct : ConvAlgo::ImplicitGemm;
    CHECK(anycl::conv2d_select(runtime(), to_anycl(kStemCases[i], false)) == pick);
    anycl_test::check_forward(kStemCases[i], ConvAlgo::ImplicitGemm, unsigned(800 + i), runtime());
    anycl_test::check_forward(kStemCases[i], ConvAlgo::Auto, unsigned(820 + i), runtime());
  }
}

// A data-parallel replica on a sub-device must sum its dw as a whole device does (2 MPI ranks on
// whole devices are bitwise cpu/2): the segments are fixed row counts, not a share per unit.
TEST_CASE("conv2d ImplicitGemm backward-weights: the same bits on the whole device and a sub-device", "[conv][implicit]") {
  anycl_test::ConvDesc stem = kStemCases[8];
  stem.n = 3;
  const anycl::Conv2d d = to_anycl(stem, false);
  const auto x = anycl_test::random_values(stem.x_size(), 41), dy = anycl_test::random_values(stem.y_size(), 42);
  auto dw_on = [&](anycl::Runtime& rt) {
    const anycl::Buffer bx = anycl_test::upload(rt, x), bdy = anycl_test::upload(rt, dy);
    const anycl::Buffer bdw = rt.alloc(stem.w_size() * sizeof(float), 0);
    anycl::conv2d_backward_weights(rt, d, bx, bdy, bdw, nullptr, ConvAlgo::ImplicitGemm).wait();
    std::vector<float> dw(stem.w_size());
    rt.read(bdw, dw.data(), dw.size() * sizeof(float));
    return dw;
  };
  anycl::Runtime halves("cpu/2");
  REQUIRE(halves.device_count() == 2);
  REQUIRE(halves.device(0).compute_units < runtime().device(0).compute_units);
  CHECK(dw_on(runtime()) == dw_on(halves));
}

// Few channels under a 3x3 filter (an RGB first layer) run ImplicitGemm in both of its passes;
// many channels, a 1x1 filter or a smaller one at stride 1 keep their algorithms.
TEST_CASE("conv2d Auto keeps ImplicitGemm to few channels under 3x3 or larger or strided filters", "[conv][implicit]") {
  anycl_test::ConvDesc r = kStemCases[0];
  r.c = 16;
  CHECK(anycl::conv2d_select(runtime(), to_anycl(r, false)) != ConvAlgo::ImplicitGemm);
  r = kCases[0];  // 3 channels, 3x3 stride 1
  CHECK(anycl::conv2d_select(runtime(), to_anycl(r, false)) == ConvAlgo::ImplicitGemm);
  CHECK(ran(weights_kernels(to_anycl(r, false), ConvAlgo::Auto, false), "conv_igw_tiles"));
  anycl_test::check_forward(r, ConvAlgo::Auto, 840, runtime());
  anycl_test::check_backward_weights(r, ConvAlgo::Auto, 841, runtime());
  r.r = r.s = 2;  // 4 taps at stride 1
  CHECK(anycl::conv2d_select(runtime(), to_anycl(r, false)) != ConvAlgo::ImplicitGemm);
  CHECK_FALSE(ran(weights_kernels(to_anycl(r, false), ConvAlgo::Auto, false), "conv_igw_tiles"));
  r = kCases[7];  // 1x1 on 12 channels
  r.c = 3;
  CHECK(anycl::conv2d_select(runtime(), to_anycl(r, false)) != ConvAlgo::ImplicitGemm);
}

// A register tile that divides none of the sweep's sizes: 3 channels a work-item, 3 vectors of 4
// along a row, 2 rows, work-groups of 5 channel blocks.
TEST_CASE("conv2d ImplicitGemm with MR 3 VW 4 TQ 3 TP 2 matches the reference", "[conv][implicit]") {
  anycl_test::TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  anycl_test::spit(dir.path() + "/params/zz-test.json",
                   // Every key matches any device: more keys than any shipped entry, so this one wins.
                   R"({"entries": [{"name": "odd tiles", "match": {"device_name_prefix": "",
                       "driver_version_prefix": "", "min_vector_width_float": 0, "min_local_mem_kb": 0},
                       "params": {"conv_implicit": {"MR": 3, "VW": 4, "TQ": 3, "TP": 2, "IG_WG": 5},
                                  "conv_implicit_weights": {"MR": 3, "NT": 5, "VW": 8, "IGW_WG": 5,
                                                            "IGW_SEG_ROWS": 5}}}]})");
  anycl::RuntimeOptions opt = anycl::RuntimeOptions::from_env();
  opt.kernel_path = dir.path();
  opt.cache = false;
  anycl::Runtime rt(opt);
  bool built = false;  // the parameters really reached the build
  for (const anycl::BuildReport& b : rt.build_reports())
    if (b.family == "conv_implicit")
      built = b.ok && b.options.find("-DMR=3 ") != std::string::npos && b.options.find("-DTP=2 ") != std::string::npos;
  REQUIRE(built);
  bool built_weights = false;
  for (const anycl::BuildReport& b : rt.build_reports())
    if (b.family == "conv_implicit_weights")
      built_weights = b.ok && b.options.find("-DNT=5 ") != std::string::npos;
  REQUIRE(built_weights);
  for (std::size_t i = 0; i < kStemCases.size(); ++i) {
    INFO(describe(kStemCases[i]));
    anycl_test::check_forward(kStemCases[i], ConvAlgo::ImplicitGemm, unsigned(900 + i), rt);
    anycl_test::check_backward_weights(kStemCases[i], ConvAlgo::ImplicitGemm, unsigned(920 + i), rt);
  }
  for (std::size_t i = 0; i < kCases.size(); i += 3) {
    INFO(describe(kCases[i]));
    anycl_test::check_forward(kCases[i], ConvAlgo::ImplicitGemm, unsigned(950 + i), rt);
    anycl_test::check_backward_weights(kCases[i], ConvAlgo::ImplicitGemm, unsigned(970 + i), rt);
  }
}

// A workspace cap below one image's staged input: one image a chunk.
TEST_CASE("conv2d ImplicitGemm in batch chunks matches the reference", "[conv][implicit]") {
  anycl::Runtime rt("");
  anycl::set_conv_workspace_limit(rt, 1);
  for (const anycl_test::ConvDesc& r : {kStemCases[0], kStemCases[3], kStemCases[6]}) {
    INFO(describe(r));
    anycl_test::check_forward(r, ConvAlgo::ImplicitGemm, 990, rt);
    anycl_test::check_backward_weights(r, ConvAlgo::ImplicitGemm, 991, rt);
  }
}

TEST_CASE("conv2d ImplicitGemm refuses backward-data as UNSUPPORTED with the output untouched", "[conv][implicit]") {
  const anycl_test::ConvDesc& r = kStemCases[0];
  const anycl::Conv2d d = to_anycl(r, false);
  std::vector<float> dy(r.y_size(), 1), w(r.w_size(), 1), dx(r.x_size(), 5);
  try {
    anycl::conv2d_backward_data(runtime(), d, dy.data(), w.data(), dx.data(), ConvAlgo::ImplicitGemm);
    FAIL("backward-data ran under ImplicitGemm");
  } catch (const anycl::Error& e) {
    CHECK(e.status() == ANYCL_ERROR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("implicit_gemm") != std::string::npos);
  }
  CHECK(dx[0] == 5);
  // Auto keeps the existing algorithms for the stem's backward-data.
  anycl_test::check_backward_data(r, ConvAlgo::Auto, 995, runtime());
}
