// src/runtime/spec.cpp: the device spec ("", default, cpu, 0:0, substrings, lists, /N, errors),
// on a synthetic discovery (no OpenCL) and on the real devices of this machine.
#include <catch2/catch.hpp>

#include "anycl/anycl.hpp"
#include "fake_device.hpp"
#include "runtime/spec.hpp"
#include "support.hpp"

using anycl::detail::Discovery;
using anycl::detail::FoundDevice;
using anycl::detail::Selection;
using anycl::detail::select_devices;
using anycl_test::contains;
using anycl_test::ScopedEnv;

namespace {

FoundDevice fake(std::size_t p, std::size_t d, const std::string& name, const std::string& platform,
                 const std::string& platform_vendor, const std::string& type, unsigned units, unsigned mhz) {
  FoundDevice f = anycl_test::fake_device(p, d, name, platform, type, units);
  f.info.platform_vendor = platform_vendor;
  f.info.clock_mhz = mhz;
  return f;
}

// 0:0 a big CPU, 0:1 a small CPU (both POCL), 1:0 an FPGA-like accelerator.
Discovery synthetic() {
  Discovery d;
  d.devices.push_back(fake(0, 0, "pthread-skylake-avx512", "Portable Computing Language", "The pocl project",
                           "cpu", 8, 3000));
  d.devices.push_back(fake(0, 1, "basic-x86", "Portable Computing Language", "The pocl project", "cpu", 2, 2000));
  d.devices.push_back(fake(1, 0, "Acme Stratix", "Acme FPGA SDK", "Acme Inc.", "accelerator", 1, 300));
  return d;
}

std::vector<std::size_t> devices_of(const std::vector<Selection>& sel) {
  std::vector<std::size_t> out;
  for (const auto& s : sel) out.push_back(s.device);
  return out;
}

using Indices = std::vector<std::size_t>;

anycl::Status status_of(const std::string& spec, const Discovery& d, std::string* message = nullptr) {
  try {
    select_devices(spec, d);
  } catch (const anycl::Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return ANYCL_SUCCESS;
}

}  // namespace

TEST_CASE("default spec picks the best device: gpu > accelerator > cpu, then units x clock", "[spec]") {
  Discovery d = synthetic();
  CHECK(anycl::detail::best_device(d) == 2);  // the accelerator outranks both CPUs
  CHECK(devices_of(select_devices("", d)) == Indices{2});
  CHECK(devices_of(select_devices("default", d)) == Indices{2});
  CHECK(devices_of(select_devices("DEFAULT", d)) == Indices{2});
  CHECK(select_devices("", d)[0].sub_devices == 0);

  d.devices.pop_back();  // CPUs only: the bigger one wins
  CHECK(anycl::detail::best_device(d) == 0);
  std::swap(d.devices[0].info.compute_units, d.devices[1].info.compute_units);  // 2x3000 vs 8x2000
  CHECK(anycl::detail::best_device(d) == 1);

  d.devices.push_back(fake(2, 0, "Some GPU", "GPU platform", "GPU vendor", "gpu", 1, 1));
  CHECK(anycl::detail::best_device(d) == 2);  // a tiny GPU still outranks CPUs
}

TEST_CASE("type words select every device of that type", "[spec]") {
  const Discovery d = synthetic();
  CHECK(devices_of(select_devices("cpu", d)) == Indices{0, 1});
  CHECK(devices_of(select_devices("CPU", d)) == Indices{0, 1});
  CHECK(devices_of(select_devices("accelerator", d)) == Indices{2});
  CHECK(devices_of(select_devices("all", d)) == Indices{0, 1, 2});
  CHECK(devices_of(select_devices(" all ", d)) == Indices{0, 1, 2});
}

TEST_CASE("gpu on a machine without one is NO_DEVICE and lists what exists", "[spec]") {
  std::string msg;
  REQUIRE(status_of("gpu", synthetic(), &msg) == ANYCL_ERROR_NO_DEVICE);
  CHECK(contains(msg, "'gpu' matches no device"));
  CHECK(contains(msg, "0:0 pthread-skylake-avx512"));
  CHECK(contains(msg, "0:1 basic-x86"));
  CHECK(contains(msg, "1:0 Acme Stratix [Acme FPGA SDK, accelerator]"));
}

TEST_CASE("P:D selects one device by anycl-query's numbering", "[spec]") {
  const Discovery d = synthetic();
  CHECK(devices_of(select_devices("0:0", d)) == Indices{0});
  CHECK(devices_of(select_devices("0:1", d)) == Indices{1});
  CHECK(devices_of(select_devices("1:0", d)) == Indices{2});
  std::string msg;
  CHECK(status_of("1:1", d, &msg) == ANYCL_ERROR_NO_DEVICE);
  CHECK(contains(msg, "available devices"));
  CHECK(status_of("7:0", d) == ANYCL_ERROR_NO_DEVICE);
}

TEST_CASE("a word selects devices whose name, platform or platform vendor contains it, any case", "[spec]") {
  const Discovery d = synthetic();
  CHECK(devices_of(select_devices("pthread", d)) == Indices{0});
  CHECK(devices_of(select_devices("PTHREAD", d)) == Indices{0});
  CHECK(devices_of(select_devices("POCL", d)) == Indices{0, 1});  // via "The pocl project"
  CHECK(devices_of(select_devices("portable computing", d)) == Indices{0, 1});
  CHECK(devices_of(select_devices("stratix", d)) == Indices{2});
  CHECK(devices_of(select_devices("acme", d)) == Indices{2});
}

TEST_CASE("comma lists keep order and drop duplicates", "[spec]") {
  const Discovery d = synthetic();
  CHECK(devices_of(select_devices("1:0,0:0", d)) == Indices{2, 0});
  CHECK(devices_of(select_devices("0:0,0:0", d)) == Indices{0});
  CHECK(devices_of(select_devices("cpu, 0:1, pthread", d)) == Indices{0, 1});
  CHECK(devices_of(select_devices("all,cpu,accelerator", d)) == Indices{0, 1, 2});
  CHECK(devices_of(select_devices("stratix,default", d)) == Indices{2});
}

TEST_CASE("/N asks for N equal sub-devices", "[spec]") {
  const Discovery d = synthetic();
  auto sel = select_devices("cpu/2", d);
  REQUIRE(devices_of(sel) == Indices{0, 1});
  CHECK(sel[0].sub_devices == 2);
  CHECK(sel[1].sub_devices == 2);
  sel = select_devices("0:0/4,1:0", d);
  REQUIRE(sel.size() == 2);
  CHECK(sel[0].device == 0);
  CHECK(sel[0].sub_devices == 4);
  CHECK(sel[1].sub_devices == 0);
  CHECK(select_devices("pthread/1", d)[0].sub_devices == 1);
}

TEST_CASE("a device named whole and split gets the largest split, whatever the order", "[spec]") {
  const Discovery d = synthetic();
  for (const std::string spec : {"cpu,cpu/2", "cpu/2,cpu", "0:0,cpu/2", "cpu/2,0:0/1", "cpu/3,cpu/2"}) {
    INFO(spec);
    const auto sel = select_devices(spec, d);
    REQUIRE(devices_of(sel) == Indices{0, 1});
    const unsigned want = spec.find("/3") != std::string::npos ? 3 : 2;
    CHECK(sel[0].sub_devices == want);
    CHECK(sel[1].sub_devices == want);
  }
}

TEST_CASE("malformed specs are INVALID_ARGUMENT, with the offending item named", "[spec]") {
  const Discovery d = synthetic();
  for (const std::string spec : {"cpu/0", "cpu/x", "cpu/", "cpu/-1", "cpu/99999", "0:", "0:x", "1:0:0", ",,", ",",
                                 "cpu,", ",cpu", "cpu,,0:0",
                                 "0999999999999999999999999999999999:2", "0:99999999999999999999"}) {
    INFO("spec '" << spec << "'");
    std::string msg;
    CHECK(status_of(spec, d, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK_FALSE(msg.empty());
  }
  std::string msg;
  status_of("cpu/x", d, &msg);
  CHECK(contains(msg, "'/x'"));
  status_of("cpu,,0:0", d, &msg);
  CHECK(contains(msg, "empty item"));
}

TEST_CASE("a spec that matches nothing is NO_DEVICE listing every device", "[spec]") {
  const Discovery d = synthetic();
  for (const std::string spec : {"nvidia", "cpu,nvidia", "9:9", "nvidia/2"}) {
    INFO("spec '" << spec << "'");
    std::string msg;
    REQUIRE(status_of(spec, d, &msg) == ANYCL_ERROR_NO_DEVICE);
    for (const auto& dev : d.devices) CHECK(contains(msg, dev.info.id + " " + dev.info.name));
  }
}

TEST_CASE("no devices at all is NO_DEVICE whatever the spec", "[spec]") {
  const Discovery empty;
  for (const std::string spec : {"", "default", "cpu", "0:0", "all"}) {
    std::string msg;
    CHECK(status_of(spec, empty, &msg) == ANYCL_ERROR_NO_DEVICE);
    CHECK(contains(msg, "no OpenCL platform"));
  }
  CHECK(anycl::detail::describe_devices(empty) == "no OpenCL devices were found");
}

TEST_CASE("ANYCL_DEVICE overrides an empty or default spec, never an explicit one", "[spec][env]") {
  ScopedEnv env("ANYCL_DEVICE", std::string("cpu/2"));
  CHECK(anycl::RuntimeOptions::from_env("").device_spec == "cpu/2");
  CHECK(anycl::RuntimeOptions::from_env("default").device_spec == "cpu/2");
  CHECK(anycl::RuntimeOptions::from_env("0:0").device_spec == "0:0");
  ScopedEnv unset("ANYCL_DEVICE", std::nullopt);
  CHECK(anycl::RuntimeOptions::from_env("").device_spec.empty());
}

// ---- the same forms against this machine's real devices ----

TEST_CASE("real devices: every spec form on what discovery found", "[spec][opencl]") {
  const Discovery d = anycl::detail::discover_devices();
  REQUIRE_FALSE(d.devices.empty());
  CHECK(select_devices("all", d).size() == d.devices.size());
  CHECK(select_devices("", d).size() == 1);
  const auto& first = d.devices[0].info;
  CHECK(devices_of(select_devices(first.id, d)) == Indices{0});
  CHECK(devices_of(select_devices(anycl_test::lower(first.name), d)).front() == 0);
  // Every device is reachable by its type word.
  for (std::size_t i = 0; i < d.devices.size(); ++i) {
    const auto hits = devices_of(select_devices(d.devices[i].info.type, d));
    CHECK(std::find(hits.begin(), hits.end(), i) != hits.end());
  }
  std::string msg;
  CHECK(status_of("no-such-device-anywhere", d, &msg) == ANYCL_ERROR_NO_DEVICE);
  CHECK(contains(msg, first.id + " " + first.name));
}

TEST_CASE("real runtime: POCL by name, pthread, cpu/2 sub-devices, gpu error", "[spec][opencl]") {
  const Discovery d = anycl::detail::discover_devices();
  const bool have_pocl = std::any_of(d.devices.begin(), d.devices.end(), [](const FoundDevice& f) {
    return contains(anycl_test::lower(f.info.platform_vendor + f.info.platform_name), "pocl") ||
           contains(f.info.platform_name, "Portable Computing Language");
  });
  REQUIRE(have_pocl);  // this suite's machine runs POCL; say so loudly elsewhere

  anycl::Runtime pocl("POCL");
  REQUIRE(pocl.device_count() >= 1);
  CHECK(contains(pocl.device(0).platform_name, "Portable Computing Language"));
  anycl::Runtime pthread("pthread");
  CHECK(contains(pthread.device(0).name, "pthread"));

  const auto cpus = select_devices("cpu", d);
  const auto& cpu = d.devices[cpus[0].device].info;
  REQUIRE(cpu.compute_units >= 2);
  REQUIRE(cpu.max_sub_devices >= 2);
  anycl::Runtime split(cpu.id + "/2");
  REQUIRE(split.device_count() == 2);
  CHECK(split.device(0).id == cpu.id + ".0");
  CHECK(split.device(1).id == cpu.id + ".1");
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(split.device(i).compute_units == cpu.compute_units / 2);
    CHECK(split.device(i).is_sub_device);
    CHECK(split.device(i).partition_index == i);
    CHECK(split.device(i).partition_count == 2);
    CHECK(split.device(i).name == cpu.name);
  }
  for (const auto& r : split.build_reports()) CHECK(r.ok);
  if (cpu.compute_units == 2) CHECK(split.device(0).compute_units == 1);

  // More sub-devices than compute units is refused before the driver sees it.
  try {
    anycl::Runtime too_many(cpu.id + "/" + std::to_string(cpu.compute_units + 1));
    FAIL("expected an error");
  } catch (const anycl::Error& e) {
    CHECK(e.status() == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(e.what(), "compute units"));
  }

  const bool have_gpu = std::any_of(d.devices.begin(), d.devices.end(),
                                    [](const FoundDevice& f) { return f.info.type == "gpu"; });
  if (!have_gpu) {
    try {
      anycl::Runtime gpu("gpu");
      FAIL("expected NO_DEVICE");
    } catch (const anycl::Error& e) {
      CHECK(e.status() == ANYCL_ERROR_NO_DEVICE);
      CHECK(contains(e.what(), cpu.id + " " + cpu.name));
    }
  } else {
    CHECK(anycl::Runtime("gpu").device(0).type == "gpu");
  }
}

TEST_CASE("real runtime: ANYCL_DEVICE reaches Runtime(\"\")", "[spec][opencl][env]") {
  const Discovery d = anycl::detail::discover_devices();
  REQUIRE_FALSE(d.devices.empty());
  const auto& dev = d.devices.back().info;
  ScopedEnv env("ANYCL_DEVICE", dev.id);
  anycl::Runtime rt;
  REQUIRE(rt.device_count() == 1);
  CHECK(rt.device(0).id == dev.id);
  ScopedEnv bad("ANYCL_DEVICE", std::string("cpu/0"));
  CHECK_THROWS_AS(anycl::Runtime(""), anycl::Error);
}
