// anycl-bench: anycl against CLBlast (same device, same run) and, on CPU devices, OpenBLAS and
// oneDNN on the same cores. Kernel compilation is excluded from medians and reported separately.
// `stages` times the same workloads kernel by kernel with the library's kernel profile.
#include <sys/utsname.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>

#include "driver.hpp"
#include "report.hpp"

namespace {

using nlohmann::json;

void print_usage(std::ostream& out) {
  out << "usage: anycl-bench gemm|conv|all|stages|multi|peak|params [--json] [--device SPEC] [--reps N] [--quick] [--out FILE]\n"
      << "       anycl-bench multi|peak|params ... [--rounds N]\n"
      << "       anycl-bench params ... [--layers A,B]\n"
      << "       anycl-bench run [--mode=correctness|perf|both] [--repeats N] [--algo NAME] [--device SPEC]\n"
      << "                       [--batch FILE] DESCRIPTOR...\n"
      << "       anycl-bench sweep [--seed S] [--cases N] [--device SPEC]\n"
      << "  gemm    SGEMM shapes: anycl vs CLBlast vs OpenBLAS (GFLOP/s)\n"
      << "  conv    convolution layers: each anycl algorithm vs CLBlast Convgemm vs oneDNN\n"
      << "  all     gemm and conv\n"
      << "  stages  the gemm and conv workloads with the kernel profile on: per kernel, its median\n"
      << "          device time and share of the call (anycl/profile.hpp)\n"
      << "  multi   the multi-device scheduler: cpu/2 vs one core vs the whole device, POCL + Oclgrind\n"
      << "  peak    the device's measured fp32 peak (anycl-query --peak) vs a native FMA loop vs SGEMM 2048,\n"
      << "          interleaved over --rounds (default 3); gemm/conv results carry peak_fraction\n"
      << "  params  SGEMM 1024/2048, DGEMM 1024 and the 3x3 conv layers on two runtimes of parameter layers\n"
      << "          --layers (ANYCL_PARAMS values, default shipped,tuned) taking turns; ratios second/first\n"
      << "  run     check (against a host reference) and/or time the problems DESCRIPTOR names\n"
      << "  sweep   check N seeded random problems; prints a reproducing `run` line per failure\n"
      << "          (descriptors, modes, tolerances: docs/reliability.md, \"Correctness driver\")\n"
      << "  --json         the JSON document on stdout (the tables go to stderr)\n"
      << "  --out FILE     the JSON document to FILE as well\n"
      << "  --device SPEC  the runtime's devices, as ANYCL_DEVICE (default: ANYCL_DEVICE, else the best single device)\n"
      << "  --reps N       timed runs behind each median (at least 5; default 7)\n"
      << "  --quick        a few small shapes, to check that it runs\n"
      << "  --only TEXT    conv: only the layers whose label contains TEXT (\"dw\", \"7x7\", \"b1\")\n"
      << "  --rounds N     multi: turns each configuration takes (default 3)\n"
      << "tools/bench/perf_table.py turns the JSON into docs/performance.md's tables;\n"
      << "tools/bench/compare_builds.sh times two anycl-bench builds alternately.\n";
}

int usage(const std::string& why) {
  std::cerr << "anycl-bench: " << why << "\n";
  print_usage(std::cerr);
  return 2;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// What every document records about the run: machine, build, environment and command line.
json machine(const std::string& env, int argc, char** argv) {
  utsname u{};
  uname(&u);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::string command = "anycl-bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  return {{"date", date},        {"host", u.nodename},
          {"cpu", cpu_model()}, {"kernel", u.release},
          {"environment", env}, {"anycl_version", anycl::version()},
          {"command", command}};
}

void add_device(json& m, const anycl::DeviceInfo& d) {
  m["device"] = d.name, m["device_type"] = d.type, m["driver"] = d.driver_version;
}

// The device of a run on one runtime, and what creating the runtime cost.
void add_runtime(json& m, const anycl::Runtime& rt, double runtime_ms) {
  double build_ms = 0;
  for (const auto& r : rt.build_reports()) build_ms += r.milliseconds;
  add_device(m, rt.device(0));
  m["runtime_create_ms"] = runtime_ms, m["kernel_build_ms"] = build_ms;
}

// `multi` runs its configurations on the first CPU device.
void add_first_cpu(json& m) {
  for (const anycl::PlatformInfo& p : anycl::discover())
    for (const anycl::DeviceInfo& d : p.devices)
      if (d.type == "cpu") return add_device(m, d);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string env = anycl_bench::prepare_bench_environment(argv);
  if (argc < 2) return usage("which benchmark?");
  const std::string what = argv[1];
  if (what == "-h" || what == "--help") return print_usage(std::cout), 0;
  if (what == "run") return anycl_bench::run_main(argc, argv);
  if (what == "sweep") return anycl_bench::sweep_main(argc, argv);
  if (what != "gemm" && what != "conv" && what != "all" && what != "stages" && what != "multi" && what != "peak" &&
      what != "params")
    return usage("unknown benchmark " + what);
  anycl_bench::Options opt;
  bool as_json = false, worker = false;
  std::string spec, out, layers = "shipped,tuned";
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) as_json = true;
    else if (!std::strcmp(argv[i], "--quick")) opt.quick = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) spec = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) opt.reps = std::max(5, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) opt.only = argv[++i];
    else if (what == "params" && !std::strcmp(argv[i], "--layers") && i + 1 < argc) layers = argv[++i];
    else if ((what == "multi" || what == "peak" || what == "params") && !std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      opt.rounds = std::max(1, std::atoi(argv[++i]));
    else if (what == "multi" && !std::strcmp(argv[i], "--worker")) worker = true, i = argc;  // the rest is the child's
    else return usage(std::string("unknown argument ") + argv[i]);
  }
  if (as_json) opt.table = stderr;
  try {
    json m = worker ? json() : machine(env, argc, argv);
    if (what == "multi") {
      if (!worker) add_first_cpu(m);
      return anycl_bench::bench_multi(argc, argv, opt, as_json, out, m);
    }
    const auto t0 = std::chrono::steady_clock::now();
    anycl::Runtime rt(spec);
    add_runtime(m, rt, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    json doc = {{"schema", "anycl-bench/1"}, {"machine", m}};
    if (what == "stages") doc["stages"] = anycl_bench::bench_stages(rt, opt);
    if (what == "all" || what == "gemm") doc["gemm"] = anycl_bench::bench_gemm(rt, opt);
    if (what == "all" || what == "conv") doc["conv"] = anycl_bench::bench_conv(rt, opt);
    if (what == "peak") doc["peak"] = anycl_bench::bench_peak(rt, opt);
    if (what == "params") doc["params"] = anycl_bench::bench_params(spec, opt, layers);
    // Each result as a fraction of the device's measured fp32 peak (cached after the first run).
    if (const auto peak = anycl::device_peak(rt, 0); peak && what != "peak" && what != "params") {
      doc["machine"]["peak"] = {{"fp32_gflops", peak->fp32_gflops}, {"fp64_gflops", peak->fp64_gflops},
                                {"bandwidth_gbs", peak->bandwidth_gbs}, {"cache_file", peak->cache_file}};
      anycl_bench::add_peak_fractions(doc, peak->fp32_gflops);
    }
    if (!out.empty()) std::ofstream(out) << doc.dump(2) << "\n";
    if (as_json) std::cout << doc.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "anycl-bench: " << e.what() << "\n";
    return 1;
  }
}
