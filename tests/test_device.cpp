// src/runtime/device.cpp: discovery through the ICD loader and the DeviceInfo of each device,
// checked against direct OpenCL queries; two POCL devices and a second (Oclgrind) platform.
#include <catch2/catch.hpp>

#include "anycl/anycl.hpp"
#include "runtime/device.hpp"
#include "runtime/kernel_library.hpp"
#include "sched/engine.hpp"
#include "runtime/spec.hpp"
#include "cl_device_query.hpp"
#include "support.hpp"

using anycl_test::contains;

namespace {

using anycl_test::raw;
using anycl_test::raw_string;

// Every family applicable to the device was built for it, and every report says ok.
void check_all_families_built(const anycl::Runtime& rt) {
  for (std::size_t d = 0; d < rt.device_count(); ++d) {
    for (const auto& fam : anycl::detail::kernel_families()) {
      if (!anycl::detail::builds_on(fam, rt.device(d))) continue;
      INFO("device " << rt.device(d).id << " family " << fam.variant);
      CHECK(anycl::detail::engine(rt).slot(d).has_program(fam.variant));
      const auto it = std::find_if(rt.build_reports().begin(), rt.build_reports().end(),
                                   [&](const anycl::BuildReport& r) { return r.device == d && r.family == fam.variant; });
      REQUIRE(it != rt.build_reports().end());
      CHECK(it->ok);
      CHECK(it->message.empty());
    }
  }
}

}  // namespace

TEST_CASE("discovery numbers platforms and devices P:D and flattens them in order", "[device][opencl]") {
  const auto d = anycl::detail::discover_devices();
  REQUIRE_FALSE(d.platforms.empty());
  std::size_t flat = 0;
  for (std::size_t p = 0; p < d.platforms.size(); ++p) {
    CHECK_FALSE(d.platforms[p].name.empty());
    for (std::size_t i = 0; i < d.platforms[p].devices.size(); ++i, ++flat) {
      REQUIRE(flat < d.devices.size());
      const auto& fd = d.devices[flat];
      CHECK(fd.platform_index == p);
      CHECK(fd.device_index == i);
      CHECK(fd.info.id == std::to_string(p) + ":" + std::to_string(i));
      CHECK(d.platforms[p].devices[i].id == fd.info.id);
      CHECK(fd.info.platform_name == d.platforms[p].name);
      CHECK_FALSE(fd.info.is_sub_device);
    }
  }
  CHECK(flat == d.devices.size());

  // The public discover() agrees with the internal one.
  std::vector<std::string> warnings{"stale"};
  const auto pub = anycl::discover(&warnings);
  CHECK(pub.size() == d.platforms.size());
  CHECK(warnings == d.warnings);
}

TEST_CASE("DeviceInfo matches what OpenCL answers directly", "[device][opencl]") {
  const auto d = anycl::detail::discover_devices();
  REQUIRE_FALSE(d.devices.empty());
  for (const auto& fd : d.devices) {
    const auto& info = fd.info;
    INFO("device " << info.id << " " << info.name);
    CHECK(info.name == raw_string(fd.id, CL_DEVICE_NAME));
    CHECK(info.vendor == raw_string(fd.id, CL_DEVICE_VENDOR));
    CHECK(info.driver_version == raw_string(fd.id, CL_DRIVER_VERSION));
    CHECK(info.compute_units == raw<cl_uint>(fd.id, CL_DEVICE_MAX_COMPUTE_UNITS));
    CHECK(info.clock_mhz == raw<cl_uint>(fd.id, CL_DEVICE_MAX_CLOCK_FREQUENCY));
    CHECK(info.global_mem == raw<cl_ulong>(fd.id, CL_DEVICE_GLOBAL_MEM_SIZE));
    CHECK(info.local_mem == raw<cl_ulong>(fd.id, CL_DEVICE_LOCAL_MEM_SIZE));
    CHECK(info.global_mem_cache == raw<cl_ulong>(fd.id, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE));
    CHECK(info.global_mem_cacheline == raw<cl_uint>(fd.id, CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE));
    CHECK(info.max_alloc == raw<cl_ulong>(fd.id, CL_DEVICE_MAX_MEM_ALLOC_SIZE));
    CHECK(info.max_work_group_size == raw<size_t>(fd.id, CL_DEVICE_MAX_WORK_GROUP_SIZE));
    CHECK(info.mem_base_addr_align_bytes * 8 == raw<cl_uint>(fd.id, CL_DEVICE_MEM_BASE_ADDR_ALIGN));
    CHECK(info.vector_width_float == raw<cl_uint>(fd.id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT));
    CHECK(info.compiler_available == (raw<cl_bool>(fd.id, CL_DEVICE_COMPILER_AVAILABLE) == CL_TRUE));
    const std::string ext = " " + raw_string(fd.id, CL_DEVICE_EXTENSIONS) + " ";
    const bool fp64 = raw<cl_device_fp_config>(fd.id, CL_DEVICE_DOUBLE_FP_CONFIG) != 0 || contains(ext, " cl_khr_fp64 ");
    CHECK(info.fp64 == fp64);
    CHECK(info.fp16 == contains(ext, " cl_khr_fp16 "));
    const auto type = raw<cl_device_type>(fd.id, CL_DEVICE_TYPE);
    if (type & CL_DEVICE_TYPE_GPU) CHECK(info.type == "gpu");
    else if (type & CL_DEVICE_TYPE_ACCELERATOR) CHECK(info.type == "accelerator");
    else if (type & CL_DEVICE_TYPE_CPU) CHECK(info.type == "cpu");
    else CHECK(info.type == "custom");
    CHECK(info.max_alloc <= info.global_mem);
    CHECK(info.max_alloc > 0);
    CHECK(info.opencl_c_version.rfind("OpenCL C ", 0) == 0);
    CHECK(info.max_sub_devices == raw<cl_uint>(fd.id, CL_DEVICE_PARTITION_MAX_SUB_DEVICES));
    if (info.max_sub_devices > 1) CHECK_FALSE(info.partition_types.empty());
  }
}

TEST_CASE("query_device describes a sub-device with its own compute units", "[device][opencl]") {
  const auto d = anycl::detail::discover_devices();
  const auto it = std::find_if(d.devices.begin(), d.devices.end(), [](const anycl::detail::FoundDevice& f) {
    return f.info.max_sub_devices >= 2 && f.info.compute_units >= 2;
  });
  REQUIRE(it != d.devices.end());  // POCL's CPU device partitions
  const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY, 1, 0};
  cl_uint n = 0;
  REQUIRE(clCreateSubDevices(it->id, props, 0, nullptr, &n) == CL_SUCCESS);
  std::vector<cl_device_id> subs(n);
  REQUIRE(clCreateSubDevices(it->id, props, n, subs.data(), nullptr) == CL_SUCCESS);
  const auto info = anycl::detail::query_device(subs[0], it->platform);
  CHECK(info.compute_units == 1);
  CHECK(info.name == it->info.name);
  CHECK(info.platform_name == it->info.platform_name);
  for (auto s : subs) clReleaseDevice(s);
}

// ---- environment tests: registered as their own ctest entries (tests/CMakeLists.txt) ----

TEST_CASE("two POCL devices: 'all' opens both, each builds every kernel family", "[.two-pocl]") {
  const auto d = anycl::detail::discover_devices();
  REQUIRE(d.devices.size() == 2);  // POCL_DEVICES="pthread pthread"
  CHECK(d.platforms.size() == 1);
  CHECK(d.devices[0].info.id == "0:0");
  CHECK(d.devices[1].info.id == "0:1");

  anycl::Runtime rt("all");
  REQUIRE(rt.device_count() == 2);
  CHECK(rt.device(0).id == "0:0");
  CHECK(rt.device(1).id == "0:1");
  check_all_families_built(rt);
  // One platform: one context shared by both queues.
  CHECK(anycl::detail::engine(rt).slot(0).context.get() == anycl::detail::engine(rt).slot(1).context.get());
  CHECK(anycl::detail::engine(rt).slot(0).queue.get() != anycl::detail::engine(rt).slot(1).queue.get());

  // Memory works on the second device too.
  const std::vector<int> in{1, 2, 3, 4, 5};
  std::vector<int> out(in.size(), 0);
  auto buf = rt.alloc(in.size() * sizeof(int), 1);
  CHECK(buf.device() == 1);
  rt.write(buf, in.data(), in.size() * sizeof(int));
  rt.read(buf, out.data(), out.size() * sizeof(int));
  CHECK(out == in);

  // "0:1" alone, and a list naming both in reverse order.
  anycl::Runtime second("0:1");
  REQUIRE(second.device_count() == 1);
  CHECK(second.device(0).id == "0:1");
  anycl::Runtime reversed("0:1,0:0");
  REQUIRE(reversed.device_count() == 2);
  CHECK(reversed.device(0).id == "0:1");
  CHECK(reversed.device(1).id == "0:0");
}

TEST_CASE("second platform: Oclgrind next to POCL, selectable by name, builds there", "[.two-platforms]") {
  const auto d = anycl::detail::discover_devices();
  REQUIRE(d.platforms.size() == 2);  // OCL_ICD_VENDORS = POCL + Oclgrind
  const auto is_oclgrind = [](const anycl::PlatformInfo& p) { return contains(p.name, "Oclgrind"); };
  const auto is_pocl = [](const anycl::PlatformInfo& p) { return contains(p.name, "Portable Computing Language"); };
  CHECK(std::count_if(d.platforms.begin(), d.platforms.end(), is_oclgrind) == 1);
  CHECK(std::count_if(d.platforms.begin(), d.platforms.end(), is_pocl) == 1);

  anycl::Runtime rt("oclgrind");
  REQUIRE(rt.device_count() == 1);
  CHECK(contains(rt.device(0).platform_name, "Oclgrind"));
  check_all_families_built(rt);

  // Both platforms at once: two contexts, one per platform.
  anycl::Runtime both("all");
  REQUIRE(both.device_count() == d.devices.size());
  CHECK(anycl::detail::engine(both).slot(0).context.get() != anycl::detail::engine(both).slot(both.device_count() - 1).context.get());
  check_all_families_built(both);

  // Buffers on the Oclgrind device.
  std::vector<float> in{1.5f, -2.f, 3.25f}, out(3, 0.f);
  auto buf = rt.alloc(sizeof(float) * 3);
  rt.write(buf, in.data(), sizeof(float) * 3);
  rt.read(buf, out.data(), sizeof(float) * 3);
  CHECK(out == in);
}
