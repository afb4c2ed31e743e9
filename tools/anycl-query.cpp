// anycl-query: every OpenCL platform and device, what anycl needs to know of each, and whether each
// anycl kernel family builds there. Schema of --json: README, "anycl-query".
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "anycl/anycl.hpp"

namespace {

using nlohmann::json;

struct Args {
  bool json = false, build = true;
  anycl::PeakSource peak = anycl::PeakSource::CacheOnly;  // CacheOnly: --peak not given
  std::string spec;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "anycl-query: %s\nusage: anycl-query [--json] [--device SPEC] [--no-build] [--peak [--remeasure]]\n"
               "--peak: each device's measured fp32/fp64 multiply-add and triad bandwidth peaks (cached beside\n"
               "the program binaries; --remeasure measures again)\n"
               "exit codes: 0 all built, 1 no platforms, 2 bad usage or error, 3 some family failed to build, "
               "4 the device spec matches no device\n",
               why);
  return 2;
}

json device_json(const anycl::DeviceInfo& d) {
  return {{"id", d.id},
          {"name", d.name},
          {"vendor", d.vendor},
          {"type", d.type},
          {"version", d.version},
          {"driver_version", d.driver_version},
          {"opencl_c_version", d.opencl_c_version},
          {"compute_units", d.compute_units},
          {"clock_mhz", d.clock_mhz},
          {"global_mem_bytes", d.global_mem},
          {"local_mem_bytes", d.local_mem},
          {"global_mem_cache_bytes", d.global_mem_cache},
          {"global_mem_cacheline_bytes", d.global_mem_cacheline},
          {"local_mem_dedicated", d.local_mem_dedicated},
          {"max_alloc_bytes", d.max_alloc},
          {"max_work_group_size", d.max_work_group_size},
          {"fp64", d.fp64},
          {"fp16", d.fp16},
          {"unified_memory", d.unified_memory},
          {"compiler_available", d.compiler_available},
          {"preferred_vector_width", {{"float", d.vector_width_float}, {"double", d.vector_width_double},
                                      {"half", d.vector_width_half}}},
          {"partition", {{"max_sub_devices", d.max_sub_devices}, {"types", d.partition_types}}},
          {"sub_device", d.is_sub_device}};
}

json kernels_json(const anycl::Runtime& rt, std::size_t device) {
  json out = json::array();
  for (const auto& r : rt.build_reports()) {
    if (r.device != device) continue;
    out.push_back({{"family", r.family},
                   {"ok", r.ok},
                   {"build_ms", r.milliseconds},
                   {"source", r.prebuilt ? "prebuilt" : r.cache_hit ? "cache_hit" : "cache_miss"},
                   {"options", r.options},
                   {"error", r.ok ? json(nullptr) : json(r.message)}});
  }
  return out;
}

json peak_json(const anycl::DevicePeak& p) {
  return {{"fp32_gflops", p.fp32_gflops}, {"fp64_gflops", p.fp64_gflops}, {"bandwidth_gbs", p.bandwidth_gbs},
          {"from_cache", p.from_cache}, {"cache_file", p.cache_file}};
}

std::string human_bytes(std::uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

void print_text(const json& doc) {
  for (const auto& w : doc["warnings"]) std::cout << "warning: " << w.get<std::string>() << "\n";
  std::cout << "anycl " << doc["anycl_version"].get<std::string>() << ", kernels from "
            << doc["kernel_dir"].get<std::string>() << "\n";
  for (const auto& p : doc["platforms"]) {
    std::cout << "\nplatform " << p["index"] << ": " << p["name"].get<std::string>() << " ("
              << p["version"].get<std::string>() << ")\n";
    for (const auto& d : p["devices"]) {
      std::cout << "  device " << d["id"].get<std::string>() << ": " << d["name"].get<std::string>() << "\n"
                << "    type " << d["type"].get<std::string>() << ", " << d["compute_units"] << " compute units @ "
                << d["clock_mhz"] << " MHz, " << d["opencl_c_version"].get<std::string>() << ", driver "
                << d["driver_version"].get<std::string>() << "\n"
                << "    memory: global " << human_bytes(d["global_mem_bytes"]) << ", local "
                << human_bytes(d["local_mem_bytes"]) << ", max alloc " << human_bytes(d["max_alloc_bytes"])
                << ", unified " << (d["unified_memory"].get<bool>() ? "yes" : "no") << "\n"
                << "    fp64 " << (d["fp64"].get<bool>() ? "yes" : "no") << ", fp16 "
                << (d["fp16"].get<bool>() ? "yes" : "no") << ", vector widths float/double/half "
                << d["preferred_vector_width"]["float"] << "/" << d["preferred_vector_width"]["double"] << "/"
                << d["preferred_vector_width"]["half"] << ", compiler "
                << (d["compiler_available"].get<bool>() ? "yes" : "no") << ", sub-devices up to "
                << d["partition"]["max_sub_devices"] << "\n";
      if (d.contains("peak"))
        std::printf("    peak: fp32 %.1f GFLOP/s, fp64 %.1f GFLOP/s, triad %.1f GB/s (%s %s)\n",
                    d["peak"]["fp32_gflops"].get<double>(), d["peak"]["fp64_gflops"].get<double>(),
                    d["peak"]["bandwidth_gbs"].get<double>(),
                    d["peak"]["from_cache"].get<bool>() ? "cached in" : "measured, cached in",
                    d["peak"]["cache_file"].get<std::string>().c_str());
      if (!d.contains("kernels")) continue;
      for (const auto& k : d["kernels"]) {
        std::printf("    kernel %-18s %-4s %9.1f ms  %s\n", k["family"].get<std::string>().c_str(),
                    k["ok"].get<bool>() ? "ok" : "FAIL", k["build_ms"].get<double>(),
                    k["source"].get<std::string>().c_str());
        if (!k["ok"].get<bool>()) std::cout << "      " << k["error"].get<std::string>() << "\n";
      }
    }
  }
}

int run(const Args& args) {
  std::vector<std::string> warnings;
  const std::vector<anycl::PlatformInfo> platforms = anycl::discover(&warnings);
  if (platforms.empty()) {
    std::string msg = "no OpenCL platforms found (no ICD registered in /etc/OpenCL/vendors or OCL_ICD_VENDORS)";
    if (!warnings.empty()) msg = "no usable OpenCL platform";  // there were some, and they failed:
    for (const auto& w : warnings) msg += "; " + w;
    if (args.json) std::cout << json{{"schema", "anycl-query/1"}, {"platforms", json::array()}, {"error", msg}}.dump(2) << "\n";
    else std::cerr << "anycl-query: " << msg << "\n";
    return 1;
  }
  json doc = {{"schema", "anycl-query/1"}, {"anycl_version", anycl::version()}, {"warnings", warnings},
              {"kernel_dir", ""}, {"platforms", json::array()}};
  for (std::size_t p = 0; p < platforms.size(); ++p)
    doc["platforms"].push_back({{"index", p}, {"name", platforms[p].name}, {"vendor", platforms[p].vendor},
                                {"version", platforms[p].version}, {"devices", json::array()}});
  auto platform_of = [](const anycl::DeviceInfo& info) { return std::stoul(info.id.substr(0, info.id.find(':'))); };
  bool all_ok = true;
  const std::string spec = args.spec.empty() ? "all" : args.spec;
  if (args.build) {
    anycl::RuntimeOptions opts = anycl::RuntimeOptions::from_env(spec);
    opts.fail_on_build_error = false;
    anycl::Runtime rt(opts);
    doc["kernel_dir"] = rt.kernel_dir();
    for (std::size_t i = 0; i < rt.device_count(); ++i) {
      const auto& info = rt.device(i);
      json d = device_json(info);
      d["kernels"] = kernels_json(rt, i);
      if (args.peak != anycl::PeakSource::CacheOnly) d["peak"] = peak_json(*anycl::device_peak(rt, i, args.peak));
      for (const auto& k : d["kernels"]) all_ok = all_ok && k["ok"].get<bool>();
      doc["platforms"][platform_of(info)]["devices"].push_back(d);
    }
  } else {
    for (const anycl::DeviceInfo& info : anycl::match_devices(spec))
      doc["platforms"][platform_of(info)]["devices"].push_back(device_json(info));
  }
  if (args.json) std::cout << doc.dump(2) << "\n";
  else print_text(doc);
  return all_ok ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) args.json = true;
    else if (!std::strcmp(argv[i], "--no-build")) args.build = false;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) args.spec = argv[++i];
    else if (!std::strcmp(argv[i], "--peak") && args.peak == anycl::PeakSource::CacheOnly)
      args.peak = anycl::PeakSource::CacheOrMeasure;
    else if (!std::strcmp(argv[i], "--remeasure")) args.peak = anycl::PeakSource::Measure;
    else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return usage("help") , 0;
    else return usage((std::string("unknown argument ") + argv[i]).c_str());
  }
  if (!args.build && args.peak != anycl::PeakSource::CacheOnly) return usage("--peak needs the kernels: drop --no-build");
  try {
    return run(args);
  } catch (const anycl::Error& e) {
    std::cerr << "anycl-query: " << e.what() << "\n";
    // run() answered "no platforms" itself, and every listed platform has a device: what is
    // left of NO_DEVICE is a spec that matches none, a typo the caller should tell apart.
    return e.status() == ANYCL_ERROR_NO_DEVICE ? 4 : 2;
  } catch (const std::exception& e) {
    std::cerr << "anycl-query: internal error: " << e.what() << "\n";
    return 2;
  }
}
