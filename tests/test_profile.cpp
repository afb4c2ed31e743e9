// The kernel profile (anycl/profile.hpp): while on, every kernel anycl enqueues is recorded with
// its device time under its .cl name; while off, nothing is.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "anycl/anycl.hpp"
#include "support.hpp"

namespace {

using anycl_test::random_values;
using anycl_test::upload;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// A fresh, empty profile in the given state for each test case (the runtime is shared).
void reset_profile(bool on) {
  anycl::set_kernel_profiling(runtime(), on);
  anycl::clear_kernel_profile(runtime());
}

// B transposed: the direct kernel takes only contiguous op(B) rows past the tiny sizes, so
// 512^3 runs the packed kernels whatever DIRECT_MAX a device's parameters give.
struct PackedGemm {
  anycl::GemmShape s;
  anycl::Buffer a, b, c;
  explicit PackedGemm(std::size_t size) {
    s.m = s.n = s.k = s.lda = s.ldb = s.ldc = size;
    s.trans_b = anycl::Transpose::Yes;
    a = upload(runtime(), random_values<float>(size * size, 1));
    b = upload(runtime(), random_values<float>(size * size, 2));
    c = upload(runtime(), std::vector<float>(size * size));
  }
  void run() const { anycl::gemm<float>(runtime(), s, 1.f, a, 0, b, 0, 0.f, c, 0).wait(); }
};

const anycl::KernelTime* find(const std::vector<anycl::KernelTime>& profile, const std::string& kernel) {
  const auto it = std::find_if(profile.begin(), profile.end(), [&](const auto& k) { return k.kernel == kernel; });
  return it == profile.end() ? nullptr : &*it;
}

void check_timed(const std::vector<anycl::KernelTime>& profile, const std::string& kernel, std::size_t min_count) {
  INFO("kernel " << kernel);
  const anycl::KernelTime* k = find(profile, kernel);
  REQUIRE(k != nullptr);
  CHECK(k->device == 0);
  CHECK(k->count >= min_count);
  CHECK(k->total_ms > 0);
  CHECK(k->median_ms > 0);
  CHECK(k->median_ms <= k->total_ms);
}

std::string names(const std::vector<anycl::KernelTime>& profile) {
  std::string s;
  for (const auto& k : profile) s += k.kernel + " x" + std::to_string(k.count) + "; ";
  return s;
}

}  // namespace

TEST_CASE("the kernel profile names the packed SGEMM kernels with counts and device times", "[profile]") {
  const PackedGemm g(512);
  g.run();  // first-call work (workspaces) outside the profile
  reset_profile(true);
  for (int i = 0; i < 3; ++i) g.run();
  const auto profile = anycl::kernel_profile(runtime());
  INFO(names(profile));
  for (const char* kernel : {"pack_ab", "gemm_packed"}) check_timed(profile, kernel, 3);
  CHECK(find(profile, "gemm_direct") == nullptr);
  // Reading keeps the profile; clearing empties it.
  CHECK(anycl::kernel_profile(runtime()).size() == profile.size());
  anycl::clear_kernel_profile(runtime());
  CHECK(anycl::kernel_profile(runtime()).empty());
  reset_profile(false);
}

TEST_CASE("the kernel profile names a convolution's kernels", "[profile]") {
  anycl::Conv2d d;
  d.n = 2, d.c = 16, d.h = d.w = 14, d.k = 16, d.r = d.s = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  const anycl::Buffer x = upload(runtime(), random_values<float>(d.x_size(), 3));
  const anycl::Buffer w = upload(runtime(), random_values<float>(d.w_size(), 4));
  const anycl::Buffer y = upload(runtime(), std::vector<float>(d.y_size()));
  reset_profile(true);
  anycl::conv2d_forward(runtime(), d, x, w, nullptr, y, anycl::ConvAlgo::Im2col).wait();
  const auto profile = anycl::kernel_profile(runtime());
  INFO(names(profile));
  check_timed(profile, "im2col_packed", 1);
  check_timed(profile, "gemm_packed", 1);
  reset_profile(false);
}

TEST_CASE("with the kernel profile off nothing is recorded, and what was recorded stays", "[profile]") {
  const PackedGemm g(512);
  reset_profile(false);
  g.run();
  CHECK(anycl::kernel_profile(runtime()).empty());

  anycl::set_kernel_profiling(runtime(), true);
  g.run();
  anycl::set_kernel_profiling(runtime(), false);
  g.run();
  const auto profile = anycl::kernel_profile(runtime());
  INFO(names(profile));
  REQUIRE(find(profile, "gemm_packed") != nullptr);
  CHECK(find(profile, "gemm_packed")->count == 1);
  reset_profile(false);
}

TEST_CASE("the kernel profile counts every launch of concurrent calls while it is read", "[profile][threads]") {
  const PackedGemm g1(160), g2(160);  // past DIRECT_TINY: packed
  reset_profile(true);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) (void)anycl::kernel_profile(runtime());
  });
  std::thread t1([&] { for (int i = 0; i < 4; ++i) g1.run(); });
  std::thread t2([&] { for (int i = 0; i < 4; ++i) g2.run(); });
  t1.join();
  t2.join();
  done = true;
  reader.join();
  const auto profile = anycl::kernel_profile(runtime());
  INFO(names(profile));
  for (const char* kernel : {"pack_ab", "gemm_packed"}) {
    REQUIRE(find(profile, kernel) != nullptr);
    CHECK(find(profile, kernel)->count == 8);
  }
  reset_profile(false);
}

TEST_CASE("a long profiled run keeps every launch's time", "[profile]") {
  // More launches than the profile keeps as events (it folds the completed ones into times).
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = 16;
  const anycl::Buffer a = upload(runtime(), random_values<float>(256, 5)), c = upload(runtime(), std::vector<float>(256));
  reset_profile(true);
  constexpr std::size_t kCalls = 5000;
  for (std::size_t i = 0; i < kCalls; ++i) anycl::gemm<float>(runtime(), s, 1.f, a, 0, a, 0, 0.f, c, 0).wait();
  const auto profile = anycl::kernel_profile(runtime());
  INFO(names(profile));
  REQUIRE(profile.size() == 1);
  CHECK(profile[0].kernel == "gemm_direct");
  CHECK(profile[0].count == kCalls);
  CHECK(profile[0].total_ms > 0);
  reset_profile(false);
}

// Direct on a depthwise layer runs the conv_depthwise family in every pass (backward-data is its
// forward kernel on dy), conv_depthwise_nhwc in channels-last; at stride 3, which that family does not take, and on thin groups that are
// not depthwise, it runs conv_direct.
TEST_CASE("Direct runs conv_depthwise on depthwise layers and conv_direct elsewhere", "[profile]") {
  auto kernels_of = [](const anycl::Conv2d& d, anycl::ConvPass pass) {
    const anycl::Buffer x = upload(runtime(), random_values<float>(d.x_size(), 5));
    const anycl::Buffer w = upload(runtime(), random_values<float>(d.w_size(), 6));
    const anycl::Buffer y = upload(runtime(), random_values<float>(d.y_size(), 7));
    reset_profile(true);
    if (pass == anycl::ConvPass::Forward)
      anycl::conv2d_forward(runtime(), d, x, w, nullptr, y, anycl::ConvAlgo::Direct).wait();
    else if (pass == anycl::ConvPass::BackwardData)
      anycl::conv2d_backward_data(runtime(), d, y, w, x, anycl::ConvAlgo::Direct).wait();
    else
      anycl::conv2d_backward_weights(runtime(), d, x, y, w, nullptr, anycl::ConvAlgo::Direct).wait();
    const auto profile = anycl::kernel_profile(runtime());
    reset_profile(false);
    return profile;
  };
  anycl::Conv2d d;
  d.n = 2, d.c = d.k = d.groups = 8, d.h = d.w = 14, d.r = d.s = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  struct Family {
    anycl::ConvLayout layout;
    const char *forward, *weights;
  };
  for (const Family& f : {Family{anycl::ConvLayout::Nchw, "conv_dw_fwd", "conv_dw_bwd_weights"},
                          Family{anycl::ConvLayout::Nhwc, "conv_dwn_fwd", "conv_dwn_bwd_weights"}}) {
    d.layout = f.layout;
    for (std::size_t stride : {1, 2}) {
      d.stride_h = d.stride_w = stride;
      INFO("depthwise stride " << stride << ", layout " << anycl::to_string(f.layout));
      for (const auto& [pass, kernel] : {std::pair{anycl::ConvPass::Forward, f.forward},
                                         std::pair{anycl::ConvPass::BackwardData, f.forward},
                                         std::pair{anycl::ConvPass::BackwardWeights, f.weights}}) {
        const auto profile = kernels_of(d, pass);
        INFO(names(profile));
        check_timed(profile, kernel, 1);
        CHECK(profile.size() == 1);  // channels-last: no transposes either
      }
    }
  }
  d.layout = anycl::ConvLayout::Nchw;
  d.stride_h = d.stride_w = 3;
  const auto strided = kernels_of(d, anycl::ConvPass::Forward);
  INFO(names(strided));
  check_timed(strided, "conv_direct_fwd", 1);
  d.stride_h = d.stride_w = 1, d.groups = 4;  // two channels a group: not depthwise
  const auto grouped = kernels_of(d, anycl::ConvPass::Forward);
  INFO(names(grouped));
  check_timed(grouped, "conv_direct_fwd", 1);
}
