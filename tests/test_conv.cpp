// Convolution against the plain C++ reference (tests/reference/conv_reference.hpp, accumulating
// in double): every pass and every applicable algorithm, forced one by one, over a sweep of
// stride, padding (including asymmetric), dilation, groups, filter sizes, odd spatial sizes and
// batch 1 and 3.
//
// The sweep, the checks and their tolerances: tests/conv_sweep.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <random>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "conv_sweep.hpp"
#include "ops/conv2d_winograd.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::ConvDesc;
using anycl_test::abs_of;
using anycl_test::count_bad;
using anycl_test::describe;
using anycl_test::random_values;
using anycl_test::to_anycl;
using anycl_test::algorithms_for;
using anycl_test::check_backward_data;
using anycl_test::check_backward_weights;
using anycl_test::check_forward;
using anycl_test::kCases;
using anycl_test::winograd_declines_backward_data;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

}  // namespace

TEST_CASE("conv2d forward matches the reference for every algorithm", "[conv]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : algorithms_for(to_anycl(kCases[i], false))) {
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      check_forward(kCases[i], algo, unsigned(100 + i), runtime());
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
      check_backward_data(kCases[i], algo, unsigned(200 + i), runtime());
    }
}

TEST_CASE("conv2d backward-weights matches the reference for every algorithm", "[conv]") {
  for (std::size_t i = 0; i < kCases.size(); ++i)
    for (ConvAlgo algo : algorithms_for(to_anycl(kCases[i], false))) {
      INFO(describe(kCases[i]) << " algorithm " << anycl::to_string(algo));
      check_backward_weights(kCases[i], algo, unsigned(300 + i), runtime());
    }
}

namespace {

using anycl_test::runtime_with_params;

// Winograd forward, backward-data and (with `weights`) backward-weights on every case of the sweep
// it applies to.
void check_winograd_sweep(anycl::Runtime& rt, unsigned seed, bool weights) {
  for (std::size_t i = 0; i < kCases.size(); ++i) {
    const anycl::Conv2d d = to_anycl(kCases[i], false);
    const auto algos = algorithms_for(d);
    if (std::find(algos.begin(), algos.end(), ConvAlgo::Winograd) == algos.end()) continue;
    INFO(describe(kCases[i]));
    check_forward(kCases[i], ConvAlgo::Winograd, unsigned(seed + i), rt);
    if (!winograd_declines_backward_data(kCases[i]))
      check_backward_data(kCases[i], ConvAlgo::Winograd, unsigned(seed + 100 + i), rt);
    if (weights) check_backward_weights(kCases[i], ConvAlgo::Winograd, unsigned(seed + 200 + i), rt);
  }
}

}  // namespace

// The Winograd filter transform takes a vector path when the GEMM's panel height MR is an
// OpenCL vector width; MR = 3 has none and takes the scalar one. The products share the GEMM's
// register tile: KU = 3 leaves a k-loop tail for most channel counts.
// Each Winograd family pins a tile of its own (the table sets it for the family), none the GEMM's.
TEST_CASE("conv2d Winograd with MR = 3 and KU = 3 beside another GEMM tile matches the reference", "[conv]") {
  anycl_test::TempDir dir;
  for (int m : {2, 4}) {
    INFO("WINO_M " << m);
    const auto rt = runtime_with_params(dir, R"({"gemm_packed_f32": {"MR": 6, "NR": 16, "VW": 8, "KU": 2},
                                                  "conv_winograd_weights": {"MR": 4, "NR": 8, "VW": 4, "KU": 1},
                                                  "conv_winograd": {"MR": 3, "NR": 8, "VW": 4, "KU": 3, "WINO_M": )" +
                                                 std::to_string(m) + "}}");
    const std::string options = anycl_test::build_options(*rt, "conv_winograd");
    REQUIRE(anycl_test::contains(options, "-DMR=3 "));  // the parameters really reached the build
    REQUIRE(anycl_test::contains(options, "-DKU=3 "));
    REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "gemm_packed_f32"), "-DMR=6 "));
    REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_winograd_weights"), "-DMR=4 "));
    REQUIRE(anycl_test::contains(options + " ", "-DWINO_M=" + std::to_string(m) + " "));
    check_winograd_sweep(*rt, 400, true);
  }
}

// Winograd backward-weights on NCHW tensors, read in place (STAGE 1: runs of tiles along the input
// rows, VW channels a vector) and staged channels-last (STAGE 2, one image a chunk under a small
// workspace limit), with 8 tiles a pass through local memory and 4 groups a compute unit, so the
// tiles are cut into segments and passes that start mid-row and cross images: odd sizes,
// asymmetric pads, channel counts off the vector and panel widths, rows longer than a run of 16
// tiles. Each call is repeated and must give the same bits.
TEST_CASE("conv2d Winograd backward-weights reads NCHW in place and staged alike", "[conv]") {
  anycl_test::TempDir dir;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{2, 21, 15, 30, 19, 3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1},
                             {3, 40, 11, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                             {1, 17, 28, 57, 9, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1, 1}};
  for (int stage : {1, 2}) {
    INFO("STAGE " << stage);
    const auto rt = runtime_with_params(
        dir, R"({"conv_winograd_weights": {"TC": 8, "GROUPS_PER_CU": 4, "STAGE": )" + std::to_string(stage) + "}}");
    REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_winograd_weights") + " ",
                                 "-DSTAGE=" + std::to_string(stage) + " "));
    if (stage == 2) anycl::set_conv_workspace_limit(*rt, 4096);  // one image a chunk
    for (std::size_t i = 0; i < std::size(shapes); ++i) {
      const ConvDesc& r = shapes[i];
      INFO(describe(r));
      check_backward_weights(r, ConvAlgo::Winograd, unsigned(900 + i), *rt);
      const auto x = random_values(r.x_size(), unsigned(950 + i)), dy = random_values(r.y_size(), unsigned(960 + i));
      std::vector<float> first(r.w_size()), again(r.w_size(), std::nanf(""));
      const anycl::Conv2d d = to_anycl(r, false);
      anycl::conv2d_backward_weights(*rt, d, x.data(), dy.data(), first.data(), nullptr, ConvAlgo::Winograd);
      anycl::conv2d_backward_weights(*rt, d, x.data(), dy.data(), again.data(), nullptr, ConvAlgo::Winograd);
      CHECK(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) == 0);
    }
  }
}

// NCHW rows at least a vector wide take the tiles in the lanes (conv_winograd_weights.cl): rows
// exactly 16 wide (the widest vector) and wider, pads on either side, channels and output channels
// off the vector and panel widths; chunks of tiles (TC) a multiple of 16 and not, so that runs end
// inside a vector at a tile row's end, at an image's and at the chunk's.
TEST_CASE("conv2d Winograd backward-weights with the tiles in the lanes matches the reference", "[conv]") {
  anycl_test::TempDir dir;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{2, 19, 12, 16, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                             {1, 35, 9, 47, 21, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1},
                             {3, 8, 7, 33, 40, 3, 3, 1, 1, 2, 1, 0, 1, 1, 1, 1}};
  for (int tc : {40, 64}) {
    INFO("TC " << tc);
    const auto rt = runtime_with_params(dir, R"({"conv_winograd_weights": {"TC": )" + std::to_string(tc) + "}}");
    for (std::size_t i = 0; i < std::size(shapes); ++i) {
      INFO(describe(shapes[i]));
      check_backward_weights(shapes[i], ConvAlgo::Winograd, unsigned(970 + i), *rt);
    }
  }
}

// The packed path (PACKED_MIN_CHANNELS 1: every NCHW call takes it): x and dy transformed once into
// panels of every tile, the products reducing over all of them. Odd sizes, asymmetric pads,
// channel counts off the vector and panel widths, more tiles than a packing work-item's 16 and an
// image row of tiles longer than that; with a bias. Each call is repeated and must give the same bits.
TEST_CASE("conv2d Winograd backward-weights on the packed path matches the reference", "[conv]") {
  anycl_test::TempDir dir;
  const auto rt = runtime_with_params(dir, R"({"conv_winograd_weights": {"PACKED_MIN_CHANNELS": 1}})");
  REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_winograd_weights") + " ",
                               "-DPACKED_MIN_CHANNELS=1 "));
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{2, 21, 15, 30, 19, 3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1},
                             {3, 40, 11, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                             {1, 17, 28, 57, 9, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1, 1}};
  for (std::size_t i = 0; i < std::size(shapes); ++i) {
    const ConvDesc& r = shapes[i];
    INFO(describe(r));
    anycl::set_kernel_profiling(*rt, true);
    check_backward_weights(r, ConvAlgo::Winograd, unsigned(980 + i), *rt);
    bool packed = false;
    for (const anycl::KernelTime& k : anycl::kernel_profile(*rt))
      packed = packed || k.kernel == "winograd_bwdw_products";
    CHECK(packed);
    anycl::set_kernel_profiling(*rt, false);
    anycl::clear_kernel_profile(*rt);
    const auto x = random_values(r.x_size(), unsigned(985 + i)), dy = random_values(r.y_size(), unsigned(990 + i));
    std::vector<float> first(r.w_size()), again(r.w_size(), std::nanf(""));
    const anycl::Conv2d d = to_anycl(r, false);
    anycl::conv2d_backward_weights(*rt, d, x.data(), dy.data(), first.data(), nullptr, ConvAlgo::Winograd);
    anycl::conv2d_backward_weights(*rt, d, x.data(), dy.data(), again.data(), nullptr, ConvAlgo::Winograd);
    CHECK(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) == 0);
  }
}

// A data-parallel replica on a sub-device must sum its dw as the whole device does (2 MPI ranks on
// whole devices are bitwise one process on cpu/2): the tiles are cut into segments by the whole
// device's compute units, so the shape below runs segments of several tile passes each (summed by
// winograd_bwdw_output) on both.
TEST_CASE("conv2d Winograd backward-weights: the same bits on the whole device and a sub-device", "[conv]") {
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc r{2, 40, 24, 24, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const anycl::Conv2d d = to_anycl(r, false);
  const auto x = random_values(r.x_size(), 970), dy = random_values(r.y_size(), 971);
  auto dw_on = [&](anycl::Runtime& rt) {
    anycl::set_kernel_profiling(rt, true);
    std::vector<float> dw(r.w_size());
    anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), nullptr, ConvAlgo::Winograd);
    bool summed = false;
    for (const anycl::KernelTime& k : anycl::kernel_profile(rt)) summed = summed || k.kernel == "winograd_bwdw_output";
    CHECK(summed);
    anycl::set_kernel_profiling(rt, false);
    anycl::clear_kernel_profile(rt);
    return dw;
  };
  anycl::Runtime halves("cpu/2");
  REQUIRE(halves.device_count() == 2);
  REQUIRE(halves.device(0).compute_units < runtime().device(0).compute_units);
  check_backward_weights(r, ConvAlgo::Winograd, 972, runtime());
  const std::vector<float> whole = dw_on(runtime()), half = dw_on(halves);
  CHECK(std::memcmp(whole.data(), half.data(), whole.size() * sizeof(float)) == 0);
}

// Both output tile sizes on the device's own GEMM layout, forward and backward-data, each to its
// own bound (16 and 128, anycl_test::winograd_factor): the table picks one per device, so each
// runs here whatever it says.
TEST_CASE("conv2d Winograd F(2x2) and F(4x4) both match the reference", "[conv]") {
  anycl_test::TempDir dir;
  for (int m : {2, 4}) {
    INFO("WINO_M " << m);
    const auto rt = runtime_with_params(dir, R"({"conv_winograd": {"WINO_M": )" + std::to_string(m) + "}}");
    const std::string options = anycl_test::build_options(*rt, "conv_winograd") + " ";
    REQUIRE(anycl_test::contains(options, "-DWINO_M=" + std::to_string(m) + " "));
    CHECK(anycl_test::winograd_factor(*rt) == (m == 2 ? 16 : 128));
    anycl_test::worst_error_ratio() = 0;
    check_winograd_sweep(*rt, 700, false);  // backward-weights is F(2x2) whatever WINO_M
    // Channels past one pass through local memory (KC is at most 128 in the shipped tables), so
    // the products are summed over chunks, and a reduction long enough for the bound to matter.
    // n c h w k r s sh sw pt pl pb pr dh dw g
    // The last: a 7x7 output whose tiles fill one panel, so its output channels are split over
    // several work-groups (winograd_row_groups) on a device of two or more compute units.
    for (const ConvDesc& r : {ConvDesc{2, 300, 10, 9, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                              ConvDesc{1, 40, 13, 14, 300, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1},
                              ConvDesc{2, 72, 7, 7, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}}) {
      INFO(describe(r));
      check_forward(r, ConvAlgo::Winograd, 800, *rt);
      check_backward_data(r, ConvAlgo::Winograd, 801, *rt);
    }
    // How much of the factor the worst element used (docs/reliability.md, "Winograd accuracy");
    // shown by ctest --verbose.
    std::printf("Winograd F(%dx%d): worst error / ((L + 2) eps sum|terms|) = %.3g\n", m, m,
                anycl_test::worst_error_ratio());
  }
}

// The filter transform inside the tile kernel (winograd_tiles_fused, few tile panels), apart
// (winograd_filter_transform, then winograd_tiles) and staged (the filters transformed plain, V and
// the products through global memory, the products one batched GEMM), each forced by
// WINOGRAD_FUSE_PANELS and WINOGRAD_STAGED_CHANNELS, at both tile sizes: FC 3 cuts each pass
// through local memory (KC) into steps of 3 channels of filters with a partial last one; output
// channels split over work-groups (7x7), several channel chunks; 35 output channels leave the
// staged filter transform a partial row panel, and 300 input channels a partial FT_J block. Fused
// with the output channels split over work-groups, V is transformed once beforehand
// (winograd_input_staged) and copied in.
TEST_CASE("conv2d Winograd transforms the filters in the tile kernel, apart or staged alike", "[conv]") {
  using namespace anycl::detail;
  anycl_test::TempDir dir;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{2, 72, 7, 7, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                             {2, 300, 10, 9, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                             {1, 40, 13, 14, 35, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1}};
  enum class Form { Fused, Apart, Staged };
  for (int m : {2, 4})
    for (Form form : {Form::Fused, Form::Apart, Form::Staged}) {
      const char* name = form == Form::Fused ? "fused" : form == Form::Apart ? "apart" : "staged";
      INFO("WINO_M " << m << ", " << name);
      const auto rt = runtime_with_params(
          dir, R"({"conv_winograd": {"FC": 3, "WINO_M": )" + std::to_string(m) + R"(, "WINOGRAD_FUSE_PANELS": )" +
                   (form == Form::Fused ? "4096" : "1") + R"(, "WINOGRAD_STAGED_CHANNELS": )" +
                   (form == Form::Staged ? "1" : "4096") + "}}");
      anycl::set_kernel_profiling(*rt, true);
      for (std::size_t i = 0; i < std::size(shapes); ++i) {
        INFO(describe(shapes[i]));
        anycl::clear_kernel_profile(*rt);
        check_forward(shapes[i], ConvAlgo::Winograd, unsigned(1000 + i), *rt);
        check_backward_data(shapes[i], ConvAlgo::Winograd, unsigned(1010 + i), *rt);
        bool ran_fused = false, ran_tiles = false, ran_input = false, ran_output = false;
        for (const anycl::KernelTime& k : anycl::kernel_profile(*rt)) {
          ran_fused = ran_fused || k.kernel == "winograd_tiles_fused";
          ran_tiles = ran_tiles || k.kernel == "winograd_tiles";
          ran_input = ran_input || k.kernel == "winograd_input_staged";
          ran_output = ran_output || k.kernel == "winograd_output_staged";
        }
        const DeviceSlot& slot = engine(*rt).slot(0);
        const ConvGeom g(to_anycl(shapes[i], false));
        bool split = false;  // in either pass
        for (const WinogradPlan& plan : {winograd_forward_plan(g), winograd_backward_data_plan(g)}) {
          const WinogradLayout lay(slot, plan);
          split = split || winograd_row_groups(lay, lay.tile_panels(g.n), slot.info.compute_units) > 1;
        }
        if (i == 0 && slot.info.compute_units >= 2) CHECK(split);  // one tile panel of 7x7 outputs
        CHECK(ran_fused == (form == Form::Fused));
        CHECK(ran_tiles == (form == Form::Apart));
        CHECK(ran_input == (form == Form::Staged || (form == Form::Fused && split)));
        CHECK(ran_output == (form == Form::Staged));
      }
    }
}

// Tile panels too few for the compute units are shared by several work-groups, each taking a
// part of the output channels; enough panels keep one group a panel. The 7x7 case above runs
// split on this machine's device (two or more compute units).
TEST_CASE("conv2d Winograd splits the output channels of few tile panels over work-groups", "[conv]") {
  using namespace anycl::detail;
  anycl::Runtime rt("");
  const DeviceSlot& slot = engine(rt).slot(0);
  if (winograd_form(slot) != WinogradForm::Panels) {
    WARN("device 0 runs the tiled (GPU-class) Winograd form: no tile panels to split");
    return;
  }
  anycl::Conv2d d = to_anycl(ConvDesc{2, 72, 7, 7, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false);
  const WinogradLayout lay(slot, winograd_forward_plan(ConvGeom(d)));
  REQUIRE(lay.row_panels >= 4);
  CHECK(winograd_row_groups(lay, 1, 1) == 1);  // one unit: nothing to balance
  CHECK(winograd_row_groups(lay, 1, 2) >= 2);
  CHECK(winograd_row_groups(lay, 1, 4) >= 4);
  CHECK(winograd_row_groups(lay, 2, 2) == 1);   // a panel per unit already
  CHECK(winograd_row_groups(lay, 64, 2) == 1);
  CHECK(winograd_row_groups(lay, 1, 2) <= lay.row_panels);
  REQUIRE(slot.info.compute_units >= 2);  // the split path of the case above ran
  CHECK(winograd_row_groups(lay, lay.tile_panels(d.n), slot.info.compute_units) >= 2);
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
                    anycl_test::conv_forward(r, abs_of(x), abs_of(w), {}, false), 45,
                    anycl_test::tolerance_factor(rt, d, algo, anycl::ConvPass::Forward)) == 0);
    anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx.data(), algo);
    CHECK(count_bad(dx, anycl_test::conv_backward_data(r, dy, w), anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w)),
                    63, anycl_test::tolerance_factor(rt, d, algo, anycl::ConvPass::BackwardData)) == 0);
  }
  std::vector<float> ref_w, ref_b, abs_w, abs_b;
  anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
  anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
  for (ConvAlgo algo : {ConvAlgo::Im2col, ConvAlgo::Winograd}) {  // chunks accumulate into dw (Winograd: into M)
    INFO(anycl::to_string(algo));
    std::vector<float> dw(r.w_size()), db(r.k);
    anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), db.data(), algo);
    CHECK(count_bad(dw, ref_w, abs_w, 3 * 81, algo == ConvAlgo::Winograd ? 16 : 2) == 0);
    CHECK(count_bad(db, ref_b, abs_b, 3 * 81, 2) == 0);
  }
  // Pointwise Gemm1x1 folds the chunk's images into one GEMM: chunk edges inside a panel.
  const ConvDesc pw{3, 5, 7, 5, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  const auto xp = random_values(pw.x_size(), 4), wp = random_values(pw.w_size(), 5);
  std::vector<float> yp(pw.y_size());
  anycl::conv2d_forward(rt, to_anycl(pw, false), xp.data(), wp.data(), nullptr, yp.data(), ConvAlgo::Gemm1x1);
  CHECK(count_bad(yp, anycl_test::conv_forward(pw, xp, wp, {}, false),
                  anycl_test::conv_forward(pw, abs_of(xp), abs_of(wp), {}, false), 5, 2) == 0);
}

// Depthwise outputs larger than the device's cache, in rows of whole cache lines, are stored
// non-temporally (DW_STREAM, conv_depthwise.cl): forward and backward-data at stride 2 with 64-wide
// outputs (256-byte rows) over enough planes that the output outgrows the cache the device reports.
TEST_CASE("conv2d depthwise outputs above the device's cache are stored non-temporally and match the reference",
          "[conv]") {
  anycl_test::TempDir dir;
  const auto rt = runtime_with_params(dir, R"({"conv_depthwise": {"DW_STREAM": 1}})");
  REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_depthwise") + " ", "-DDW_STREAM=1 "));
  const anycl::DeviceInfo& dev = rt->device(0);
  INFO(dev.name << ": cache " << dev.global_mem_cache << " bytes, lines of " << dev.global_mem_cacheline);
  REQUIRE(dev.global_mem_cache > 0);
  REQUIRE(dev.global_mem_cacheline > 0);
  REQUIRE(256 % dev.global_mem_cacheline == 0);
  const int planes = int(dev.global_mem_cache / (64 * 64 * sizeof(float))) + 1, c = (planes + 1) / 2;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc forward{2, c, 64, 64, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c};
  const ConvDesc strided{2, c, 64, 64, c, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, c};
  REQUIRE(forward.y_size() * sizeof(float) > dev.global_mem_cache);
  REQUIRE(strided.x_size() * sizeof(float) > dev.global_mem_cache);
  check_forward(forward, ConvAlgo::Direct, 995, *rt);
  check_backward_data(strided, ConvAlgo::Direct, 996, *rt);
}

// Depthwise backward-weights in several sweeps over the data (DW_TAPS 9: one filter row of a
// 5x5 a sweep, three of a 3x3 in one), on planes read in place and on rows past DW_DIRECT vectors
// (staged).
TEST_CASE("conv2d depthwise backward-weights in sweeps of filter rows matches the reference", "[conv]") {
  anycl_test::TempDir dir;
  const auto rt = runtime_with_params(dir, R"({"conv_depthwise": {"DW_TAPS": 9}})");
  REQUIRE(anycl_test::contains(anycl_test::build_options(*rt, "conv_depthwise") + " ", "-DDW_TAPS=9 "));
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc cases[] = {
      {2, 5, 13, 21, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 5},     // 5x5, in place
      {2, 4, 15, 33, 4, 5, 5, 2, 2, 2, 1, 2, 2, 1, 1, 4},     // 5x5 stride 2, odd left pad
      {1, 3, 9, 300, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3},     // 5x5, rows past DW_DIRECT vectors (staged)
      {3, 6, 11, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},     // 3x3: one sweep
  };
  int seed = 997;
  for (const ConvDesc& c : cases) {
    INFO("c " << c.c << ", " << c.h << "x" << c.w << ", " << c.r << "x" << c.s << ", stride " << c.stride_h);
    check_backward_weights(c, ConvAlgo::Direct, seed++, *rt);
  }
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

// col2im at every width of its search space (32: two 16-column blocks a work-item) and at 6, a width
// its stride-2 vector path does not take (the generic loop): wide stride-2 planes below the size
// where phases replace col2im, so whole vector runs in the middle of the rows and masked ones at
// both edges and at the right end.
TEST_CASE("conv2d Im2col backward-data by col2im matches the reference at every C2I_VW, prefetching ahead", "[conv]") {
  anycl_test::TempDir dir;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{2, 3, 9, 70, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},    // 3x3 pad 1, odd height
                             {1, 4, 12, 61, 3, 3, 3, 2, 2, 0, 2, 1, 0, 1, 1, 1},   // asymmetric pads
                             {2, 3, 13, 45, 4, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // 7x7
                             {1, 4, 10, 50, 6, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2},   // 4x4, groups 2
                             {1, 3, 11, 40, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1}};  // dilation 2: generic loop
  // C2I_AHEAD only prefetches, so each width runs with some distance: results must not change.
  const std::pair<int, int> widths_and_ahead[] = {{4, 1}, {6, 2}, {8, 4}, {16, 1}, {32, 2}};
  for (const auto& [vw, ahead] : widths_and_ahead) {
    INFO("C2I_VW " << vw << ", C2I_AHEAD " << ahead);
    const auto rt = runtime_with_params(dir, R"({"conv_im2col": {"C2I_VW": )" + std::to_string(vw) +
                                                 R"(, "C2I_AHEAD": )" + std::to_string(ahead) + "}}");
    const std::string options = anycl_test::build_options(*rt, "conv_im2col") + " ";
    REQUIRE(anycl_test::contains(options, "-DC2I_VW=" + std::to_string(vw) + " "));
    REQUIRE(anycl_test::contains(options, "-DC2I_AHEAD=" + std::to_string(ahead) + " "));
    for (std::size_t i = 0; i < std::size(shapes); ++i) {
      INFO(describe(shapes[i]));
      check_backward_data(shapes[i], ConvAlgo::Im2col, unsigned(900 + i), *rt);
    }
  }
}

// Im2col backward passes in chunks of images bounded by C2I_MAX_COL (col floats) and BWW_MAX_K
// (reduction pixels over gathered x): one image a chunk, uneven chunks (5 images by 2: 2, 2 and 1)
// and one chunk; each backward-weights launch after the first adds to dw and dbias.
TEST_CASE("conv2d Im2col backward passes in chunks of C2I_MAX_COL and BWW_MAX_K match the reference", "[conv]") {
  anycl_test::TempDir dir;
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc shapes[] = {{5, 6, 15, 16, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // 3x3 stride 2, 8x8 dy
                             {5, 4, 9, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2}};  // stride 1, groups 2
  for (int images : {1, 2, 1 << 10}) {
    INFO("images a chunk " << images);
    for (std::size_t i = 0; i < std::size(shapes); ++i) {
      const ConvDesc& r = shapes[i];
      INFO(describe(r));
      const std::size_t col = std::size_t(r.c / r.groups) * r.r * r.s * r.out_h() * r.out_w();
      const std::size_t pixels = std::size_t(r.out_h()) * r.out_w();
      const auto rt = runtime_with_params(dir, R"({"conv_im2col": {"C2I_MAX_COL": )" + std::to_string(col * images) +
                                                   R"(, "BWW_MAX_K": )" + std::to_string(pixels * images) + "}}");
      check_backward_data(r, ConvAlgo::Im2col, unsigned(950 + i), *rt);
      check_backward_weights(r, ConvAlgo::Im2col, unsigned(960 + i), *rt);
    }
  }
}
