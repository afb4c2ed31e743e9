// src/runtime/binary_cache.cpp: the on-disk program cache: miss then hit, damaged / truncated /
// foreign / driver-rejected entries rebuilt and replaced, ANYCL_CACHE=off, two processes filling
// one empty cache at once, and cold vs warm runtime creation time.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "anycl/anycl.hpp"
#include "runtime/binary_cache.hpp"
#include "runtime/program_binary.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

using anycl::detail::BinaryCache;
using anycl::detail::parse_program_binary;
using anycl::detail::ProgramBinary;
using anycl_test::contains;
using anycl_test::ScopedEnv;
using anycl_test::TempDir;

namespace {

anycl::RuntimeOptions options_for(const std::string& cache_dir) {
  anycl::RuntimeOptions o;  // not from_env: the caller's ANYCL_* settings must not leak in
  o.cache_dir = cache_dir;
  return o;
}

std::vector<std::string> bin_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& f : anycl_test::list_dir(dir))
    if (f.size() > 4 && f.substr(f.size() - 4) == ".bin") out.push_back(dir + "/" + f);
  return out;
}

std::size_t count_hits(const anycl::Runtime& rt) {
  std::size_t n = 0;
  for (const auto& r : rt.build_reports()) n += r.cache_hit ? 1 : 0;
  return n;
}

void require_all_ok(const anycl::Runtime& rt) {
  REQUIRE_FALSE(rt.build_reports().empty());
  for (const auto& r : rt.build_reports()) {
    INFO(r.family << ": " << r.message);
    REQUIRE(r.ok);
    CHECK_FALSE(r.prebuilt);
  }
}

// Every file in the cache is an intact entry for `device_name`; nothing else lies around.
void check_cache_clean(const std::string& dir, const std::string& device_name) {
  for (const auto& f : anycl_test::list_dir(dir)) {
    INFO("cache file " << f);
    CHECK_FALSE(contains(f, ".tmp"));
    REQUIRE(f.size() == 32 + 4);  // <128-bit hex key>.bin
    std::string why;
    const auto bin = parse_program_binary(anycl_test::slurp(dir + "/" + f), &why);
    INFO(why);
    REQUIRE(bin.has_value());
    CHECK(bin->device_name == device_name);
    CHECK_FALSE(bin->payload.empty());
  }
}

std::vector<std::string> kernel_names(const anycl::Runtime& rt, const std::string& variant) {
  cl_program p = anycl::detail::engine(rt).slot(0).program(variant).program.get();
  size_t n = 0;
  REQUIRE(clGetProgramInfo(p, CL_PROGRAM_KERNEL_NAMES, 0, nullptr, &n) == CL_SUCCESS);
  std::string s(n, '\0');
  REQUIRE(clGetProgramInfo(p, CL_PROGRAM_KERNEL_NAMES, n, s.data(), nullptr) == CL_SUCCESS);
  std::vector<std::string> names;
  std::stringstream ss(s.c_str());
  for (std::string k; std::getline(ss, k, ';');) names.push_back(k);
  std::sort(names.begin(), names.end());
  return names;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// A warm private cache: one runtime built into it, returning the entry count.
struct WarmCache {
  TempDir dir{"anycl-cache"};
  std::size_t entries = 0;
  std::string device_name;
  WarmCache() {
    anycl::Runtime rt(options_for(dir.path()));
    require_all_ok(rt);
    entries = bin_files(dir.path()).size();
    device_name = rt.device(0).name;
  }
};

// Opens a runtime on the cache in `dir` with warnings on: every family builds, all but one from
// the cache. Returns what was logged.
std::string open_with_one_rebuild(const std::string& dir) {
  ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
  anycl_test::StderrCapture capture;
  anycl::Runtime rt(options_for(dir));
  const std::string log = capture.text();
  require_all_ok(rt);
  CHECK(count_hits(rt) == rt.build_reports().size() - 1);
  return log;
}

// Damages one entry with `damage`, then checks the next runtime rebuilds exactly that one family,
// says why on the log, and leaves a valid entry in its place.
void check_damaged_entry_rebuilt(const std::function<void(const std::string&)>& damage, const char* log_word) {
  WarmCache warm;
  const auto files = bin_files(warm.dir.path());
  REQUIRE(files.size() == warm.entries);
  REQUIRE(warm.entries >= 1);
  const std::string victim = files[files.size() / 2];
  const std::string original = anycl_test::slurp(victim);
  damage(victim);
  REQUIRE(anycl_test::slurp(victim) != original);

  const std::string log = open_with_one_rebuild(warm.dir.path());
  CHECK(contains(log, log_word));
  CHECK(bin_files(warm.dir.path()).size() == warm.entries);
  check_cache_clean(warm.dir.path(), warm.device_name);
  anycl::Runtime again(options_for(warm.dir.path()));
  CHECK(count_hits(again) == again.build_reports().size());
}

}  // namespace

TEST_CASE("cache: first runtime misses and stores, the second hits everything", "[cache][opencl]") {
  TempDir dir("anycl-cache");
  const auto t0 = std::chrono::steady_clock::now();
  anycl::Runtime cold(options_for(dir.path()));
  const double cold_ms = ms_since(t0);
  require_all_ok(cold);
  CHECK(count_hits(cold) == 0);
  CHECK(bin_files(dir.path()).size() == cold.build_reports().size());
  check_cache_clean(dir.path(), cold.device(0).name);

  // Each entry carries the options its report states.
  std::set<std::string> stored_options;
  for (const auto& f : bin_files(dir.path()))
    stored_options.insert(parse_program_binary(anycl_test::slurp(f), nullptr)->options);
  for (const auto& r : cold.build_reports()) CHECK(stored_options.count(r.options) == 1);

  const auto t1 = std::chrono::steady_clock::now();
  anycl::Runtime warm(options_for(dir.path()));
  const double warm_ms = ms_since(t1);
  require_all_ok(warm);
  CHECK(count_hits(warm) == warm.build_reports().size());
  CHECK(bin_files(dir.path()).size() == cold.build_reports().size());  // nothing new written

  // A program loaded from the cache offers the same kernels as one compiled from source.
  for (const auto& r : warm.build_reports()) CHECK(kernel_names(warm, r.family) == kernel_names(cold, r.family));

  WARN("runtime creation (anycl cache cold, POCL's own kernel cache as found): " << cold_ms
                                                                                  << " ms; anycl cache warm: " << warm_ms
                                                                                  << " ms");
  CHECK(warm_ms < 2000.0);
}

TEST_CASE("cache: a corrupted entry is rebuilt and replaced, never trusted", "[cache][opencl]") {
  check_damaged_entry_rebuilt(
      [](const std::string& path) {
        std::string bytes = anycl_test::slurp(path);
        for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) bytes[i] = static_cast<char>(~bytes[i]);
        anycl_test::spit(path, bytes);
      },
      "checksum mismatch");
}

TEST_CASE("cache: a truncated entry is rebuilt and replaced", "[cache][opencl]") {
  check_damaged_entry_rebuilt(
      [](const std::string& path) {
        const std::string bytes = anycl_test::slurp(path);
        anycl_test::spit(path, bytes.substr(0, bytes.size() / 3));
      },
      "truncated");
}

TEST_CASE("cache: an empty entry file is rebuilt and replaced", "[cache][opencl]") {
  check_damaged_entry_rebuilt([](const std::string& path) { anycl_test::spit(path, ""); }, "bad magic");
}

TEST_CASE("cache: an entry built for another device name is discarded", "[cache][opencl]") {
  check_damaged_entry_rebuilt(
      [](const std::string& path) {
        auto bin = parse_program_binary(anycl_test::slurp(path), nullptr);
        REQUIRE(bin.has_value());
        bin->device_name = "Some Other Device 9000";
        anycl_test::spit(path, anycl::detail::serialize(*bin));
      },
      "was built for 'Some Other Device 9000'");
}

TEST_CASE("cache: an intact entry the driver rejects is rebuilt and replaced", "[cache][opencl]") {
  check_damaged_entry_rebuilt(
      [](const std::string& path) {
        auto bin = parse_program_binary(anycl_test::slurp(path), nullptr);
        REQUIRE(bin.has_value());
        bin->payload.assign(4096, 0xA5);  // checksum-valid file, garbage program
        anycl_test::spit(path, anycl::detail::serialize(*bin));
      },
      "rejected by the driver");
}

TEST_CASE("cache: an entry that is a folder is a miss; the runtime builds and says it cannot store", "[cache][opencl]") {
  WarmCache warm;
  const auto files = bin_files(warm.dir.path());
  REQUIRE_FALSE(files.empty());
  anycl_test::fs::remove(files.front());
  anycl_test::fs::create_directories(files.front());
  const std::string log = open_with_one_rebuild(warm.dir.path());
  CHECK(contains(log, "binary cache: cannot write " + files.front()));
  CHECK(anycl_test::fs::is_directory(files.front()));
}

TEST_CASE("cache: ANYCL_CACHE=off (or 0) writes nothing", "[cache][opencl][env]") {
  for (const std::string value : {"off", "0"}) {
    INFO("ANYCL_CACHE=" << value);
    TempDir dir("anycl-cache");
    const std::string cache_dir = dir / "cache";
    ScopedEnv off("ANYCL_CACHE", value);
    ScopedEnv where("ANYCL_CACHE_DIR", cache_dir);
    anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env("");
    CHECK_FALSE(o.cache);
    anycl::Runtime rt(o);
    require_all_ok(rt);
    CHECK(count_hits(rt) == 0);
    CHECK_FALSE(anycl_test::fs::exists(cache_dir));
    CHECK(anycl_test::list_dir(dir.path()).empty());
  }
  ScopedEnv on("ANYCL_CACHE", std::string("on"));
  CHECK(anycl::RuntimeOptions::from_env("").cache);
}

TEST_CASE("cache: two processes filling one empty cache at once both succeed", "[cache][opencl][process]") {
  TempDir dir("anycl-cache");
  const std::string cache_dir = dir / "shared";  // not even created yet: both race to make it
  const anycl_test::EnvChanges env{{"ANYCL_CACHE_DIR", cache_dir}, {"ANYCL_CACHE", std::nullopt},
                                   {"ANYCL_DEVICE", std::nullopt}};
  anycl_test::Process a({ANYCL_QUERY_EXE, "--json", "--device", "0:0"}, env);
  anycl_test::Process b({ANYCL_QUERY_EXE, "--json", "--device", "0:0"}, env);
  const auto ra = a.wait(), rb = b.wait();
  std::string device_name;
  std::size_t families = 0;
  for (const auto* r : {&ra, &rb}) {
    INFO("stderr: " << r->err);
    REQUIRE(r->exit_code == 0);
    const auto doc = nlohmann::json::parse(r->out);
    const auto& dev = doc["platforms"][0]["devices"][0];
    device_name = dev["name"].get<std::string>();
    families = dev["kernels"].size();
    for (const auto& k : dev["kernels"]) CHECK(k["ok"].get<bool>());
  }
  REQUIRE(families >= 1);
  CHECK(bin_files(cache_dir).size() == families);
  check_cache_clean(cache_dir, device_name);

  anycl::RuntimeOptions o = options_for(cache_dir);
  o.device_spec = "0:0";
  anycl::Runtime rt(o);
  CHECK(count_hits(rt) == rt.build_reports().size());
}

TEST_CASE("BinaryCache: store, load, device check, disabled, default folder", "[cache]") {
  TempDir dir("anycl-cache");
  ProgramBinary bin;
  bin.device_name = "dev-A";
  bin.options = "-DX=1";
  bin.payload = {1, 2, 3};
  BinaryCache cache(dir / "c", true);
  REQUIRE(cache.enabled());
  CHECK(cache.path_for("k1") == dir / "c/k1.bin");
  CHECK_FALSE(cache.load("k1", "dev-A").has_value());  // nothing stored yet
  cache.store("k1", bin);
  auto back = cache.load("k1", "dev-A");
  REQUIRE(back.has_value());
  CHECK(back->payload == bin.payload);
  CHECK_FALSE(cache.load("k1", "dev-B").has_value());  // foreign: discarded ...
  CHECK_FALSE(anycl_test::fs::exists(cache.path_for("k1")));  // ... and removed

  BinaryCache off(dir / "off", false);
  CHECK_FALSE(off.enabled());
  off.store("k", bin);
  CHECK_FALSE(off.load("k", "dev-A").has_value());
  CHECK_FALSE(anycl_test::fs::exists(dir / "off"));

  // A folder that cannot be created disables the cache instead of failing.
  anycl_test::spit(dir / "a-file", "x");
  BinaryCache blocked(dir / "a-file/sub", true);
  CHECK_FALSE(blocked.enabled());
  blocked.store("k", bin);  // no crash, no file

  {
    ScopedEnv a("ANYCL_CACHE_DIR", dir / "explicit");
    ScopedEnv x("XDG_CACHE_HOME", dir / "xdg");
    CHECK(BinaryCache::default_dir() == dir / "explicit");
    CHECK(BinaryCache("", true).dir() == dir / "explicit");
  }
  {
    ScopedEnv a("ANYCL_CACHE_DIR", std::nullopt);
    ScopedEnv x("XDG_CACHE_HOME", dir / "xdg");
    CHECK(BinaryCache::default_dir() == dir / "xdg/anycl");
  }
  {
    ScopedEnv a("ANYCL_CACHE_DIR", std::nullopt);
    ScopedEnv x("XDG_CACHE_HOME", std::nullopt);
    ScopedEnv h("HOME", dir / "home");
    CHECK(BinaryCache::default_dir() == dir / "home/.cache/anycl");
  }
}

// Registered as its own ctest entry with POCL_KERNEL_CACHE=0, so "cold" is a true first run.
TEST_CASE("cache: cold vs warm runtime creation time", "[.cold-timing]") {
  TempDir dir("anycl-cache");
  const auto t0 = std::chrono::steady_clock::now();
  anycl::Runtime cold(options_for(dir.path()));
  const double cold_ms = ms_since(t0);
  require_all_ok(cold);
  CHECK(count_hits(cold) == 0);

  const auto t1 = std::chrono::steady_clock::now();
  anycl::Runtime warm(options_for(dir.path()));
  const double warm_ms = ms_since(t1);
  require_all_ok(warm);
  CHECK(count_hits(warm) == warm.build_reports().size());

  double build_ms = 0, load_ms = 0;
  for (const auto& r : cold.build_reports()) build_ms += r.milliseconds;
  for (const auto& r : warm.build_reports()) load_ms += r.milliseconds;
  WARN("runtime creation with POCL_KERNEL_CACHE=" << (std::getenv("POCL_KERNEL_CACHE") ? std::getenv("POCL_KERNEL_CACHE") : "(unset)")
                                                  << ": cold " << cold_ms << " ms (kernel builds " << build_ms
                                                  << " ms), warm " << warm_ms << " ms (cache loads " << load_ms
                                                  << " ms), " << cold.build_reports().size() << " programs");
  CHECK(warm_ms < 2000.0);  // a sanity bound, not a speed target
}
