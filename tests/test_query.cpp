// tools/anycl-query.cpp: the tool as a user runs it: --json schema and every documented field,
// --device, --no-build, errors and exit codes, figures cross-checked against clinfo on the same
// machine, a second platform (Oclgrind) and no platforms at all.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "runtime/kernel_library.hpp"
#include "support.hpp"

using anycl_test::contains;
using anycl_test::EnvChanges;
using anycl_test::ProcessResult;
using anycl_test::TempDir;
using nlohmann::json;

namespace {

const EnvChanges kClean{{"ANYCL_DEVICE", std::nullopt}, {"ANYCL_BINARY_ONLY", std::nullopt},
                        {"ANYCL_CACHE", std::nullopt}, {"ANYCL_KERNEL_PATH", std::nullopt}};

ProcessResult query(std::vector<std::string> args, EnvChanges env = {}) {
  args.insert(args.begin(), ANYCL_QUERY_EXE);
  for (const auto& kv : kClean) env.emplace(kv);
  return anycl_test::run_process(args, env);
}

json query_json(std::vector<std::string> args, EnvChanges env = {}) {
  args.insert(args.begin(), "--json");
  const auto r = query(args, env);
  INFO("stderr: " << r.err);
  REQUIRE(r.signal == 0);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::vector<json> all_devices(const json& doc) {
  std::vector<json> out;
  for (const auto& p : doc.at("platforms"))
    for (const auto& d : p.at("devices")) out.push_back(d);
  return out;
}

// Every documented field, with its JSON type.
void check_device_fields(const json& d, bool with_kernels) {
  INFO(d.dump(2));
  for (const char* k : {"id", "name", "vendor", "type", "version", "driver_version", "opencl_c_version"})
    CHECK(d.at(k).is_string());
  for (const char* k : {"compute_units", "clock_mhz", "global_mem_bytes", "local_mem_bytes", "global_mem_cache_bytes",
                        "global_mem_cacheline_bytes", "max_alloc_bytes", "max_work_group_size"})
    CHECK(d.at(k).is_number_unsigned());
  for (const char* k : {"fp64", "fp16", "unified_memory", "compiler_available", "sub_device"})
    CHECK(d.at(k).is_boolean());
  for (const char* k : {"float", "double", "half"}) CHECK(d.at("preferred_vector_width").at(k).is_number_unsigned());
  CHECK(d.at("partition").at("max_sub_devices").is_number_unsigned());
  CHECK(d.at("partition").at("types").is_array());
  const std::string type = d.at("type");
  CHECK((type == "cpu" || type == "gpu" || type == "accelerator" || type == "custom"));
  CHECK(d.at("compute_units").get<unsigned>() >= 1);
  CHECK(d.at("max_alloc_bytes").get<std::uint64_t>() <= d.at("global_mem_bytes").get<std::uint64_t>());
  CHECK(d.contains("kernels") == with_kernels);
  if (!with_kernels) return;
  std::size_t expected = 0;
  for (const auto& fam : anycl::detail::kernel_families()) {
    if (fam.needs_fp64 && !d.at("fp64").get<bool>()) continue;
    if (fam.tiled_gemm && d.at("type") == "cpu") continue;  // CPUs run the CPU GEMM families
    ++expected;
    const auto& ks = d.at("kernels");
    const auto it = std::find_if(ks.begin(), ks.end(), [&](const json& k) { return k.at("family") == fam.variant; });
    REQUIRE(it != ks.end());
    CHECK(it->at("ok").get<bool>());
    CHECK(it->at("error").is_null());
    CHECK(it->at("build_ms").is_number());
    CHECK(contains(it->at("options").get<std::string>(), "-DREAL=" + fam.real));
    const std::string source = it->at("source");
    CHECK((source == "cache_hit" || source == "cache_miss" || source == "prebuilt"));
  }
  CHECK(d.at("kernels").size() == expected);
}

// `clinfo --raw`: per device ("platform order:device index") its property -> value.
std::map<std::string, std::map<std::string, std::string>> clinfo(const EnvChanges& env = {}) {
  const auto r = anycl_test::run_process({ANYCL_TEST_CLINFO, "--raw"}, env);
  REQUIRE(r.exit_code == 0);
  const std::regex line(R"(^\[([^/\]]+)/([^\]]+)\]\s+(\S+)\s*(.*?)\s*$)");
  std::vector<std::string> platforms;
  std::map<std::string, std::map<std::string, std::string>> out;
  std::stringstream ss(r.out);
  for (std::string l; std::getline(ss, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line) || m[1] == "OCLICD") continue;
    auto it = std::find(platforms.begin(), platforms.end(), m[1].str());
    if (it == platforms.end()) it = platforms.insert(platforms.end(), m[1].str());
    if (m[2] == "*") continue;
    out[std::to_string(it - platforms.begin()) + ":" + m[2].str()][m[3]] = m[4];
  }
  return out;
}

void cross_check_with_clinfo(const json& doc, const EnvChanges& env) {
  const auto devices = clinfo(env);
  const auto ours = all_devices(doc);
  REQUIRE(ours.size() == devices.size());
  for (const auto& d : ours) {
    const std::string id = d.at("id");
    INFO("device " << id);
    REQUIRE(devices.count(id) == 1);
    const auto& c = devices.at(id);
    CHECK(c.at("CL_DEVICE_NAME") == d.at("name").get<std::string>());
    CHECK(std::stoull(c.at("CL_DEVICE_MAX_COMPUTE_UNITS")) == d.at("compute_units").get<std::uint64_t>());
    CHECK(std::stoull(c.at("CL_DEVICE_MAX_CLOCK_FREQUENCY")) == d.at("clock_mhz").get<std::uint64_t>());
    CHECK(std::stoull(c.at("CL_DEVICE_GLOBAL_MEM_SIZE")) == d.at("global_mem_bytes").get<std::uint64_t>());
    CHECK(std::stoull(c.at("CL_DEVICE_LOCAL_MEM_SIZE")) == d.at("local_mem_bytes").get<std::uint64_t>());
    if (c.count("CL_DEVICE_GLOBAL_MEM_CACHE_SIZE")) {  // clinfo leaves both out for a device with no cache
      CHECK(std::stoull(c.at("CL_DEVICE_GLOBAL_MEM_CACHE_SIZE")) ==
            d.at("global_mem_cache_bytes").get<std::uint64_t>());
      CHECK(std::stoull(c.at("CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE")) ==
            d.at("global_mem_cacheline_bytes").get<std::uint64_t>());
    }
    CHECK(std::stoull(c.at("CL_DEVICE_MAX_MEM_ALLOC_SIZE")) == d.at("max_alloc_bytes").get<std::uint64_t>());
    CHECK(std::stoull(c.at("CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT")) ==
          d.at("preferred_vector_width").at("float").get<std::uint64_t>());
    const std::string fp = c.count("CL_DEVICE_DOUBLE_FP_CONFIG") ? c.at("CL_DEVICE_DOUBLE_FP_CONFIG") : "";
    const std::string ext = " " + (c.count("CL_DEVICE_EXTENSIONS") ? c.at("CL_DEVICE_EXTENSIONS") : "") + " ";
    const bool fp64 = contains(fp, "CL_FP_") || contains(ext, " cl_khr_fp64 ");
    CHECK(fp64 == d.at("fp64").get<bool>());
    const std::string type = c.at("CL_DEVICE_TYPE");
    CHECK(contains(anycl_test::lower(type), d.at("type").get<std::string>()));
  }
}

}  // namespace

TEST_CASE("anycl-query --json: schema, POCL, every documented field, kernels built", "[query][process]") {
  const json doc = query_json({});
  CHECK(doc.at("schema") == "anycl-query/1");
  CHECK(doc.at("anycl_version") == ANYCL_TEST_VERSION);
  CHECK(doc.at("warnings").is_array());
  CHECK(anycl_test::fs::exists(doc.at("kernel_dir").get<std::string>() + "/common.h"));
  REQUIRE_FALSE(doc.at("platforms").empty());
  bool pocl = false;
  for (std::size_t p = 0; p < doc.at("platforms").size(); ++p) {
    const auto& plat = doc.at("platforms")[p];
    CHECK(plat.at("index") == p);
    for (const char* k : {"name", "vendor", "version"}) CHECK(plat.at(k).is_string());
    pocl = pocl || contains(anycl_test::lower(plat.at("vendor").get<std::string>()), "pocl");
    for (const auto& d : plat.at("devices")) {
      CHECK(d.at("id").get<std::string>().rfind(std::to_string(p) + ":", 0) == 0);
      check_device_fields(d, true);
    }
  }
  CHECK(pocl);
  CHECK(all_devices(doc).size() >= 1);
}

TEST_CASE("anycl-query text output names every device and kernel", "[query][process]") {
  const json doc = query_json({"--no-build"});
  const auto r = query({});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "anycl " ANYCL_TEST_VERSION));
  for (const auto& d : all_devices(doc)) {
    CHECK(contains(r.out, "device " + d.at("id").get<std::string>() + ": " + d.at("name").get<std::string>()));
  }
  for (const auto& fam : anycl::detail::kernel_families())
    if (!fam.tiled_gemm) CHECK(contains(r.out, "kernel " + fam.variant));  // tiled: not on CPUs
  CHECK_FALSE(contains(r.out, "FAIL"));
}

TEST_CASE("anycl-query --device and --no-build", "[query][process]") {
  const json one = query_json({"--device", "0:0"});
  REQUIRE(all_devices(one).size() == 1);
  CHECK(all_devices(one)[0].at("id") == "0:0");

  const json split = query_json({"--device", "0:0/2"});
  const auto subs = all_devices(split);
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].at("id") == "0:0.0");
  CHECK(subs[1].at("id") == "0:0.1");
  for (const auto& s : subs) {
    CHECK(s.at("sub_device").get<bool>());
    CHECK(s.at("compute_units").get<unsigned>() * 2 <= all_devices(one)[0].at("compute_units").get<unsigned>());
    check_device_fields(s, true);
  }

  const json nb = query_json({"--no-build"});
  CHECK(nb.at("kernel_dir") == "");
  REQUIRE_FALSE(all_devices(nb).empty());
  for (const auto& d : all_devices(nb)) check_device_fields(d, false);
  CHECK(all_devices(query_json({"--no-build", "--device", "0:0"})).size() == 1);
}

TEST_CASE("anycl-query errors: exit codes and messages", "[query][process]") {
  // A typo in --device has its own exit code, apart from 1 (no platforms).
  auto r = query({"--device", "no-such-device-anywhere"});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "matches no device"));
  r = query({"--no-build", "--device", "no-such-device-anywhere"});
  CHECK(r.exit_code == 4);
  r = query({"--json", "--device", "9:9"});
  CHECK(r.exit_code == 4);
  r = query({"--device", "cpu/0"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "sub-device count"));
  r = query({"--frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown argument --frobnicate"));
  CHECK(contains(r.err, "usage:"));
  r = query({"--device"});  // missing value
  CHECK(r.exit_code == 2);
  r = query({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "usage:"));
  // The usage text and the README list the same exit codes.
  const std::string codes = "exit codes: 0 all built, 1 no platforms, 2 bad usage or error, "
                            "3 some family failed to build, 4 the device spec matches no device";
  CHECK(contains(r.err, codes));
  const std::string readme = anycl_test::slurp(anycl_test::source_kernel_dir() + "/../README.md");
  CHECK(contains(anycl_test::lower(std::regex_replace(readme, std::regex("\\s+"), " ")), codes));
}

TEST_CASE("anycl-query reports a kernel that fails to build: exit 3, the log in JSON", "[query][process]") {
  TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  anycl_test::spit(dir / "gemm_packed.cl", anycl_test::slurp(dir / "gemm_packed.cl") + "\n#error deliberately broken\n");
  const auto r = query({"--json", "--device", "0:0"}, {{"ANYCL_KERNEL_PATH", dir.path()}});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  const json doc = json::parse(r.out);
  CHECK(doc.at("kernel_dir") == dir.path());
  bool failed = false;
  const auto devices = all_devices(doc);
  REQUIRE(devices.size() == 1);
  // Families that share gemm_packed's tile layout cannot build without it and must say why.
  std::map<std::string, std::string> layout_from;
  for (const auto& f : anycl::detail::kernel_families()) layout_from[f.variant] = f.layout_from;
  for (const auto& k : devices[0].at("kernels")) {
    const std::string family = k.at("family").get<std::string>();
    INFO(family);
    if (family.rfind("gemm_packed", 0) == 0) {
      failed = true;
      CHECK_FALSE(k.at("ok").get<bool>());
      CHECK(contains(k.at("error").get<std::string>(), "deliberately broken"));
    } else if (layout_from[family].rfind("gemm_packed", 0) == 0) {
      CHECK_FALSE(k.at("ok").get<bool>());
      CHECK(contains(k.at("error").get<std::string>(), layout_from[family]));
    } else {
      CHECK(k.at("ok").get<bool>());
    }
  }
  CHECK(failed);
}

TEST_CASE("anycl-query figures agree with clinfo on this machine", "[query][process][clinfo]") {
  const json doc = query_json({"--no-build"});
  cross_check_with_clinfo(doc, {});
}

TEST_CASE("anycl-query with no OpenCL platforms: exit 1, says so, no crash", "[query][process]") {
  TempDir empty("anycl-icd");
  const EnvChanges env{{"OCL_ICD_VENDORS", empty.path()}};
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{}, {"--no-build"}, {"--device", "cpu"}}) {
    const auto r = query(args, env);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "no OpenCL platforms"));
    CHECK(r.out.empty());
  }
  const auto r = query({"--json"}, env);
  CHECK(r.exit_code == 1);
  const json doc = json::parse(r.out);
  CHECK(doc.at("platforms").empty());
  CHECK(contains(doc.at("error").get<std::string>(), "no OpenCL platforms"));
}

#ifdef ANYCL_TEST_OCLGRIND_ICD
TEST_CASE("anycl-query with the Oclgrind ICD registered lists and builds on both platforms",
          "[query][process][oclgrind]") {
  TempDir icd("anycl-icd");
  for (const auto& e : anycl_test::fs::directory_iterator("/etc/OpenCL/vendors"))
    if (e.path().extension() == ".icd") anycl_test::fs::copy(e.path(), icd / e.path().filename().string());
  anycl_test::spit(icd / "oclgrind.icd", std::string(ANYCL_TEST_OCLGRIND_ICD) + "\n");
  const EnvChanges env{{"OCL_ICD_VENDORS", icd.path()}};
  const json doc = query_json({}, env);
  bool oclgrind = false, pocl = false;
  for (const auto& p : doc.at("platforms")) {
    oclgrind = oclgrind || contains(p.at("name").get<std::string>(), "Oclgrind");
    pocl = pocl || contains(p.at("name").get<std::string>(), "Portable Computing Language");
    REQUIRE_FALSE(p.at("devices").empty());
    for (const auto& d : p.at("devices")) check_device_fields(d, true);
  }
  CHECK(oclgrind);
  CHECK(pocl);
  cross_check_with_clinfo(doc, env);

  const json only = query_json({"--device", "oclgrind"}, env);
  REQUIRE(all_devices(only).size() == 1);
  CHECK(contains(all_devices(only)[0].at("name").get<std::string>(), "Oclgrind"));
}
#endif

TEST_CASE("anycl-query --peak measures once, caches beside the binaries, then reads the cache", "[query][process]") {
  TempDir cache("anycl-peak");
  const anycl_test::EnvChanges env = {{"ANYCL_CACHE_DIR", cache.path()}};
  auto peak_of = [&](const std::vector<std::string>& args) {
    const auto r = query(args, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto devices = all_devices(json::parse(r.out));
    REQUIRE(devices.size() == 1);
    return devices[0].at("peak");
  };
  const json first = peak_of({"--json", "--device", "0:0", "--peak"});
  CHECK(first.at("fp32_gflops").get<double>() > 0);
  CHECK(first.at("bandwidth_gbs").get<double>() > 0);
  CHECK_FALSE(first.at("from_cache").get<bool>());
  const std::string file = first.at("cache_file");
  CHECK(file.rfind(cache.path() + "/peaks/", 0) == 0);
  CHECK(anycl_test::fs::exists(file));
  const json second = peak_of({"--json", "--device", "0:0", "--peak"});
  CHECK(second.at("from_cache").get<bool>());
  CHECK(second.at("fp32_gflops").get<double>() == first.at("fp32_gflops").get<double>());
  const auto r = query({"--peak", "--no-build"}, env);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--peak needs the kernels"));
}
