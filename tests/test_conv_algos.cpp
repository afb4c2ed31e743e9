// ANYCL_CONV_ALGOS (docs/reliability.md, "Environment knobs"): disabled algorithms are never
// Auto's choice, neither the selector's nor the find step's, and forcing one is refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "reference/conv_reference.hpp"
#include "support.hpp"

namespace {

using anycl_test::ScopedEnv;

// 3x3 stride 1 with 64 channels: the selector's pick is Winograd.
anycl_test::ConvDesc winograd_shape() {
  anycl_test::ConvDesc r;
  r.n = 1, r.c = 64, r.h = 10, r.w = 9, r.k = 64, r.r = r.s = 3;
  r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 1;
  return r;
}

bool ran_kernel(const std::vector<anycl::KernelTime>& profile, const std::string& part) {
  return std::any_of(profile.begin(), profile.end(),
                     [&](const anycl::KernelTime& k) { return k.kernel.find(part) != std::string::npos; });
}

// Auto on `r` picks `usual`; under ANYCL_CONV_ALGOS=`disabled` it picks im2col instead, runs no
// kernel named `absent`, runs im2col_packed and matches the reference.
void check_auto_falls_back(const anycl_test::ConvDesc& r, anycl::ConvAlgo usual, const std::string& disabled,
                           const std::string& absent, const std::string& im2col_kernel) {
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  {
    anycl::Runtime plain("");
    REQUIRE(anycl::conv2d_select(plain, d) == usual);
  }
  ScopedEnv algos("ANYCL_CONV_ALGOS", disabled);
  anycl::Runtime rt("");
  CHECK(anycl::conv2d_select(rt, d) == anycl::ConvAlgo::Im2col);
  const std::vector<float> x = anycl_test::random_values<float>(r.x_size(), 1);
  const std::vector<float> w = anycl_test::random_values<float>(r.w_size(), 2);
  std::vector<float> y(r.y_size());
  anycl::set_kernel_profiling(rt, true);
  anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data());
  const std::vector<anycl::KernelTime> profile = anycl::kernel_profile(rt);
  CHECK_FALSE(ran_kernel(profile, absent));
  CHECK(ran_kernel(profile, im2col_kernel));
  const std::vector<float> ref = anycl_test::conv_forward(r, x, w, {}, false);
  const std::vector<float> ref_abs = anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), {}, false);
  CHECK(anycl_test::count_bad(y, ref, ref_abs, double(r.c * r.r * r.s + 1), 2) == 0);
}

}  // namespace

TEST_CASE("ANYCL_CONV_ALGOS=-winograd: Auto runs im2col and matches the reference", "[conv_algos]") {
  check_auto_falls_back(winograd_shape(), anycl::ConvAlgo::Winograd, "-winograd,-direct", "winograd", "im2col_packed");
}

TEST_CASE("ANYCL_CONV_ALGOS=-implicit_gemm: the stem runs im2col and matches the reference", "[conv_algos]") {
  anycl_test::ConvDesc r;  // the 7x7 stride-2 stem on 3 channels, small
  r.n = 2, r.c = 3, r.h = 23, r.w = 21, r.k = 12, r.r = r.s = 7, r.stride_h = r.stride_w = 2;
  r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 3;
  // Strided, so im2col gathers its column panels inside the GEMM kernel.
  check_auto_falls_back(r, anycl::ConvAlgo::ImplicitGemm, "-implicit_gemm", "conv_ig_", "conv_im2col_gemm");
}

TEST_CASE("ANYCL_CONV_ALGOS: forcing a disabled algorithm is UNSUPPORTED naming the variable", "[conv_algos]") {
  const anycl_test::ConvDesc r = winograd_shape();
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  ScopedEnv algos("ANYCL_CONV_ALGOS", std::string("-winograd"));
  anycl::Runtime rt("");
  std::vector<float> x(r.x_size()), w(r.w_size()), y(r.y_size());
  try {
    anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data(), anycl::ConvAlgo::Winograd);
    FAIL("forcing a disabled algorithm ran");
  } catch (const anycl::Error& e) {
    CHECK(e.status() == ANYCL_ERROR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("ANYCL_CONV_ALGOS") != std::string::npos);
  }
}

TEST_CASE("ANYCL_CONV_ALGOS: the find step times no disabled algorithm", "[conv_algos]") {
  anycl_test::ConvDesc r = winograd_shape();
  r.c = r.k = 32, r.h = r.w = 6;
  ScopedEnv algos("ANYCL_CONV_ALGOS", std::string("-winograd"));
  anycl::Runtime rt("");
  const anycl::ConvFindResult found = anycl::conv2d_find(rt, anycl_test::to_anycl(r, false), anycl::ConvPass::Forward);
  CHECK(found.algo != anycl::ConvAlgo::Winograd);
  for (const anycl::ConvAlgoTime& t : found.times) CHECK(t.algo != anycl::ConvAlgo::Winograd);
}

TEST_CASE("ANYCL_CONV_ALGOS: a bad value is reported and ignored", "[conv_algos]") {
  const anycl::Conv2d d = anycl_test::to_anycl(winograd_shape(), false);
  ScopedEnv log("ANYCL_LOG", std::string("warn"));
  for (const char* value : {"-im2col", "winograd", "-winograd,-bogus", "-winograd,"}) {
    INFO("ANYCL_CONV_ALGOS=" << value);
    ScopedEnv algos("ANYCL_CONV_ALGOS", std::string(value));
    anycl_test::StderrCapture capture;
    anycl::Runtime rt("");
    CHECK(anycl::conv2d_select(rt, d) == anycl::ConvAlgo::Winograd);
    CHECK(capture.text().find("ANYCL_CONV_ALGOS") != std::string::npos);
  }
}
