// anycl-bench: anycl against CLBlast (same device, same run) and, on CPU devices, OpenBLAS and
// oneDNN on the same cores. Kernel compilation is excluded from medians and reported separately.
#include <sys/utsname.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>

#include "report.hpp"

namespace {

using nlohmann::json;

int usage(const std::string& why) {
  std::cerr << "anycl-bench: " << why
            << "\nusage: anycl-bench gemm|conv|all|multi [--json] [--device SPEC] [--reps N] [--quick] [--out FILE]\n"
            << "       anycl-bench multi ... [--rounds N]\n";
  return 2;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

json machine(const anycl::Runtime& rt, double runtime_ms, const std::string& env) {
  utsname u{};
  uname(&u);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  double build_ms = 0;
  for (const auto& r : rt.build_reports()) build_ms += r.milliseconds;
  return {{"date", date}, {"host", u.nodename}, {"cpu", cpu_model()}, {"kernel", u.release},
          {"device", rt.device(0).name}, {"device_type", rt.device(0).type}, {"driver", rt.device(0).driver_version},
          {"anycl_version", anycl::version()}, {"environment", env},
          {"runtime_create_ms", runtime_ms}, {"kernel_build_ms", build_ms}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string env = anycl_bench::prepare_bench_environment(argv);
  if (argc < 2) return usage("which benchmark?");
  const std::string what = argv[1];
  if (what != "gemm" && what != "conv" && what != "all" && what != "multi") return usage("unknown benchmark " + what);
  anycl_bench::Options opt;
  bool as_json = false;
  std::string spec, out;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) as_json = true;
    else if (!std::strcmp(argv[i], "--quick")) opt.quick = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) spec = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) opt.reps = std::max(5, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (what == "multi" && !std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      opt.rounds = std::max(1, std::atoi(argv[++i]));
    else if (what == "multi" && !std::strcmp(argv[i], "--worker")) i = argc;  // the rest is the child's
    else return usage(std::string("unknown argument ") + argv[i]);
  }
  if (as_json) opt.table = stderr;
  try {
    if (what == "multi") return anycl_bench::bench_multi(argc, argv, opt, as_json, out);
    const auto t0 = std::chrono::steady_clock::now();
    anycl::Runtime rt(spec);
    const double create_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    json doc = {{"schema", "anycl-bench/1"}, {"machine", machine(rt, create_ms, env)}};
    if (what != "conv") doc["gemm"] = anycl_bench::bench_gemm(rt, opt);
    if (what != "gemm") doc["conv"] = anycl_bench::bench_conv(rt, opt);
    if (!out.empty()) std::ofstream(out) << doc.dump(2) << "\n";
    if (as_json) std::cout << doc.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "anycl-bench: " << e.what() << "\n";
    return 1;
  }
}
