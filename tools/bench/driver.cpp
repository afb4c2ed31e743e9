// anycl-bench run: descriptors from the command line or a batch file, each checked against the
// host reference (correctness), timed (perf), or both.
#include "driver.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

#include "opponents.hpp"
#include "problem_call.hpp"
#include "report.hpp"

namespace anycl_bench {
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string device_for_reproducer(const DriverOptions& o) {
  if (!o.device.empty()) return o.device;
  const char* env = std::getenv("ANYCL_DEVICE");
  return env && *env ? env : "default";
}

int usage(const std::string& why) {
  std::cerr << "anycl-bench run: " << why << "\n"
            << "usage: anycl-bench run [--mode=correctness|perf|both] [--repeats N] [--algo NAME] [--device SPEC]\n"
            << "                       [--profile] [--batch FILE] DESCRIPTOR...\n"
            << "  DESCRIPTOR  gemm:s:RNT:m1000n37k513:lda1024  or  conv:fwd:n8c64h56w56k64r3s3:p1:s1:d1:g1\n"
            << "              (grammar: docs/reliability.md, \"Correctness driver\")\n"
            << "  --algo      conv: auto|im2col|gemm1x1|direct|winograd|implicit_gemm; gemm: auto|anycl|clblast\n"
            << "  --profile   perf: each kernel's launches per call, median device time and share of the call\n";
  return 2;
}

// One descriptor a line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_batch(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DescriptorError("--batch " + path + ": cannot read the file");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    const std::size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos && line[b] != '#') lines.push_back(line.substr(b, e - b + 1));
  }
  return lines;
}

int positive(const char* text, const char* flag) {
  const int v = std::atoi(text);
  if (v < 1) throw DescriptorError(std::string(flag) + " wants a positive integer, got '" + text + "'");
  return v;
}

// Fills `o` and the descriptors; throws DescriptorError on anything it does not understand.
std::vector<std::string> parse_args(int argc, char** argv, DriverOptions& o) {
  std::vector<std::string> descriptors;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a.rfind("--mode=", 0) == 0) o.mode = a.substr(7);
    else if (a == "--mode" && has_value) o.mode = argv[++i];
    else if (a == "--repeats" && has_value) o.repeats = positive(argv[++i], "--repeats");
    else if (a == "--algo" && has_value) o.algo = argv[++i];
    else if (a == "--device" && has_value) o.device = argv[++i];
    else if (a == "--profile") o.profile = true;
    else if (a == "--batch" && has_value) for (const std::string& d : read_batch(argv[++i])) descriptors.push_back(d);
    else if (a == "--inject-error") o.inject_error = true;  // test-only, undocumented in usage
    else if (a.rfind("--", 0) == 0) throw DescriptorError("unknown or incomplete option " + a);
    else descriptors.push_back(a);
  }
  if (o.mode != "correctness" && o.mode != "perf" && o.mode != "both")
    throw DescriptorError("--mode wants correctness, perf or both, got '" + o.mode + "'");
  if (!known_algo(o.algo)) throw DescriptorError("--algo: unknown algorithm '" + o.algo + "'");
  if (descriptors.empty()) throw DescriptorError("no descriptor given");
  return descriptors;
}

void print_perf(anycl::Runtime& rt, const std::string& descriptor, const Problem& p, const DriverOptions& o) {
  const ProblemCall call = prepare_call(rt, p, o.algo);
  const double first_ms = time_once_ms(call.run);
  const Timing t = summarize(run_timed(call.run, 1, std::max(o.repeats, 5)), call.flops, first_ms);
  std::printf("perf %s: median %.3f ms, %.2f GFLOP/s (%d runs, first call %.1f ms)\n", descriptor.c_str(), t.median_ms,
              t.gflops, t.runs, t.first_call_ms);
  std::fflush(stdout);
  if (o.profile) print_profile_row(stdout, profile_call(rt, descriptor, "run", call.run, call.flops, t.runs));
}

}  // namespace

std::string reproducer(const DriverOptions& o, const std::string& descriptor, const std::string& algo) {
  return "anycl-bench run --mode=correctness --algo " + algo + " --device " + shell_quote(device_for_reproducer(o)) +
         " " + shell_quote(descriptor);
}

Verdict check_problem(anycl::Runtime& rt, const std::string& descriptor, const Problem& p, const DriverOptions& o,
                      const std::string& algo, bool skip_unsupported) {
  std::string report;
  try {
    const ProblemCall call = prepare_call(rt, p, algo);
    for (int r = 0; r < o.repeats && report.empty(); ++r) {
      if (r > 0) call.reset();
      call.run();
      report = call.check(o.inject_error);
      if (!report.empty() && o.repeats > 1) report += " (run " + std::to_string(r + 1) + " of " + std::to_string(o.repeats) + ")";
    }
  } catch (const anycl::Error& e) {
    if (skip_unsupported && algo != "auto" && e.status() == ANYCL_ERROR_UNSUPPORTED) return Verdict::Skipped;
    report = std::string("error: ") + e.what();
  }
  if (report.empty()) return Verdict::Pass;
  std::printf("FAIL %s\n  %s\n  reproduce: %s\n", descriptor.c_str(), report.c_str(),
              reproducer(o, descriptor, algo).c_str());
  std::fflush(stdout);
  return Verdict::Fail;
}

int run_main(int argc, char** argv) {
  DriverOptions o;
  std::vector<std::string> descriptors;
  std::vector<Problem> problems;
  try {
    descriptors = parse_args(argc, argv, o);
    for (const std::string& d : descriptors) problems.push_back(parse_descriptor(d));
    for (const Problem& p : problems) require_algo_fits(p, o.algo);
  } catch (const DescriptorError& e) {
    return usage(e.what());
  }
  try {
    anycl::Runtime rt(o.device);
    int failed = 0;
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (o.mode != "perf") {
        const bool ok = check_problem(rt, descriptors[i], problems[i], o, o.algo, false) == Verdict::Pass;
        if (ok) std::printf("ok   %s\n", descriptors[i].c_str());
        failed += ok ? 0 : 1;
      }
      if (o.mode != "correctness") print_perf(rt, descriptors[i], problems[i], o);
    }
    std::printf("%zu problem(s), %d failed\n", problems.size(), failed);
    return failed ? 1 : 0;
  } catch (const DescriptorError& e) {
    return usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "anycl-bench run: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace anycl_bench
