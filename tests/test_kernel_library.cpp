// src/runtime/kernel_library.cpp (with kernel_source.cpp): the family table, build plans and
// options, finding and expanding kernel sources, build failures with their log, and binary-only
// loading of anycl-compile's output.
#include <catch2/catch.hpp>
#include <algorithm>
#include <set>

#include "anycl/anycl.hpp"
#include "runtime/device.hpp"
#include "runtime/kernel_library.hpp"
#include "runtime/kernel_source.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

using anycl::detail::kernel_families;
using anycl_test::contains;
using anycl_test::ScopedEnv;
using anycl_test::TempDir;

using anycl_test::status_of;

namespace {


anycl::DeviceInfo fake_device(const std::string& c_version = "OpenCL C 1.2 PoCL") {
  anycl::DeviceInfo d;
  d.id = "0:0";
  d.name = "fake device";
  d.type = "cpu";
  d.opencl_c_version = c_version;
  d.fp64 = true;
  return d;
}

// anycl-compile's output for device 0:0 in `dir`; returns the device name it compiled for.
void run_compile(const std::string& dir) {
  const auto r = anycl_test::run_process({ANYCL_COMPILE_EXE, "--device", "0:0", "--out", dir},
                                         {{"ANYCL_BINARY_ONLY", std::nullopt}, {"ANYCL_DEVICE", std::nullopt}});
  INFO("anycl-compile stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
}

anycl::RuntimeOptions binary_only(const std::string& dir) {
  anycl::RuntimeOptions o;
  o.device_spec = "0:0";
  o.binary_only = true;
  o.binary_path = dir;
  return o;
}

}  // namespace

TEST_CASE("kernel family table is consistent with the kernel folder", "[kernel_library]") {
  const auto& fams = kernel_families();
  REQUIRE_FALSE(fams.empty());
  std::set<std::string> seen;
  for (const auto& f : fams) {
    INFO(f.variant);
    CHECK(seen.insert(f.variant).second);  // unique names
    CHECK(f.variant.rfind(f.family, 0) == 0);
    CHECK(f.file == f.family + ".cl");
    CHECK(anycl_test::fs::exists(anycl_test::source_kernel_dir() + "/" + f.file));
    CHECK((f.real == "float" || f.real == "double"));
    CHECK(f.needs_fp64 == (f.real == "double"));
    if (!f.layout_from.empty()) CHECK(seen.count(f.layout_from) == 1);  // built before this one
  }
}

TEST_CASE("plan_build: options carry -cl-std, REAL and every tunable; no -I", "[kernel_library]") {
  anycl::detail::ParamTable no_params;
  anycl::detail::BuildContext ctx{anycl_test::source_kernel_dir(), &no_params, nullptr, false, ""};
  for (const auto& fam : kernel_families()) {
    INFO(fam.variant);
    const auto plan = anycl::detail::plan_build(ctx, fam, fake_device(), nullptr);
    CHECK(plan.options.rfind("-cl-std=CL1.2 -DREAL=" + fam.real, 0) == 0);
    CHECK_FALSE(contains(plan.options, "-I"));
    CHECK(plan.params == anycl::detail::cl_defaults(plan.source));
    for (const auto& [k, v] : plan.params) CHECK(contains(plan.options, " -D" + k + "=" + std::to_string(v)));
    CHECK(plan.source_hash.size() == 32);
    CHECK_FALSE(contains(plan.expanded, "#include \"common.h\""));
  }
  // OpenCL C 1.1 devices get CL1.1; anything newer or unknown gets CL1.2.
  const auto& f = kernel_families().front();
  CHECK(contains(anycl::detail::plan_build(ctx, f, fake_device("OpenCL C 1.1 x"), nullptr).options, "-cl-std=CL1.1"));
  CHECK(contains(anycl::detail::plan_build(ctx, f, fake_device("OpenCL C 3.0"), nullptr).options, "-cl-std=CL1.2"));
  CHECK(contains(anycl::detail::plan_build(ctx, f, fake_device("weird"), nullptr).options, "-cl-std=CL1.2"));
}

TEST_CASE("plan_build: per-device JSON parameters reach the options and the source hash tracks includes",
          "[kernel_library]") {
  TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  const auto& fam = kernel_families().front();
  const auto defaults = anycl::detail::cl_defaults(anycl_test::slurp(dir / fam.file));
  REQUIRE(defaults.count("MR"));
  const long mr = defaults.at("MR") == 2 ? 3 : 2;
  anycl_test::fs::create_directories(dir / "params");
  anycl_test::spit(dir / "params/zz-test.json",
                   R"({"entries": [{"name": "t", "match": {"device_name_prefix": "fake"}, "params": {")" +
                       fam.family + R"(": {"MR": )" + std::to_string(mr) + "}}}]}");
  anycl::detail::ParamTable table(anycl::detail::ParamSources{dir.path(), ""});
  anycl::detail::BuildContext ctx{dir.path(), &table, nullptr, false, ""};
  const auto plan = anycl::detail::plan_build(ctx, fam, fake_device(), nullptr);
  CHECK(plan.params.at("MR") == mr);
  CHECK(contains(plan.options, " -DMR=" + std::to_string(mr)));

  // Changing an included header changes the hash (and so the cache key).
  anycl_test::spit(dir / "common.h", anycl_test::slurp(dir / "common.h") + "\n/* changed */\n");
  CHECK(anycl::detail::plan_build(ctx, fam, fake_device(), nullptr).source_hash != plan.source_hash);
}

TEST_CASE("plan_build: a family takes its layout_from program's tile unless the table pins its own",
          "[kernel_library]") {
  TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  const auto& families = kernel_families();
  const auto wino = std::find_if(families.begin(), families.end(), [](const auto& f) { return f.variant == "conv_winograd"; });
  REQUIRE(wino != families.end());
  REQUIRE(wino->layout_from == "gemm_packed_f32");
  // The shared program's tile: values no table or .cl default holds.
  anycl::detail::BuiltProgram shared;
  shared.params = {{"VW", 4}, {"MR", 6}, {"NR", 12}, {"KU", 2}};
  auto plan_with = [&](const std::string& entry_params) {
    anycl_test::fs::create_directories(dir / "params");
    anycl_test::spit(dir / "params/devices.json",
                     R"({"entries": [{"name": "t", "match": {"device_name_prefix": "fake"}, "params": {"conv_winograd": )" +
                         entry_params + "}}]}");
    anycl::detail::ParamTable table(anycl::detail::ParamSources{dir.path(), ""});
    anycl::detail::BuildContext ctx{dir.path(), &table, nullptr, false, ""};
    return anycl::detail::plan_build(ctx, *wino, fake_device(), &shared).params;
  };
  const auto follows = plan_with(R"({"KC": 8})");
  CHECK(follows.at("MR") == 6);
  CHECK(follows.at("NR") == 12);
  CHECK(follows.at("KC") == 8);
  const auto pinned = plan_with(R"({"MR": 8, "NR": 16})");
  CHECK(pinned.at("MR") == 8);    // pinned by the entry
  CHECK(pinned.at("NR") == 16);
  CHECK(pinned.at("KU") == 2);    // not pinned: still the shared program's
}

TEST_CASE("find_kernel_dir, read_kernel_file and expand_includes", "[kernel_library][kernel_source]") {
  const std::string src = anycl_test::fs::canonical(anycl_test::source_kernel_dir()).string();
  CHECK(anycl::detail::find_kernel_dir(src) == src);
  TempDir dir;
  anycl_test::spit(dir / "common.h", "#define FROM_COMMON 1\n#include \"inner.h\"\n");
  anycl_test::spit(dir / "inner.h", "#define FROM_INNER 2\n");
  CHECK(anycl::detail::find_kernel_dir(dir.path()) == dir.path());
  {
    ScopedEnv path("ANYCL_KERNEL_PATH", "/no/such/dir:" + dir.path());
    CHECK(anycl::detail::find_kernel_dir("") == dir.path());
  }
  // A folder without common.h is passed over for the next candidate.
  TempDir not_kernels;
  CHECK(anycl::detail::find_kernel_dir(not_kernels.path()) != not_kernels.path());

  const std::string expanded = anycl::detail::expand_includes(dir.path(), "a\n#include \"common.h\"\nb\n");
  CHECK(expanded == "a\n#define FROM_COMMON 1\n#define FROM_INNER 2\nb\n");
  CHECK(anycl::detail::expand_includes(dir.path(), "#include <system.h>\n") == "#include <system.h>\n");

  std::string msg;
  CHECK(status_of([&] { anycl::detail::read_kernel_file(dir.path(), "missing.cl"); }, &msg) ==
        ANYCL_ERROR_KERNEL_NOT_FOUND);
  CHECK(contains(msg, "missing.cl"));
  CHECK(status_of([&] { anycl::detail::expand_includes(dir.path(), "#include \"nope.h\"\n"); }) ==
        ANYCL_ERROR_KERNEL_NOT_FOUND);
  anycl_test::spit(dir / "loop.h", "#include \"loop.h\"\n");
  CHECK(status_of([&] { anycl::detail::expand_includes(dir.path(), "#include \"loop.h\"\n"); }, &msg) ==
        ANYCL_ERROR_BUILD_FAILED);
  CHECK(contains(msg, "deeper than 8"));
}

TEST_CASE("a kernel that does not compile: BuildError names device, options and log", "[kernel_library][opencl]") {
  TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  anycl_test::spit(dir / "gemm_direct.cl", anycl_test::slurp(dir / "gemm_direct.cl") +
                                               "\n__kernel void anycl_broken(void) { this is not C; }\n");
  anycl::RuntimeOptions o;
  o.kernel_path = dir.path();
  o.cache = false;
  o.device_spec = "0:0";
  try {
    anycl::Runtime rt(o);
    FAIL("the broken kernel built");
  } catch (const anycl::BuildError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(e.status() == ANYCL_ERROR_BUILD_FAILED);
    const auto found = anycl::detail::discover_devices();
    CHECK(contains(what, found.devices[0].info.name));
    CHECK(contains(what, "device 0:0"));
    CHECK(contains(what, "gemm_direct.cl"));
    CHECK(contains(what, "CL_BUILD_PROGRAM_FAILURE"));
    CHECK(contains(what, "options: -cl-std="));
    CHECK(contains(what, "-DREAL="));
    CHECK(contains(what, "build log:"));
    CHECK_FALSE(e.build_log().empty());
    CHECK(contains(anycl_test::lower(e.build_log()), "error"));
    CHECK(contains(what, e.build_log()));
  }

  // Without fail_on_build_error the runtime opens and reports the failure per family.
  o.fail_on_build_error = false;
  anycl::Runtime rt(o);
  bool saw_failure = false;
  for (const auto& r : rt.build_reports()) {
    INFO(r.family);
    if (r.family.rfind("gemm_direct", 0) == 0) {
      saw_failure = true;
      CHECK_FALSE(r.ok);
      CHECK(contains(r.message, "build log:"));
      CHECK_FALSE(anycl::detail::engine(rt).slot(0).has_program(r.family));
    } else {
      CHECK(r.ok);
      CHECK(anycl::detail::engine(rt).slot(0).has_program(r.family));
    }
  }
  CHECK(saw_failure);
  CHECK(status_of([&] { anycl::detail::engine(rt).slot(0).program("gemm_direct_f32"); }) == ANYCL_ERROR_KERNEL_NOT_FOUND);
}

// The include folder reaches the compiler as one argument, so a path with a space still finds
// common.h; the GEMM is checked against a plain loop.
TEST_CASE("a kernel folder whose path contains a space builds and computes", "[kernel_library][opencl][files]") {
  TempDir base;
  const std::string spaced = base / "x y";
  anycl_test::copy_kernel_dir(spaced);
  anycl::RuntimeOptions o;
  o.kernel_path = spaced;
  o.cache = false;
  o.device_spec = "0:0";
  anycl::Runtime rt(o);
  const std::size_t m = 7, n = 5, k = 9;
  const auto a = anycl_test::random_values(m * k, 1), b = anycl_test::random_values(k * n, 2);
  std::vector<float> c(m * n, 0.0f);
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  anycl::gemm(rt, s, 1.0f, a.data(), b.data(), 0.0f, c.data());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double want = 0;
      for (std::size_t p = 0; p < k; ++p) want += double(a[i * k + p]) * b[p * n + j];
      CHECK(c[i * n + j] == Approx(want).margin(1e-5));
    }
}

// The tests run as root, for whom chmod 000 hides nothing: "unreadable" is made honest with a
// folder where a file belongs, and dangling symlinks.
TEST_CASE("hostile kernel folders: a file, a dangling symlink, a folder or empty file as .cl", "[kernel_library][files]") {
  TempDir dir;
  anycl_test::spit(dir / "not-a-folder", "x");
  anycl_test::fs::create_symlink(dir / "nowhere", dir / "dangling");
  anycl_test::fs::create_directories(dir / "broken-common");
  anycl_test::fs::create_symlink(dir / "nowhere.h", dir / "broken-common/common.h");
  for (const std::string& bad : {dir / "not-a-folder", dir / "dangling", dir / "broken-common", dir / "missing"}) {
    INFO(bad);
    ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
    anycl_test::StderrCapture capture;
    const std::string found = anycl::detail::find_kernel_dir(bad);
    const std::string log = capture.text();
    CHECK(found == anycl_test::fs::canonical(anycl_test::source_kernel_dir()).string());  // the next candidate
    CHECK(contains(log, "kernel folder " + bad + " is missing or holds no common.h"));
  }

  anycl::RuntimeOptions o;
  o.kernel_path = dir / "kernels";
  // The shared test cache: the intact families are the shipped sources, so they load from it.
  o.device_spec = "0:0";
  anycl_test::copy_kernel_dir(o.kernel_path);
  const std::string cl = o.kernel_path + "/conv_direct.cl";
  for (const std::string& why : {"cannot read kernel file " + cl, "kernel file " + cl + " is empty"}) {
    INFO(why);
    anycl_test::fs::remove_all(cl);
    if (contains(why, "empty")) anycl_test::spit(cl, "");
    else anycl_test::fs::create_directories(cl);
    o.fail_on_build_error = true;
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime rt(o); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
    CHECK(contains(msg, why));
    o.fail_on_build_error = false;
    anycl::Runtime rt(o);
    for (const auto& r : rt.build_reports()) CHECK(r.ok == (r.family != "conv_direct"));
  }
}

TEST_CASE("binary-only: anycl-compile output loads as prebuilt for every family", "[kernel_library][opencl][process]") {
  TempDir out("anycl-bin");
  run_compile(out.path());
  anycl::Runtime rt(binary_only(out.path()));
  REQUIRE_FALSE(rt.build_reports().empty());
  for (const auto& r : rt.build_reports()) {
    INFO(r.family << ": " << r.message);
    CHECK(r.ok);
    CHECK(r.prebuilt);
    CHECK_FALSE(r.cache_hit);
    CHECK(anycl_test::fs::exists(anycl::detail::prebuilt_path(out.path(), rt.device(0), r.family)));
  }
  for (const auto& fam : kernel_families())
    if (anycl::detail::builds_on(fam, rt.device(0))) CHECK(anycl::detail::engine(rt).slot(0).has_program(fam.variant));

  // The same through the environment: ANYCL_BINARY_ONLY=1 and ANYCL_BINARY_PATH.
  {
    ScopedEnv only("ANYCL_BINARY_ONLY", std::string("1"));
    ScopedEnv path("ANYCL_BINARY_PATH", out.path());
    anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env("0:0");
    CHECK(o.binary_only);
    anycl::Runtime env_rt(o);
    for (const auto& r : env_rt.build_reports()) CHECK(r.prebuilt);
  }

  const std::string victim =
      anycl::detail::prebuilt_path(out.path(), rt.device(0), rt.build_reports().front().family);
  const std::string original = anycl_test::slurp(victim);

  SECTION("a binary built for another device name is refused, naming both") {
    auto bin = anycl::detail::parse_program_binary(original, nullptr);
    REQUIRE(bin.has_value());
    bin->device_name = "Acme FPGA 3000";
    anycl_test::spit(victim, anycl::detail::serialize(*bin));
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime bad(binary_only(out.path())); }, &msg) == ANYCL_ERROR_BUILD_FAILED);
    CHECK(contains(msg, "built for 'Acme FPGA 3000'"));
    CHECK(contains(msg, "this device is '" + rt.device(0).name + "'"));
    CHECK(contains(msg, "anycl-compile"));
  }
  SECTION("a binary from other options or sources is refused") {
    auto bin = anycl::detail::parse_program_binary(original, nullptr);
    REQUIRE(bin.has_value());
    bin->options += " -DEXTRA=1";
    anycl_test::spit(victim, anycl::detail::serialize(*bin));
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime bad(binary_only(out.path())); }, &msg) == ANYCL_ERROR_BUILD_FAILED);
    CHECK(contains(msg, "other kernel sources or options"));
  }
  SECTION("a damaged binary is refused as unusable") {
    anycl_test::spit(victim, original.substr(0, original.size() / 2));
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime bad(binary_only(out.path())); }, &msg) == ANYCL_ERROR_BUILD_FAILED);
    CHECK(contains(msg, "unusable"));
  }
  SECTION("a missing binary is KERNEL_NOT_FOUND naming anycl-compile") {
    anycl_test::fs::remove(victim);
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime bad(binary_only(out.path())); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
    CHECK(contains(msg, "missing " + victim));
    CHECK(contains(msg, "anycl-compile --device '0:0' --out DIR"));
  }
  SECTION("an empty binary folder: the first family already fails") {
    TempDir empty;
    std::string msg;
    CHECK(status_of([&] { anycl::Runtime bad(binary_only(empty.path())); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
    CHECK(contains(msg, empty.path()));
  }
}

TEST_CASE("anycl-compile refuses bad arguments", "[kernel_library][process]") {
  auto r = anycl_test::run_process({ANYCL_COMPILE_EXE});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--out DIR is required"));
  r = anycl_test::run_process({ANYCL_COMPILE_EXE, "--bogus"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown argument --bogus"));
  TempDir out;
  r = anycl_test::run_process({ANYCL_COMPILE_EXE, "--device", "no-such-device", "--out", out.path()});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "matches no device"));
}
