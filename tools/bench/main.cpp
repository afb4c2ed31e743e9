// anycl-bench: anycl against CLBlast (same device, same run) and, on CPU devices, OpenBLAS and
// oneDNN on the same cores. Kernel compilation is excluded from medians and reported separately.
// `stages` times the same workloads kernel by kernel with the library's kernel profile.
#include <sys/utsname.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "driver.hpp"
#include "report.hpp"

namespace {

using nlohmann::json;

void print_usage(std::ostream& out) {
  out << "usage: anycl-bench gemm|conv|all|stages|multi|peak|params [--json] [--device SPEC] [--reps N] [--quick] [--out FILE]\n"
      << "       anycl-bench net resnet18 [--batch N[,N...]] [--reps N] [--torch SCRIPT|none] [--only TEXT] [--json] [--out FILE]\n"
      << "       anycl-bench train [--model resnet|cnn] [--batch N[,N...]] [--rounds N] [--profile] [--torch SCRIPT|none]\n"
      << "                         [--json] [--out FILE] [--device SPEC]\n"
      << "       anycl-bench multi|peak|params ... [--rounds N]\n"
      << "       anycl-bench params ... [--layers A,B]\n"
      << "       anycl-bench run [--mode=correctness|perf|both] [--repeats N] [--algo NAME] [--device SPEC]\n"
      << "                       [--profile] [--batch FILE] DESCRIPTOR...\n"
      << "       anycl-bench sweep [--seed S] [--cases N] [--device SPEC]\n"
      << "  gemm    SGEMM shapes: anycl vs CLBlast vs OpenBLAS (GFLOP/s)\n"
      << "  conv    convolution layers: each anycl algorithm vs CLBlast Convgemm vs oneDNN\n"
      << "  all     gemm and conv\n"
      << "  stages  the gemm and conv workloads with the kernel profile on: per kernel, its median\n"
      << "          device time and share of the call (anycl/profile.hpp)\n"
      << "  net     every convolution of ResNet-18 (224x224), forward, backward-data, backward-weights: anycl vs\n"
      << "          oneDNN (NCHW, blocked) vs PyTorch (tools/bench/net_torch.py), per layer and network totals (ms)\n"
      << "  train   training throughput (images/s) of the digits ResNet (batch 64) and CNN (32, 256): anycl's Trainer\n"
      << "          vs the same model in PyTorch (tools/bench/train_torch.py), taking turns; --profile adds a step's\n"
      << "          kernels (launches, device time, time outside kernels)\n"
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
      << "  --reps N       timed runs behind each median (at least 5; default 7; net: at least 1, default 3)\n"
      << "  --quick        a few small shapes, to check that it runs\n"
      << "  --only TEXT    conv, net: only the layers whose label contains TEXT (\"dw\", \"7x7\", \"b1\");\n"
      << "                 stages: only the workloads whose name contains it (\"sgemm 256\", \"1x1\")\n"
      << "  --batch LIST   net: the batch sizes, comma-separated (default 8)\n"
      << "  --torch SCRIPT net: the PyTorch timing script (default: net_torch.py of the source tree; none: skip)\n"
      << "  --layout L     conv: nchw (default), nhwc (channels-last, oneDNN's plain tensors too) or both\n"
      << "  --rounds N     multi: turns each configuration takes (default 3); train: timed runs per side (default 5)\n"
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

// "8,32" -> {8, 32}; false on anything but comma-separated positive integers.
bool parse_batches(const std::string& text, std::vector<std::size_t>& batches) {
  batches.clear();
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1) return false;
    batches.push_back(static_cast<std::size_t>(v));
  }
  return !batches.empty();
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
      what != "net" && what != "params" && what != "train")
    return usage("unknown benchmark " + what);
  anycl_bench::Options opt;
  bool as_json = false, worker = false;
  std::string spec, out, layers = "shipped,tuned";
  int first_option = 2;
  if (what == "net") {
    opt.reps = 3;  // a batch-32 pass over the network stays within minutes on 2 cores
    if (argc > 2 && argv[2][0] != '-') opt.network = argv[first_option++];
  }
  if (what == "train") opt.rounds = 5;
  for (int i = first_option; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) as_json = true;
    else if (!std::strcmp(argv[i], "--quick")) opt.quick = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) spec = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) opt.reps = std::max(what == "net" ? 1 : 5, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) opt.only = argv[++i];
    else if ((what == "net" || what == "train") && !std::strcmp(argv[i], "--batch") && i + 1 < argc) {
      if (!parse_batches(argv[++i], opt.batches)) return usage(std::string("--batch wants positive integers, got ") + argv[i]);
      opt.batches_given = true;
    } else if ((what == "net" || what == "train") && !std::strcmp(argv[i], "--torch") && i + 1 < argc)
      opt.torch_script = argv[++i];
    else if (what == "train" && !std::strcmp(argv[i], "--model") && i + 1 < argc) opt.model = argv[++i];
    else if (what == "train" && !std::strcmp(argv[i], "--profile")) opt.profile = true;
    else if (what == "conv" && !std::strcmp(argv[i], "--layout") && i + 1 < argc) {
      const std::string layout = argv[++i];
      if (layout != "nchw" && layout != "nhwc" && layout != "both")
        return usage("--layout " + layout + ": expected nchw, nhwc or both");
      opt.channels_last = layout == "nchw" ? std::vector<bool>{false}
                          : layout == "nhwc" ? std::vector<bool>{true} : std::vector<bool>{false, true};
    }
    else if (what == "params" && !std::strcmp(argv[i], "--layers") && i + 1 < argc) layers = argv[++i];
    else if ((what == "multi" || what == "peak" || what == "params" || what == "train") && !std::strcmp(argv[i], "--rounds") &&
             i + 1 < argc)
      opt.rounds = std::max(1, std::atoi(argv[++i]));
    else if (what == "multi" && !std::strcmp(argv[i], "--worker")) worker = true, i = argc;  // the rest is the child's
    else return usage(std::string("unknown argument ") + argv[i]);
  }
  if (what == "net" && opt.network != "resnet18") return usage("net: unknown network " + opt.network + " (resnet18)");
  if (as_json) opt.table = stderr;
  try {
    json m = worker ? json() : machine(env, argc, argv);
    if (what == "multi") {
      if (!worker) add_first_cpu(m);
      return anycl_bench::bench_multi(argc, argv, opt, as_json, out, m);
    }
    const auto t0 = std::chrono::steady_clock::now();
    anycl::Runtime rt(spec);
    opt.device_spec = spec;
    add_runtime(m, rt, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    json doc = {{"schema", "anycl-bench/1"}, {"machine", m}};
    if (what == "stages") doc["stages"] = anycl_bench::bench_stages(rt, opt);
    if (what == "all" || what == "gemm") doc["gemm"] = anycl_bench::bench_gemm(rt, opt);
    if (what == "all" || what == "conv") doc["conv"] = anycl_bench::bench_conv(rt, opt);
    if (what == "net") doc["net"] = anycl_bench::bench_net(rt, opt);
    if (what == "train") doc["train"] = anycl_bench::bench_train(rt, opt);
    if (what == "peak") doc["peak"] = anycl_bench::bench_peak(rt, opt);
    if (what == "params") doc["params"] = anycl_bench::bench_params(spec, opt, layers);
    // Each result as a fraction of the device's measured fp32 peak (cached after the first run).
    if (const auto peak = anycl::device_peak(rt, 0); peak && what != "peak" && what != "params" && what != "train") {
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
