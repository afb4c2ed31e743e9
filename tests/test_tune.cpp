// tools/anycl-tune.cpp and anycl::tune as a user runs them on POCL: a tiny space holding a
// candidate that does not build and one that gives a wrong answer (a damaged kernel copy), the
// per-user file they write, resuming, and a fresh runtime picking the tuned entry up.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "anycl/anycl.hpp"
#include "anycl/tune.hpp"
#include "support.hpp"

using anycl_test::contains;
using anycl_test::EnvChanges;
using anycl_test::ProcessResult;
using anycl_test::TempDir;
using nlohmann::json;

namespace {

// VW=32 has no OpenCL vector type (build failure); KU=2 is made to scale C by 1.25 in the copy.
const char* kSpace = R"({"values": {"VW": [4, 32], "MR": [4], "NR": [32], "KU": [1, 2], "PACK_KC": [16],
  "WG_ROWS": [8], "WG_PACK": [16]}, "constraints": [{"multiple": ["NR"], "of": ["VW"]}]})";

// A kernel folder whose gemm_packed gives a wrong C when built with KU=2.
void damaged_kernel_copy(const std::string& dir) {
  anycl_test::copy_kernel_dir(dir);
  const std::string path = dir + "/gemm_packed.cl";
  std::string text = anycl_test::slurp(path);
  const std::regex scaled(R"(REAL(V?) v = alpha \* )");
  const std::string damaged = std::regex_replace(text, scaled, "REAL$1 v = (KU == 2 ? (REAL)1.25 : (REAL)1) * alpha * ");
  REQUIRE(damaged != text);
  anycl_test::spit(path, damaged);
}

struct TuneDirs {
  TempDir root{"anycl-tune-test"};
  std::string kernels = root / "kernels", cache = root / "cache", space = root / "space.json";
  TuneDirs() {
    damaged_kernel_copy(kernels);
    anycl_test::spit(space, kSpace);
  }
  EnvChanges env() const {
    return {{"ANYCL_CACHE_DIR", cache}, {"ANYCL_KERNEL_PATH", kernels}, {"ANYCL_PARAMS", std::nullopt},
            {"ANYCL_DEVICE", std::nullopt}, {"ANYCL_BINARY_ONLY", std::nullopt}};
  }
};

ProcessResult run_tune(const TuneDirs& dirs, const std::string& space) {
  return anycl_test::run_process({ANYCL_TUNE_EXE, "--device", "pocl", "--family", "gemm_packed_f32", "--space", space,
                                  "--shape", "64x64x64", "--shape", "32x96x48x2", "--budget", "600", "--quiet"},
                                 dirs.env());
}

json tuned_file(const TuneDirs& dirs) {
  const auto files = anycl_test::list_dir(dirs.cache + "/params");
  REQUIRE(files.size() == 1);
  return json::parse(anycl_test::slurp(dirs.cache + "/params/" + files[0]));
}

const json& results_of(const json& doc) { return doc.at("trials").at("gemm_packed_f32").at("results"); }

}  // namespace

TEST_CASE("anycl-tune records failing candidates and chooses only a correct one", "[tune]") {
  TuneDirs dirs;
  const ProcessResult first = run_tune(dirs, dirs.space);
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  const json doc = tuned_file(dirs);
  const json& results = results_of(doc);
  REQUIRE(results.size() == 4);
  double best_ok = 0;
  for (const json& t : results) {
    const long vw = t["params"]["VW"], ku = t["params"]["KU"];
    const std::string status = t["status"];
    if (vw == 32) CHECK(status == "build_failed");
    else if (ku == 2) CHECK(status == "wrong_result");
    else CHECK(status == "ok");
    if (status == "ok") best_ok = std::max(best_ok, t["gflops"].get<double>());
    if (status != "ok") CHECK_FALSE(t["message"].get<std::string>().empty());
  }
  CHECK(best_ok > 0);
  const json& chosen = doc.at("entries").at(0).at("params").at("gemm_packed_f32");
  CHECK(chosen["VW"] == 4);
  CHECK(chosen["KU"] == 1);

  // A fresh runtime builds the tuned entry above the shipped table; ANYCL_PARAMS=generic switches it off.
  anycl_test::ScopedEnv cache("ANYCL_CACHE_DIR", dirs.cache);
  anycl_test::ScopedEnv kernels("ANYCL_KERNEL_PATH", dirs.kernels);
  auto options_of = [](const anycl::Runtime& rt) { return anycl_test::build_options(rt, "gemm_packed_f32"); };
  std::string want;
  for (const auto& [k, v] : chosen.items()) want += " -D" + k + "=" + std::to_string(v.get<long>());
  {
    anycl_test::ScopedEnv all("ANYCL_PARAMS", std::optional<std::string>());
    const anycl::Runtime rt("pocl");
    CHECK(contains(options_of(rt), want));
    CHECK(anycl::tuned_entry_json(rt, 0).find("\"VW\": 4") != std::string::npos);
  }
  {
    anycl_test::ScopedEnv generic("ANYCL_PARAMS", std::string("generic"));
    const anycl::Runtime rt("pocl");
    CHECK(contains(options_of(rt), "-DKU=1 -DMR=4 -DNR=8 -DPACK_KC=16 -DVW=4"));  // the .cl defaults
  }

  // A second run resumes: measured candidates keep their figures, only new ones run.
  std::string wider = kSpace;
  wider.replace(wider.find("\"KU\": [1, 2]"), 12, "\"KU\": [1, 2, 4]");
  anycl_test::spit(dirs.space, wider);
  const ProcessResult again = run_tune(dirs, dirs.space);
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(contains(again.out, "6 of 6 candidates measured (4 from an earlier run"));
  const json later = tuned_file(dirs);
  const json& resumed = results_of(later);
  REQUIRE(resumed.size() == 6);
  for (std::size_t i = 0; i < 4; ++i) CHECK(resumed[i] == results[i]);  // not measured again
}

TEST_CASE("anycl-tune refuses bad arguments naming them", "[tune]") {
  TuneDirs dirs;
  const auto bad_shape = anycl_test::run_process({ANYCL_TUNE_EXE, "--shape", "64x0x64"}, dirs.env());
  CHECK(bad_shape.exit_code == 2);
  CHECK(contains(bad_shape.err, "--shape"));
  const auto bad_family =
      anycl_test::run_process({ANYCL_TUNE_EXE, "--device", "pocl", "--family", "conv_nope", "--budget", "1"}, dirs.env());
  CHECK(bad_family.exit_code == 1);
  CHECK(contains(bad_family.err, "conv_nope"));
  const auto no_entry = anycl_test::run_process({ANYCL_TUNE_EXE, "--device", "pocl", "--emit-entry"}, dirs.env());
  CHECK(no_entry.exit_code == 1);
  CHECK(contains(no_entry.err, "no tuned entry"));
}

TEST_CASE("anycl::tune runs the device's current values first and reports progress", "[tune]") {
  TempDir dir("anycl-tune-api");
  anycl_test::spit(dir / "space.json", R"({"values": {"VW": [4], "MR": [4], "NR": [16, 8], "KU": [1],
    "PACK_KC": [16], "WG_ROWS": [8], "WG_PACK": [16]}})");
  anycl_test::ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  anycl_test::ScopedEnv generic("ANYCL_PARAMS", std::string("generic"));  // the .cl defaults: NR=8
  anycl::Runtime rt("pocl");
  anycl::TuneOptions opts;
  opts.space_file = dir / "space.json";
  opts.params_file = dir / "out.json";
  opts.shapes = {{48, 40, 24, 1}};
  std::vector<std::size_t> done;
  opts.on_progress = [&](const anycl::TuneProgress& p) {
    CHECK(p.total == 2);
    CHECK(p.last != nullptr);
    done.push_back(p.done);
  };
  const anycl::TuneResult r = anycl::tune(rt, 0, opts);
  REQUIRE(r.trials.size() == 2);
  CHECK(r.space_size == 2);
  CHECK(r.current == 0);
  CHECK(r.trials[0].params.at("NR") == 8);
  CHECK(done == std::vector<std::size_t>{1, 2});
  CHECK(r.best >= 0);
  CHECK(r.params_file == dir / "out.json");
  const json written = json::parse(anycl_test::slurp(dir / "out.json"));
  CHECK(written["entries"][0]["params"]["gemm_packed_f32"]["NR"] == r.trials[std::size_t(r.best)].params.at("NR"));

  opts.budget_seconds = 0;  // nothing new to run, nothing started: the file's trials come back
  const anycl::TuneResult again = anycl::tune(rt, 0, opts);
  CHECK(again.trials.size() == 2);
  CHECK(again.trials[0].resumed);
}

TEST_CASE("anycl::tune in a large space climbs from the best random sample to its neighbours", "[tune]") {
  TempDir dir("anycl-tune-climb");
  anycl_test::spit(dir / "space.json", R"({"values": {"VW": [4], "MR": [4, 8], "NR": [8, 16], "KU": [1, 2],
    "PACK_KC": [16], "WG_ROWS": [8], "WG_PACK": [16]}})");
  anycl_test::ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  anycl::Runtime rt("pocl");
  anycl::TuneOptions opts;
  opts.space_file = dir / "space.json";
  opts.params_file = dir / "out.json";
  opts.shapes = {{32, 32, 32, 1}};
  opts.exhaustive_limit = 1;  // 8 configurations count as large
  opts.random_samples = 1;
  const anycl::TuneResult r = anycl::tune(rt, 0, opts);
  REQUIRE(r.trials.size() == 8);
  // After the first sample every candidate but the fallbacks is one step from the best so far.
  for (std::size_t i = 1; i < 4; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 0; j < i; ++j)
      if (r.trials[j].gflops > r.trials[best].gflops) best = j;
    int differing = 0;
    for (const auto& [name, value] : r.trials[i].params) differing += r.trials[best].params.at(name) != value;
    INFO("trial " << i);
    CHECK(differing == 1);
  }
}

TEST_CASE("anycl::tune on gemm_direct_f32 times the direct kernel and keeps the dispatch thresholds", "[tune]") {
  TempDir dir("anycl-tune-direct");
  anycl_test::spit(dir / "space.json", R"({"values": {"VW": [4, 8], "MR": [4], "NR": [8], "KU": [1], "WG_ROWS": [8]}})");
  anycl_test::ScopedEnv cache("ANYCL_CACHE_DIR", dir / "cache");
  anycl_test::ScopedEnv all("ANYCL_PARAMS", std::nullopt);
  auto options_of = [](const anycl::Runtime& rt) { return anycl_test::build_options(rt, "gemm_direct_f32"); };
  std::string thresholds;
  {
    anycl::Runtime rt("pocl");
    const std::string before = options_of(rt);
    REQUIRE(contains(before, "-DDIRECT_MAX="));
    thresholds = before.substr(before.find("-DDIRECT_MAX="), before.find(" -DKU=") - before.find("-DDIRECT_MAX="));
    anycl::TuneOptions opts;
    opts.family = "gemm_direct_f32";
    opts.space_file = dir / "space.json";
    opts.shapes = {{70, 45, 33, 1}, {64, 96, 48, 2}};
    const anycl::TuneResult r = anycl::tune(rt, 0, opts);
    REQUIRE(r.trials.size() == 2);
    for (const anycl::TuneTrial& t : r.trials) {
      INFO(t.message);
      CHECK(t.status == "ok");
      CHECK(t.gflops > 0);
    }
    REQUIRE(r.best >= 0);
  }
  const anycl::Runtime fresh("pocl");
  const json doc = json::parse(anycl_test::slurp(anycl::tuned_params_file(fresh, 0)));
  const long vw = doc["entries"][0]["params"]["gemm_direct_f32"]["VW"];
  CHECK(contains(options_of(fresh), "-DVW=" + std::to_string(vw)));
  CHECK(contains(options_of(fresh), "-DNR=8 "));
  CHECK(contains(options_of(fresh), thresholds));  // the shipped dispatch thresholds still apply
}

TEST_CASE("anycl-tune forces the tiled family for a GPU-class family the device does not run", "[tune]") {
  TuneDirs dirs;
  EnvChanges env = dirs.env();
  env["ANYCL_KERNEL_PATH"] = std::nullopt;
  env["ANYCL_GEMM_FAMILY"] = std::nullopt;
  // Budget 0: the family's space is enumerated on the forced runtime, no candidate is started.
  const std::vector<std::string> argv = {ANYCL_TUNE_EXE, "--device", "pocl", "--family", "conv_winograd_tiled",
                                         "--budget", "0", "--quiet"};
  const ProcessResult forced = anycl_test::run_process(argv, env);
  INFO(forced.out << forced.err);
  CHECK(contains(forced.out, "conv_winograd_tiled: tuned with the tiled GEMM family forced"));
  CHECK(contains(forced.out, "0 of 5 candidates measured"));
  CHECK(forced.exit_code == 1);  // none measured, so none passed
  // A family the user set decides: the CPU family does not build the GPU-class kernels.
  env["ANYCL_GEMM_FAMILY"] = "cpu";
  const ProcessResult cpu = anycl_test::run_process(argv, env);
  INFO(cpu.out << cpu.err);
  CHECK(cpu.exit_code == 1);
  CHECK(contains(cpu.err, "does not run conv_winograd_tiled"));
  CHECK_FALSE(contains(cpu.out, "forced"));
}
