// Convolution on the GPU-class path (the tiled GEMM family forced, so conv_direct_wg and
// conv_winograd_tiled are built too) on the Oclgrind simulator: every pass and algorithm on small
// shapes (groups, stride, dilation, padding, 1x1, depthwise, batch 2) in the default
// configuration, then on two of them in sampled configurations: gemm_tiled configurations of its
// search space, and direct work-groups of 8x2 and 4x4 staging one and three 3x3 channels' taps a
// step. ctest runs it under
// `oclgrind --data-races --uninitialized` (entry test_conv_tiled_oclgrind_oclgrind), which fails
// on any Oclgrind report; results are checked against the double reference with the tolerances
// of tests/conv_sweep.hpp. Hidden ([.oclgrind]): it needs the Oclgrind device
// (tests/oclgrind/oclgrind_runtime.hpp).
#include <catch2/catch.hpp>

#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "conv_sweep.hpp"
#include "oclgrind/oclgrind_runtime.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::ConvDesc;
using anycl_test::describe;
using anycl_test::to_anycl;
using anycl::detail::ParamSet;

anycl::Runtime& runtime() { return anycl_test::oclgrind_runtime(anycl_test::OclgrindGemm::Tiled); }

// n c h w k r s sh sw pt pl pb pr dh dw g
const std::vector<ConvDesc> kSmall = {
    {2, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // 3x3 pad 1, batch 2: every algorithm
    {1, 4, 5, 5, 2, 3, 3, 2, 2, 1, 0, 1, 1, 2, 1, 2},  // stride 2, dilation, asymmetric pads, groups 2
    {2, 3, 3, 3, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // 1x1
    {1, 2, 5, 4, 2, 3, 3, 2, 1, 1, 0, 1, 1, 1, 1, 2},  // depthwise
};

// Every pass and applicable algorithm on `shapes`.
void check_every_pass(const std::vector<ConvDesc>& shapes, unsigned seed) {
  anycl::Runtime& rt = runtime();
  REQUIRE(anycl::detail::engine(rt).slot(0).has_program("conv_direct_wg"));
  for (std::size_t i = 0; i < shapes.size(); ++i)
    for (ConvAlgo algo : anycl_test::algorithms_for(to_anycl(shapes[i], false))) {
      if (algo == ConvAlgo::Auto) continue;
      const unsigned s = seed + unsigned(10 * i);
      INFO(describe(shapes[i]) << " algorithm " << anycl::to_string(algo));
      anycl_test::check_forward(shapes[i], algo, s, rt);
      anycl_test::check_backward_data(shapes[i], algo, s + 1, rt);
      if (algo != ConvAlgo::Winograd) anycl_test::check_backward_weights(shapes[i], algo, s + 2, rt);
    }
}

// The samples: the first shape runs every algorithm (each tiled GEMM use, Winograd, direct), the
// depthwise one the direct kernels with groups; the simulator's time is what limits them.
std::vector<ConvDesc> sample_shapes() { return {kSmall[0], kSmall[3]}; }

ParamSet gemm_sample(const ParamSet& want) { return anycl_test::space_sample(runtime(), "gemm_tiled", want); }
void install(const std::string& variant, const ParamSet& config) { anycl_test::install(runtime(), variant, config); }

}  // namespace

TEST_CASE("oclgrind: GPU-class convolution in the default configuration", "[.oclgrind]") { check_every_pass(kSmall, 1); }

TEST_CASE("oclgrind: GPU-class convolution sample: strided 64x32 GEMM tiles and 8x2 direct groups", "[.oclgrind]") {
  install("gemm_tiled_f32", gemm_sample({{"VWM", 1}, {"MWG", 64}, {"NWG", 32}, {"STRM", 1}, {"SA", 1}}));
  install("conv_direct_wg", {{"DIR_WG_Q", 8}, {"DIR_WG_P", 2}, {"DIR_WSTAGE", 9}});
  check_every_pass(sample_shapes(), 100);
}

TEST_CASE("oclgrind: GPU-class convolution sample: global-read GEMM tiles and 4x4 direct groups", "[.oclgrind]") {
  install("gemm_tiled_f32", gemm_sample({{"SA", 0}, {"SB", 0}, {"VWM", 2}, {"MWG", 32}}));
  install("conv_direct_wg", {{"DIR_WG_Q", 4}, {"DIR_WG_P", 4}, {"DIR_WSTAGE", 32}});
  check_every_pass(sample_shapes(), 200);
}
