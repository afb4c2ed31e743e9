// anycl::tune on the convolution families and the dispatch thresholds, on POCL: a Winograd space
// holding a candidate that does not build and one that answers wrong (a damaged kernel copy),
// the tuned entry a fresh runtime picks up and computes correct results with (against the
// double reference of tests/reference), the same for the GPU-class families with the tiled
// family forced, each convolution family's defaults passing the check, a family refused where
// its algorithm runs the other form's kernels, thresholds from a tuned file changing the
// dispatch, and the dispatch ladders setting them.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "anycl/anycl.hpp"
#include "anycl/tune.hpp"
#include "conv_check.hpp"
#include "support.hpp"

using anycl_test::contains;
using anycl_test::ScopedEnv;
using anycl_test::TempDir;
using nlohmann::json;

namespace {

anycl::Conv2d layer(std::size_t n, std::size_t c, std::size_t hw, std::size_t k, std::size_t groups = 1) {
  anycl::Conv2d d;
  d.n = n, d.c = c, d.h = d.w = hw, d.k = k, d.r = d.s = 3, d.groups = groups;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  return d;
}

// A kernel file damaged in a copy of the kernel folder: candidates with `fails` do not build, and
// `store` becomes `damaged` (which scales what it writes under some other candidate).
struct Damage {
  std::string file, store, damaged, before, fails;
};

void damage(const std::string& dir, const Damage& d) {
  const std::string path = dir + "/" + d.file;
  std::string text = anycl_test::slurp(path);
  REQUIRE(text.find(d.store) != std::string::npos);
  REQUIRE(text.find(d.before) != std::string::npos);
  text.replace(text.find(d.store), d.store.size(), d.damaged);
  text.insert(text.find(d.before), "#if " + d.fails + "\n#error a candidate that does not build\n#endif\n");
  anycl_test::spit(path, text);
}

// conv_winograd that fails to build with KC=8 and scales y by 1.25 with KC=32.
void damaged_winograd(const std::string& dir) {
  anycl_test::copy_kernel_dir(dir);
  damage(dir, {"conv_winograd.cl", "= o[i * WINO_M + j][c] + bv;",
               "= (KC == 32 ? (REAL)1.25 : (REAL)1) * o[i * WINO_M + j][c] + bv;",
               "#ifndef WINOGRAD_MIN_CHANNELS", "KC == 8"});
}

// Whether `options` define `name` as `value` (not a longer number).
bool defines(const std::string& options, const std::string& name, long value) {
  const std::string want = "-D" + name + "=" + std::to_string(value);
  const std::size_t at = options.find(want);
  return at != std::string::npos && (at + want.size() == options.size() || options[at + want.size()] == ' ');
}

// Forward on the device against the double reference, allowing Winograd's error.
std::size_t wrong_elements(anycl::Runtime& rt, const anycl::Conv2d& d, anycl::ConvAlgo algo) {
  anycl_test::ConvDesc r;
  r.n = int(d.n), r.c = int(d.c), r.h = int(d.h), r.w = int(d.w), r.k = int(d.k), r.r = int(d.r), r.s = int(d.s);
  r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = int(d.pad_top), r.groups = int(d.groups);
  const auto x = anycl_test::random_values<float>(d.x_size(), 5), w = anycl_test::random_values<float>(d.w_size(), 6);
  std::vector<float> y(d.y_size());
  anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data(), algo);
  return anycl_test::count_bad(y, anycl_test::conv_forward(r, x, w, {}, false),
                               anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), {}, false),
                               double(d.c / d.groups * 9),
                               anycl_test::tolerance_factor(rt, d, algo, anycl::ConvPass::Forward));
}

}  // namespace

TEST_CASE("anycl::tune on conv_winograd skips broken candidates and a fresh runtime uses the best", "[tune]") {
  TempDir dir("anycl-tune-conv");
  damaged_winograd(dir / "kernels");
  anycl_test::spit(dir / "space.json", R"({"values": {"KC": [16, 8, 32]}})");
  ScopedEnv kernels("ANYCL_KERNEL_PATH", dir / "kernels");
  ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  ScopedEnv all("ANYCL_PARAMS", std::nullopt);
  {
    anycl::Runtime rt("pocl");
    anycl::TuneOptions opts;
    opts.family = "conv_winograd";
    opts.space_file = dir / "space.json";
    opts.conv_layers = {layer(1, 32, 10, 32)};
    std::vector<double> best_so_far;
    opts.on_progress = [&](const anycl::TuneProgress& p) { best_so_far.push_back(p.best_gflops); };
    const anycl::TuneResult r = anycl::tune(rt, 0, opts);
    REQUIRE(r.trials.size() == 3);
    CHECK(best_so_far.size() == 3);
    CHECK(best_so_far.back() == r.trials[std::size_t(r.best)].gflops);
    for (const anycl::TuneTrial& t : r.trials) {
      INFO("KC " << t.params.at("KC") << ": " << t.status << " " << t.message);
      const long kc = t.params.at("KC");
      CHECK(t.status == (kc == 8 ? "build_failed" : kc == 32 ? "wrong_result" : "ok"));
    }
    REQUIRE(r.best >= 0);
    CHECK(r.trials[std::size_t(r.best)].params.at("KC") == 16);
    const json doc = json::parse(anycl_test::slurp(r.params_file));
    CHECK(doc["entries"][0]["params"]["conv_winograd"]["KC"] == 16);
    CHECK(contains(anycl::tuned_entry_json(rt, 0), "\"conv_winograd\""));
    const anycl::TuneResult again = anycl::tune(rt, 0, opts);  // resumed: nothing runs again
    REQUIRE(again.trials.size() == 3);
    CHECK(best_so_far.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(again.trials[i].resumed);
      CHECK(again.trials[i].status == r.trials[i].status);
    }
  }
  anycl::Runtime fresh("pocl");
  CHECK(contains(anycl_test::build_options(fresh, "conv_winograd"), "-DKC=16 "));
  CHECK(wrong_elements(fresh, layer(2, 40, 9, 36), anycl::ConvAlgo::Winograd) == 0);
  ScopedEnv shipped("ANYCL_PARAMS", std::string("shipped"));
  const std::string shipped_options = anycl_test::build_options(anycl::Runtime("pocl"), "conv_winograd");
  CHECK(contains(shipped_options, "-DKC="));
  CHECK_FALSE(contains(shipped_options, "-DKC=16 "));
}

namespace {

bool ran(anycl::Runtime& rt, const std::string& kernel) {
  for (const anycl::KernelTime& k : anycl::kernel_profile(rt))
    if (k.kernel == kernel) return true;
  return false;
}

// A GPU-class family's damaged copy, tiny space and the problems it is timed and then used on.
struct GpuFamily {
  std::string variant, space, tunable;
  long broken, wrong;  // the tunable's values that do not build, and that answer wrong
  anycl::Conv2d timed;
  std::vector<anycl::Conv2d> used;
  anycl::ConvAlgo algo;
  std::string kernel;  // what the used problems must run
};

std::vector<GpuFamily> gpu_families(const std::string& kernels) {
  damage(kernels, {"conv_winograd_tiled.cl", "yo[p * ow + q] = relu ? fmax(val, (REAL)0) : val;",
                   "yo[p * ow + q] = (WT_LWS == 32 ? (REAL)1.25 : (REAL)1) * (relu ? fmax(val, (REAL)0) : val);",
                   "#ifndef WT_LWS", "WT_LWS == 16"});
  damage(kernels, {"conv_direct_wg.cl", "* Q + q] = acc;", "* Q + q] = (DIR_WG_Q == 8 ? (REAL)1.25 : (REAL)1) * acc;",
                   "#ifndef DIR_WG_Q", "DIR_WG_Q == 4"});
  return {{"conv_winograd_tiled", R"({"values": {"WT_LWS": [64, 16, 32, 128]}})", "WT_LWS", 16, 32, layer(1, 32, 10, 32),
           {layer(2, 40, 9, 36)}, anycl::ConvAlgo::Winograd, "wt_output"},
          {"conv_direct_wg", R"({"values": {"DIR_WG_Q": [16, 4, 8, 32], "DIR_WG_P": [4], "DIR_WSTAGE": [256]}})",
           "DIR_WG_Q", 4, 8, layer(1, 16, 12, 16, 4), {layer(2, 16, 11, 24, 4), layer(2, 24, 13, 24, 24)},
           anycl::ConvAlgo::Direct, "conv_direct_wg_fwd"}};
}

// The error anycl::tune throws for `family` on `rt`, "" when none.
std::string tune_error(anycl::Runtime& rt, const std::string& family, anycl::Status want) {
  anycl::TuneOptions opts;
  opts.family = family;
  opts.conv_layers = {layer(1, 32, 10, 32)};
  try {
    anycl::tune(rt, 0, opts);
  } catch (const anycl::Error& e) {
    CHECK(e.status() == want);
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("anycl::tune on the GPU-class convolution families with the tiled family forced skips broken candidates", "[tune]") {
  TempDir dir("anycl-tune-conv-gpu");
  anycl_test::copy_kernel_dir(dir / "kernels");
  const std::vector<GpuFamily> families = gpu_families(dir / "kernels");
  ScopedEnv kernels("ANYCL_KERNEL_PATH", dir / "kernels");
  ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  ScopedEnv all("ANYCL_PARAMS", std::nullopt);
  std::map<std::string, long> best;
  {
    ScopedEnv forced("ANYCL_GEMM_FAMILY", std::string("tiled"));
    anycl::Runtime rt("pocl");
    for (const GpuFamily& f : families) {
      INFO(f.variant);
      anycl_test::spit(dir / "space.json", f.space);
      anycl::TuneOptions opts;
      opts.family = f.variant;
      opts.space_file = dir / "space.json";
      opts.conv_layers = {f.timed};
      const anycl::TuneResult r = anycl::tune(rt, 0, opts);
      REQUIRE(r.trials.size() == 4);
      for (const anycl::TuneTrial& t : r.trials) {
        const long v = t.params.at(f.tunable);
        INFO(f.tunable << " " << v << ": " << t.status << " " << t.message);
        CHECK(t.status == (v == f.broken ? "build_failed" : v == f.wrong ? "wrong_result" : "ok"));
      }
      REQUIRE(r.best >= 0);
      best[f.variant] = r.trials[std::size_t(r.best)].params.at(f.tunable);
      CHECK(best[f.variant] != f.broken);
      CHECK(best[f.variant] != f.wrong);
      const json doc = json::parse(anycl_test::slurp(r.params_file));
      CHECK(doc["entries"][0]["params"][f.variant][f.tunable] == best[f.variant]);
      const anycl::TuneResult again = anycl::tune(rt, 0, opts);  // resumed: nothing runs again
      REQUIRE(again.trials.size() == 4);
      for (const anycl::TuneTrial& t : again.trials) CHECK(t.resumed);
    }
    // The CPU form's Winograd family is not what Winograd runs here.
    CHECK(contains(tune_error(rt, "conv_winograd", ANYCL_ERROR_UNSUPPORTED), "does not run conv_winograd on"));
  }
  {
    ScopedEnv cpu("ANYCL_GEMM_FAMILY", std::nullopt);
    anycl::Runtime plain("pocl");
    CHECK(contains(tune_error(plain, "conv_winograd_tiled", ANYCL_ERROR_UNSUPPORTED), "ANYCL_GEMM_FAMILY=tiled"));
  }
  ScopedEnv forced("ANYCL_GEMM_FAMILY", std::string("tiled"));
  anycl::Runtime fresh("pocl");
  anycl::set_kernel_profiling(fresh, true);
  for (const GpuFamily& f : families) {
    INFO(f.variant << " " << f.tunable << " " << best[f.variant]);
    CHECK(defines(anycl_test::build_options(fresh, f.variant), f.tunable, best[f.variant]));
    for (const anycl::Conv2d& d : f.used) {
      anycl::clear_kernel_profile(fresh);
      CHECK(wrong_elements(fresh, d, f.algo) == 0);
      CHECK(ran(fresh, f.kernel));
    }
  }
}

TEST_CASE("anycl::tune checks every convolution family's defaults and passes them", "[tune]") {
  TempDir dir("anycl-tune-conv-defaults");
  ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  ScopedEnv generic("ANYCL_PARAMS", std::string("generic"));
  anycl::Runtime rt("pocl");
  const std::pair<const char*, const char*> families[] = {
      {"conv_im2col", R"({"values": {"I2C_VW": [4], "C2I_VW": [8], "DBIAS_LWS": [64]}})"},
      {"conv_im2col_gemm", R"({"values": {"FUSED_WG": [16]}})"},
      {"conv_direct", R"({"values": {"DIR_OQ": [16], "DIR_OW": [16], "DIR_RED_LWS": [64]}})"},
      {"conv_depthwise", R"({"values": {"DW_VW": [8], "DW_ROWS": [4], "DW_TAPS": [25], "DW_GROUPS_CU": [8], "DW_STRIP": [32]}})"},
      {"conv_winograd_weights", R"({"values": {"TC": [8], "STAGE": [1], "GROUP_ROWS": [128], "GROUPS_PER_CU": [2]}})"},
      {"conv_implicit", R"({"values": {"VW": [4], "MR": [8], "TQ": [2], "TP": [1], "IG_WG": [1]}})"},
      {"conv_implicit_weights", R"({"values": {"VW": [4], "MR": [4], "NT": [4], "IGW_WG": [16], "IGW_SEG_ROWS": [64]}})"}};
  for (const auto& [family, space] : families) {
    INFO(family);
    anycl_test::spit(dir / "space.json", space);
    anycl::TuneOptions opts;
    opts.family = family;
    opts.space_file = dir / "space.json";
    const std::string f = family;
    opts.conv_layers = {f == "conv_depthwise" ? layer(1, 16, 12, 16, 16) : f == "conv_direct" ? layer(1, 16, 12, 16, 4)
                    : f.rfind("conv_implicit", 0) == 0                                     ? layer(1, 3, 12, 8)
                                                                                           : layer(1, 8, 12, 8)};
    if (f == "conv_im2col_gemm") opts.conv_layers[0].stride_h = opts.conv_layers[0].stride_w = 2;
    const anycl::TuneResult r = anycl::tune(rt, 0, opts);
    REQUIRE(r.trials.size() == 1);
    INFO(r.trials[0].message);
    CHECK(r.trials[0].status == "ok");
    CHECK(r.current == 0);
  }
}

TEST_CASE("dispatch thresholds from a tuned file change the algorithm and kernel chosen", "[tune]") {
  TempDir dir("anycl-tune-thresholds");
  ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  ScopedEnv all("ANYCL_PARAMS", std::nullopt);
  const anycl::Conv2d mid = layer(1, 16, 12, 16), grouped = layer(1, 64, 12, 64, 8);
  auto gemm_kernels = [](anycl::Runtime& rt) {
    const std::size_t n = 200;
    const auto a = anycl_test::random_values<float>(n * n, 1);
    std::vector<float> c(n * n);
    anycl::set_kernel_profiling(rt, true);
    anycl::GemmShape shape;
    shape.m = shape.n = shape.k = shape.lda = shape.ldb = shape.ldc = n;
    anycl::gemm<float>(rt, shape, 1.0f, a.data(), a.data(), 0.0f, c.data());
    std::string names;
    for (const anycl::KernelTime& t : anycl::kernel_profile(rt)) names += t.kernel + " ";
    return names;
  };
  std::string path;
  {
    anycl::Runtime rt("pocl");
    CHECK(anycl::conv2d_select(rt, mid) == anycl::ConvAlgo::Im2col);
    CHECK(anycl::conv2d_select(rt, grouped) == anycl::ConvAlgo::Im2col);
    CHECK(contains(gemm_kernels(rt), "gemm_direct"));
    path = anycl::tuned_params_file(rt, 0);
    const std::string name = rt.device(0).name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    anycl_test::spit(path, json{{"entries", {{{"name", "tuned"}, {"tuned_by", "anycl-tune"},
        {"match", {{"device_name_prefix", name}}},
        {"params", {{"conv_winograd", {{"WINOGRAD_MIN_CHANNELS", 16}}}, {"conv_direct", {{"DIRECT_GROUP_CHANNELS", 8}}},
                    {"gemm_direct_f32", {{"DIRECT_TINY", 16}, {"DIRECT_MAX", 64}, {"DIRECT_NARROW", 8}}}}}}}}}
                               .dump());
  }
  anycl::Runtime tuned("pocl");
  CHECK(anycl::conv2d_select(tuned, mid) == anycl::ConvAlgo::Winograd);
  CHECK(anycl::conv2d_select(tuned, grouped) == anycl::ConvAlgo::Direct);
  const std::string kernels = gemm_kernels(tuned);
  CHECK(contains(kernels, "gemm_packed"));
  CHECK_FALSE(contains(kernels, "gemm_direct"));
  CHECK(wrong_elements(tuned, mid, anycl::ConvAlgo::Auto) == 0);
  ScopedEnv shipped("ANYCL_PARAMS", std::string("shipped"));
  CHECK(anycl::conv2d_select(anycl::Runtime("pocl"), mid) == anycl::ConvAlgo::Im2col);
}

TEST_CASE("anycl::tune dispatch_conv sets the selector's thresholds at the measured crossover and resumes", "[tune]") {
  TempDir dir("anycl-tune-dispatch");
  ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  ScopedEnv all("ANYCL_PARAMS", std::nullopt);
  anycl::TuneOptions opts;
  opts.family = "dispatch_conv";
  std::size_t progress_calls = 0;
  opts.on_progress = [&](const anycl::TuneProgress& p) { progress_calls += p.done <= p.total; };
  anycl::TuneResult r;
  {
    anycl::Runtime rt("pocl");
    r = anycl::tune(rt, 0, opts);
  }
  REQUIRE(r.trials.size() == 28);  // 8 + 6 ladder points, both sides each
  CHECK(progress_calls == 28);
  const long winograd = r.thresholds.at("conv_winograd").at("WINOGRAD_MIN_CHANNELS");
  const long direct = r.thresholds.at("conv_direct").at("DIRECT_GROUP_CHANNELS");
  // The threshold agrees with the measurements: Winograd at least as fast at every ladder point
  // from it on, and slower at the point below (else the threshold would be lower).
  auto figure = [&](long ladder, long point, long side) {
    for (const anycl::TuneTrial& t : r.trials)
      if (t.params.at("LADDER") == ladder && t.params.at("POINT") == point && t.params.at("SIDE") == side) return t.gflops;
    FAIL("no measurement");
    return 0.0;
  };
  const std::vector<long> channels = {8, 16, 24, 32, 48, 64, 96, 128};
  for (std::size_t i = 0; i < channels.size(); ++i) {
    INFO("channels " << channels[i] << ", threshold " << winograd);
    if (channels[i] >= winograd) CHECK(figure(0, channels[i], 1) >= figure(0, channels[i], 0));
    if (i + 1 < channels.size() && channels[i + 1] == winograd) CHECK(figure(0, channels[i], 1) < figure(0, channels[i], 0));
  }
  anycl::Runtime fresh("pocl");
  CHECK(contains(anycl_test::build_options(fresh, "conv_winograd"), "-DWINOGRAD_MIN_CHANNELS=" + std::to_string(winograd)));
  CHECK(contains(anycl_test::build_options(fresh, "conv_direct"), "-DDIRECT_GROUP_CHANNELS=" + std::to_string(direct)));
  CHECK(contains(anycl::tuned_entry_json(fresh, 0), "WINOGRAD_MIN_CHANNELS"));
  const anycl::TuneResult again = anycl::tune(fresh, 0, opts);  // every point resumed, none run
  CHECK(again.trials.size() == 28);
  CHECK(progress_calls == 28);
  CHECK(again.thresholds == r.thresholds);
}
