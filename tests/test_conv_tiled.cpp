// Convolution on the GPU-class path, forced onto the POCL CPU device with ANYCL_GEMM_FAMILY=tiled
// (docs/gpu-kernels.md): every pass and every applicable algorithm over the sweep of
// tests/conv_sweep.hpp against the double reference, with the tolerances stated there; and, from
// the kernel profile, that each ran the GPU-class kernels and not the CPU ones (gemm_tiled for
// im2col and Gemm1x1, the wt_* stages and gemm_tiled for Winograd, conv_direct_wg for Direct
// forward and backward-data, depthwise included). Also in batch chunks under a small workspace cap,
// and every configuration of the search spaces of conv_direct_wg and conv_winograd_tiled. On
// cpu/2, the scheduler's shared Winograd pass runs the tiled stages split between the sub-devices.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "conv_sweep.hpp"
#include "plan_support.hpp"
#include "runtime/search_space.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl::ConvPass;
using anycl_test::ConvDesc;
using anycl_test::describe;
using anycl_test::kCases;
using anycl_test::to_anycl;
using anycl::detail::ParamSet;

anycl::Runtime& tiled_runtime() {
  static anycl::Runtime rt = [] {
    anycl_test::ScopedEnv forced("ANYCL_GEMM_FAMILY", std::string("tiled"));
    return anycl::Runtime("");
  }();
  return rt;
}

bool ran(const std::vector<anycl::KernelTime>& profile, const std::string& kernel) {
  return std::any_of(profile.begin(), profile.end(),
                     [&](const anycl::KernelTime& k) { return k.kernel.find(kernel) != std::string::npos; });
}

// Kernels that must run, and kernels that must not, for an algorithm of a pass on this path.
struct Expect {
  std::vector<std::string> must, never;
};

Expect expected(ConvPass pass, ConvAlgo algo) {
  const std::vector<std::string> cpu_gemm = {"gemm_packed", "im2col_packed", "im2col_t_packed", "conv_pack"};
  switch (algo) {
    case ConvAlgo::Im2col:
      if (pass == ConvPass::BackwardWeights) return {{"gemm_tiled", "im2col", "conv_sum_slices"}, cpu_gemm};
      return {{"gemm_tiled"}, cpu_gemm};
    case ConvAlgo::Gemm1x1: return {{"gemm_tiled"}, cpu_gemm};
    case ConvAlgo::Winograd: return {{"wt_filter", "wt_input", "gemm_tiled", "wt_output"}, {"winograd_tiles"}};
    case ConvAlgo::Direct:
      if (pass == ConvPass::BackwardWeights) return {{"conv_direct_bwd_weights"}, {"conv_dw_"}};
      return {{"conv_direct_wg_"}, {"conv_dw_", "conv_direct_fwd", "conv_direct_bwd_data"}};
    default: return {};
  }
}

// Runs `check` for every case and algorithm of the pass, then checks the kernels it launched.
template <typename Check>
void sweep(ConvPass pass, unsigned seed, Check check) {
  anycl::Runtime& rt = tiled_runtime();
  anycl::set_kernel_profiling(rt, true);
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : anycl_test::algorithms_for(to_anycl(kCases[i], false))) {
      if (pass == ConvPass::BackwardWeights && algo == ConvAlgo::Winograd) continue;
      if (pass == ConvPass::BackwardData && algo == ConvAlgo::Winograd &&
          anycl_test::winograd_declines_backward_data(kCases[i]))
        continue;
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      anycl::clear_kernel_profile(rt);
      check(kCases[i], algo, unsigned(seed + i), rt);
      const std::vector<anycl::KernelTime> profile = anycl::kernel_profile(rt);
      const Expect want = expected(pass, algo);
      for (const std::string& k : want.must) CHECK(ran(profile, k));
      for (const std::string& k : want.never) CHECK_FALSE(ran(profile, k));
    }
}

}  // namespace

TEST_CASE("GPU-class path: forcing the tiled family builds the GPU-class convolution kernels") {
  const anycl::detail::DeviceSlot& forced = anycl::detail::engine(tiled_runtime()).slot(0);
  for (const char* v : {"gemm_tiled_f32", "conv_direct_wg", "conv_winograd_tiled"}) {
    INFO(v);
    CHECK(forced.has_program(v));
  }
  anycl_test::ScopedEnv cpu("ANYCL_GEMM_FAMILY", std::string("cpu"));
  anycl::Runtime plain("");
  CHECK_FALSE(anycl::detail::engine(plain).slot(0).has_program("conv_direct_wg"));
  CHECK_FALSE(anycl::detail::engine(plain).slot(0).has_program("conv_winograd_tiled"));
}

TEST_CASE("GPU-class path: forward matches the reference for every algorithm") {
  sweep(ConvPass::Forward, 1100, anycl_test::check_forward);
}

TEST_CASE("GPU-class path: backward-data matches the reference for every algorithm") {
  sweep(ConvPass::BackwardData, 1200, anycl_test::check_backward_data);
}

TEST_CASE("GPU-class path: backward-weights matches the reference for every algorithm") {
  sweep(ConvPass::BackwardWeights, 1300, anycl_test::check_backward_weights);
}

TEST_CASE("GPU-class path: batch chunks under a small workspace cap give the reference result") {
  anycl::Runtime& rt = tiled_runtime();
  anycl::set_conv_workspace_limit(rt, 4096);  // one image per chunk
  ConvDesc im2col = kCases[1], winograd = kCases[1];
  winograd.c = 33, winograd.k = 40, winograd.pad_top = winograd.pad_left = winograd.pad_bottom = winograd.pad_right = 1;
  for (ConvAlgo algo : {ConvAlgo::Im2col, ConvAlgo::Winograd}) {
    const ConvDesc& r = algo == ConvAlgo::Winograd ? winograd : im2col;
    INFO(describe(r) << " algorithm " << anycl::to_string(algo));
    anycl_test::check_forward(r, algo, 1400, rt);
    anycl_test::check_backward_data(r, algo, 1410, rt);
  }
  anycl_test::check_backward_weights(im2col, ConvAlgo::Im2col, 1420, rt);
  anycl::set_conv_workspace_limit(rt, std::size_t(256) << 20);
}

// Builds each configuration of `family`'s search space (cl_kernels/params/<family>.space.json) in
// place of the device's program and runs `check(config)`; restores the tables' values after.
template <typename Check>
void for_every_configuration(const std::string& family, std::size_t at_least, Check check) {
  anycl::Runtime& rt = tiled_runtime();
  anycl::detail::Engine& e = anycl::detail::engine(rt);
  const auto space = anycl::detail::load_search_space(rt.kernel_dir(), family);
  const std::vector<ParamSet> configs = space.configurations(rt.device(0), sizeof(float));
  REQUIRE(configs.size() >= at_least);
  anycl::set_kernel_profiling(rt, true);
  for (const ParamSet& config : configs) {
    anycl::detail::rebuild_program(e.devices.build_context(), e.slot(0), family, config);
    check(rt, config);
  }
  anycl::detail::rebuild_program(e.devices.build_context(), e.slot(0), family, {});
}

// Forward and backward-data over the sweep's cases whose taps fit a staging step.
TEST_CASE("GPU-class path: every conv_direct_wg configuration computes correct results") {
  for_every_configuration("conv_direct_wg", 32, [](anycl::Runtime& rt, const ParamSet& config) {
    for (std::size_t i = 0; i < kCases.size(); ++i) {
      if (kCases[i].r * kCases[i].s > config.at("DIR_WSTAGE")) continue;
      INFO("DIR_WG_Q " << config.at("DIR_WG_Q") << " DIR_WG_P " << config.at("DIR_WG_P") << " DIR_WSTAGE "
                       << config.at("DIR_WSTAGE") << " case " << describe(kCases[i]));
      anycl::clear_kernel_profile(rt);
      anycl_test::check_forward(kCases[i], ConvAlgo::Direct, unsigned(1500 + i), rt);
      anycl_test::check_backward_data(kCases[i], ConvAlgo::Direct, unsigned(1600 + i), rt);
      CHECK(ran(anycl::kernel_profile(rt), "conv_direct_wg_bwd_data"));
    }
  });
}

// Forward and backward-data over the sweep's Winograd cases.
TEST_CASE("GPU-class path: every conv_winograd_tiled configuration computes correct results") {
  for_every_configuration("conv_winograd_tiled", 5, [](anycl::Runtime& rt, const ParamSet& config) {
    for (std::size_t i = 0; i < kCases.size(); ++i) {
      const std::vector<ConvAlgo> algos = anycl_test::algorithms_for(to_anycl(kCases[i], false));
      if (std::find(algos.begin(), algos.end(), ConvAlgo::Winograd) == algos.end()) continue;
      INFO("WT_LWS " << config.at("WT_LWS") << " case " << describe(kCases[i]));
      anycl::clear_kernel_profile(rt);
      anycl_test::check_forward(kCases[i], ConvAlgo::Winograd, unsigned(1700 + i), rt);
      if (!anycl_test::winograd_declines_backward_data(kCases[i]))
        anycl_test::check_backward_data(kCases[i], ConvAlgo::Winograd, unsigned(1800 + i), rt);
      CHECK(ran(anycl::kernel_profile(rt), "wt_output"));
    }
  });
}

// cpu/2 with the tiled family forced: Winograd's shared pass (devices of one memory, stage by
// stage) must run the tiled form each sub-device runs alone, split by weight (never claimed), on
// host pointers and on either device's buffers, in one chunk of images and in one-image chunks.
TEST_CASE("GPU-class path: the shared Winograd pass on cpu/2 runs the tiled stages on both devices") {
  anycl::Runtime rt = [] {
    anycl_test::ScopedEnv forced("ANYCL_GEMM_FAMILY", std::string("tiled"));
    return anycl::Runtime("cpu/2");
  }();
  REQUIRE(rt.device_count() == 2);
  anycl::set_parallel(rt, anycl::Parallel::Auto);
  anycl::set_kernel_profiling(rt, true);
  // 256 tiles in one chunk: two or more runs of 64 each. Odd: asymmetric pads, 90 tiles an image.
  const ConvDesc square = {4, 32, 16, 16, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const ConvDesc odd = {3, 33, 19, 17, 44, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1, 1};
  for (const auto& weights : {std::vector<double>{1, 1}, std::vector<double>{3, 1}, std::vector<double>{1, 4}})
    for (const ConvDesc& r : {square, odd})
      for (const std::size_t cap : {std::size_t(256) << 20, std::size_t(4096)}) {
        INFO(describe(r) << " weights " << weights[0] << ":" << weights[1] << " workspace cap " << cap);
        anycl::set_device_weights(rt, weights);
        anycl::set_conv_workspace_limit(rt, cap);
        for (const ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData}) {
          const anycl::detail::Plan plan = anycl_test::conv_plan(rt, pass, to_anycl(r, false), std::nullopt, ConvAlgo::Winograd);
          REQUIRE(anycl_test::shared_of(plan).size() == 2);
          CHECK_FALSE(plan.shared.claimed);
        }
        anycl::clear_kernel_profile(rt);
        anycl_test::check_forward(r, ConvAlgo::Winograd, 1900, rt);
        anycl_test::check_backward_data(r, ConvAlgo::Winograd, 1910, rt);
        const std::vector<anycl::KernelTime> profile = anycl::kernel_profile(rt);
        CHECK(ran(profile, "wt_output"));
        CHECK(ran(profile, "gemm_tiled"));
        CHECK_FALSE(ran(profile, "winograd_tiles"));
        for (std::size_t device : {0, 1}) {
          INFO("device " << device);
          CHECK(std::any_of(profile.begin(), profile.end(), [&](const anycl::KernelTime& k) {
            return k.device == device && k.kernel == (cap > 4096 ? "wt_output" : "wt_filter");
          }));
        }
      }
  anycl::set_conv_workspace_limit(rt, std::size_t(256) << 20);
  // The caller's buffers on either device: the same pass, written in place.
  anycl::set_device_weights(rt, {1, 1});
  const anycl::Conv2d d = to_anycl(square, true);
  const auto x = anycl_test::random_values(square.x_size(), 21), w = anycl_test::random_values(square.w_size(), 22);
  const auto bias = anycl_test::random_values(std::size_t(square.k), 23);
  const auto ref = anycl_test::conv_forward(square, x, w, bias, true);
  const auto ref_abs = anycl_test::conv_forward(square, anycl_test::abs_of(x), anycl_test::abs_of(w),
                                                anycl_test::abs_of(bias), false);
  for (std::size_t home : {0, 1}) {
    INFO("buffers on device " << home);
    REQUIRE(anycl_test::shared_of(anycl_test::conv_plan(rt, ConvPass::Forward, d, home, ConvAlgo::Winograd)).size() == 2);
    auto upload = [&](const std::vector<float>& v) {
      anycl::Buffer b = rt.alloc(v.size() * sizeof(float), home);
      rt.write(b, v.data(), v.size() * sizeof(float));
      return b;
    };
    const anycl::Buffer X = upload(x), W = upload(w), B = upload(bias);
    const anycl::Buffer Y = upload(std::vector<float>(d.y_size(), std::nanf("")));
    anycl::clear_kernel_profile(rt);
    anycl::conv2d_forward(rt, d, X, W, &B, Y, ConvAlgo::Winograd).wait();
    std::vector<float> y(d.y_size());
    rt.read(Y, y.data(), y.size() * sizeof(float));
    CHECK(anycl_test::count_bad(y, ref, ref_abs, double(square.c) * 9, 16) == 0);
    CHECK(ran(anycl::kernel_profile(rt), "wt_output"));
  }
}
