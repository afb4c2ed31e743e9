// ImplicitGemm (cl_kernels/conv_implicit.cl) against the plain C++ reference accumulating in
// double, with test_conv's bound (tests/conv_sweep.hpp: 2 * (L + 2) * eps_float * the reference on
// |inputs|): the whole sweep and the stem-like shapes, forced and through Auto, under other
// register tiles, in batch chunks; the backward passes, which it does not serve, are refused.
#include <catch2/catch.hpp>

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

// Many input channels or a 3x3 stride-1 filter keep their algorithms.
TEST_CASE("conv2d Auto keeps ImplicitGemm to few channels under large or strided filters", "[conv][implicit]") {
  anycl_test::ConvDesc r = kStemCases[0];
  r.c = 16;
  CHECK(anycl::conv2d_select(runtime(), to_anycl(r, false)) != ConvAlgo::ImplicitGemm);
  r = kCases[0];  // 3 channels, 3x3 stride 1
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
                       "params": {"conv_implicit": {"MR": 3, "VW": 4, "TQ": 3, "TP": 2, "IG_WG": 5}}}]})");
  anycl::RuntimeOptions opt = anycl::RuntimeOptions::from_env();
  opt.kernel_path = dir.path();
  opt.cache = false;
  anycl::Runtime rt(opt);
  bool built = false;  // the parameters really reached the build
  for (const anycl::BuildReport& b : rt.build_reports())
    if (b.family == "conv_implicit")
      built = b.ok && b.options.find("-DMR=3 ") != std::string::npos && b.options.find("-DTP=2 ") != std::string::npos;
  REQUIRE(built);
  for (std::size_t i = 0; i < kStemCases.size(); ++i) {
    INFO(describe(kStemCases[i]));
    anycl_test::check_forward(kStemCases[i], ConvAlgo::ImplicitGemm, unsigned(900 + i), rt);
  }
  for (std::size_t i = 0; i < kCases.size(); i += 3) {
    INFO(describe(kCases[i]));
    anycl_test::check_forward(kCases[i], ConvAlgo::ImplicitGemm, unsigned(950 + i), rt);
  }
}

// A workspace cap below one image's staged input: one image a chunk.
TEST_CASE("conv2d ImplicitGemm in batch chunks matches the reference", "[conv][implicit]") {
  anycl::Runtime rt("");
  anycl::set_conv_workspace_limit(rt, 1);
  for (const anycl_test::ConvDesc& r : {kStemCases[0], kStemCases[3], kStemCases[6]}) {
    INFO(describe(r));
    anycl_test::check_forward(r, ConvAlgo::ImplicitGemm, 990, rt);
  }
}

TEST_CASE("conv2d ImplicitGemm refuses the backward passes as UNSUPPORTED with the output untouched", "[conv][implicit]") {
  const anycl_test::ConvDesc& r = kStemCases[0];
  const anycl::Conv2d d = to_anycl(r, false);
  std::vector<float> dy(r.y_size(), 1), w(r.w_size(), 1), x(r.x_size(), 1), dx(r.x_size(), 5), dw(r.w_size(), 5);
  const auto refused = [](auto&& call) {
    try {
      call();
      FAIL("a backward pass ran under ImplicitGemm");
    } catch (const anycl::Error& e) {
      CHECK(e.status() == ANYCL_ERROR_UNSUPPORTED);
      CHECK(std::string(e.what()).find("implicit_gemm") != std::string::npos);
    }
  };
  refused([&] { anycl::conv2d_backward_data(runtime(), d, dy.data(), w.data(), dx.data(), ConvAlgo::ImplicitGemm); });
  refused([&] {
    anycl::conv2d_backward_weights(runtime(), d, x.data(), dy.data(), dw.data(), nullptr, ConvAlgo::ImplicitGemm);
  });
  CHECK(dx[0] == 5);
  CHECK(dw[0] == 5);
  // Auto keeps the existing algorithms for the stem's backward passes.
  anycl_test::check_backward_data(r, ConvAlgo::Auto, 995, runtime());
  anycl_test::check_backward_weights(r, ConvAlgo::Auto, 996, runtime());
}
