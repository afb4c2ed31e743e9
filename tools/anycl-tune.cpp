// anycl-tune: tunes the kernel families and dispatch thresholds of one device and writes the
// per-user parameter file every later runtime on that device loads above the shipped table
// (docs/tuning.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "anycl/anycl.hpp"
#include "anycl/tune.hpp"

namespace {

struct Args {
  std::string device_spec, space_file, out_file;
  std::vector<std::string> families;
  std::vector<anycl::TuneShape> shapes;
  double budget = 600;
  std::uint64_t seed = 1;
  bool emit_entry = false, quiet = false;
};

// Kernel families first, thresholds last: a crossover is measured on the tuned kernels.
constexpr const char* kKernelFamilies[] = {
    "gemm_packed_f32", "gemm_packed_f64", "gemm_direct_f32", "gemm_direct_f64", "gemm_tiled_f32",
    "gemm_tiled_f64",  "conv_direct_wg",  "conv_winograd_tiled", "conv_winograd", "conv_winograd_weights",
    "conv_im2col",     "conv_im2col_gemm", "conv_direct",     "conv_depthwise", "conv_implicit",
    "conv_implicit_weights"};
constexpr const char* kThresholdFamilies[] = {"dispatch_gemm_f32", "dispatch_gemm_f64", "dispatch_conv"};

std::string joined(const char* const* first, const char* const* last) {
  std::string out;
  for (const char* const* p = first; p != last; ++p) out += std::string(out.empty() ? "" : ", ") + *p;
  return out;
}

// The text's words in lines of at most `width` columns.
std::string wrapped(const std::string& text, std::size_t width) {
  std::istringstream words(text);
  std::string out, line, word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line + "\n";
}

int usage(const std::string& why) {
  const std::string families = "Families: " + joined(std::begin(kKernelFamilies), std::end(kKernelFamilies)) +
                               ", and the dispatch thresholds " +
                               joined(std::begin(kThresholdFamilies), std::end(kThresholdFamilies)) +
                               " (default: every one the device runs, in that order). A GPU-class family named on a "
                               "device that does not run it is tuned with the tiled family forced "
                               "(ANYCL_GEMM_FAMILY=tiled).";
  std::cerr << "anycl-tune: " << why << "\n"
            << "usage: anycl-tune [--device SPEC] [--family NAME]... [--budget SECONDS] [--seed N]\n"
            << "                  [--shape MxNxK[xBATCH]]... [--space FILE] [--out FILE] [--emit-entry] [--quiet]\n"
            << wrapped(families, 100)
            << "The budget is shared by the families: each may spend what is left over the families left.\n"
            << "--shape applies to the GEMM families. --emit-entry prints the tuned entry for\n"
            << "cl_kernels/params/devices.json and tunes nothing.\n";
  return 2;
}

bool parse_shape(const std::string& text, anycl::TuneShape* out) {
  unsigned long v[4] = {0, 0, 0, 1};
  int used = 0;
  const int n = std::sscanf(text.c_str(), "%lux%lux%lux%lu%n", &v[0], &v[1], &v[2], &v[3], &used);
  if (n < 3) return false;
  if (n == 3 && std::sscanf(text.c_str(), "%lux%lux%lu%n", &v[0], &v[1], &v[2], &used) != 3) return false;
  if (std::size_t(used) != text.size()) return false;
  *out = {v[0], v[1], v[2], v[3]};
  return v[0] && v[1] && v[2] && v[3];
}

bool parse_number(const char* text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text, &end);
  return *end == '\0' && std::isfinite(*out) && *out >= 0;
}

std::string minutes(double seconds) {
  const long s = std::lround(seconds);
  return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
}

void show(const std::string& family, const anycl::TuneProgress& p) {
  const int width = 24;
  const int filled = p.total ? int(width * p.done / p.total) : width;
  char best[32];
  std::snprintf(best, sizeof best, "%.1f", p.best_gflops);
  const bool ladder = family.rfind("dispatch_", 0) == 0;
  std::cerr << "\r" << family << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << p.done
            << "/" << p.total << (ladder ? "  last " : "  best ") << best << " GFLOP/s  ETA " << minutes(p.eta_seconds) << "  last "
            << p.last->status << "   " << std::flush;
}

bool built(const anycl::Runtime& rt, const std::string& variant) {
  for (const anycl::BuildReport& r : rt.build_reports())
    if (r.ok && r.device == 0 && r.family == variant) return true;
  return false;
}

// Each threshold ladder needs the kernels whose crossover it measures.
std::vector<std::string> default_families(const anycl::Runtime& rt) {
  std::vector<std::string> out;
  for (const char* f : kKernelFamilies)
    if (built(rt, f)) out.push_back(f);
  if (built(rt, "gemm_direct_f32")) out.push_back(kThresholdFamilies[0]);
  if (built(rt, "gemm_direct_f64")) out.push_back(kThresholdFamilies[1]);
  if (built(rt, "conv_winograd") && built(rt, "conv_direct")) out.push_back(kThresholdFamilies[2]);
  return out;
}

void report_thresholds(const std::string& family, const anycl::TuneResult& r) {
  std::cout << family << ": " << r.trials.size() << " ladder points measured;";
  if (r.thresholds.empty()) std::cout << " no ladder finished within the budget (thresholds unchanged)";
  for (const auto& [variant, values] : r.thresholds)
    for (const auto& [name, value] : values) std::cout << " " << variant << "." << name << "=" << value;
  std::cout << "\n  written to " << r.params_file << "\n";
}

// A runtime on the same device with the tiled GEMM family forced, for the GPU-class families a
// CPU does not build: their kernels are then what the check and the timing run. An
// ANYCL_GEMM_FAMILY the user set is left to decide.
class TiledRuntime {
 public:
  explicit TiledRuntime(std::string device_spec) : spec_(std::move(device_spec)) {}
  anycl::Runtime* for_family(const anycl::Runtime& rt, const std::string& family) {
    const char* set = std::getenv("ANYCL_GEMM_FAMILY");
    const bool had = set != nullptr;
    const std::string user = had ? set : "";
    if (family.rfind("dispatch_", 0) == 0 || built(rt, family) || !(user.empty() || user == "auto")) return nullptr;
    if (!forced_) {
      ::setenv("ANYCL_GEMM_FAMILY", "tiled", 1);
      auto restore = [&] {
        if (had) ::setenv("ANYCL_GEMM_FAMILY", user.c_str(), 1);
        else ::unsetenv("ANYCL_GEMM_FAMILY");
      };
      try {
        forced_ = std::make_unique<anycl::Runtime>(spec_);
      } catch (...) {
        restore();
        throw;
      }
      restore();
    }
    return built(*forced_, family) ? forced_.get() : nullptr;
  }

 private:
  std::string spec_;
  std::unique_ptr<anycl::Runtime> forced_;
};

void report_family(const std::string& family, const anycl::TuneResult& r, int* status) {
  std::size_t failed = 0, resumed = 0;
  for (const anycl::TuneTrial& t : r.trials) failed += t.status != "ok", resumed += t.resumed;
  std::cout << family << ": " << r.trials.size() << " of " << r.space_size << " candidates measured (" << resumed
            << " from an earlier run, " << failed << " failed)";
  if (r.best < 0) {
    std::cout << "; none passed the check\n";
    *status = 1;
    return;
  }
  const anycl::TuneTrial& best = r.trials[std::size_t(r.best)];
  std::cout << "; best " << best.gflops << " GFLOP/s";
  if (r.current >= 0) std::cout << " (the values it started from: " << r.trials[std::size_t(r.current)].gflops << ")";
  std::cout << ":";
  for (const auto& [k, v] : best.params) std::cout << " " << k << "=" << v;
  std::cout << "\n  written to " << r.params_file << "\n";
}

int tune(const Args& args) {
  anycl::Runtime rt(args.device_spec);
  if (args.emit_entry) {
    std::cout << anycl::tuned_entry_json(rt, 0) << "\n";
    return 0;
  }
  const bool chosen = !args.families.empty();
  std::vector<std::string> families = chosen ? args.families : default_families(rt);
  TiledRuntime tiled(args.device_spec);
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < families.size(); ++i) {
    const std::string& family = families[i];
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    anycl::TuneOptions opts;
    opts.family = family;
    opts.budget_seconds = std::max(0.0, args.budget - spent) / double(families.size() - i);
    opts.seed = args.seed;
    opts.shapes = args.shapes;
    opts.space_file = args.space_file;
    opts.params_file = args.out_file;
    if (!args.quiet) opts.on_progress = [&](const anycl::TuneProgress& p) { show(family, p); };
    anycl::Runtime* forced = chosen ? tiled.for_family(rt, family) : nullptr;
    if (forced) std::cout << family << ": tuned with the tiled GEMM family forced (ANYCL_GEMM_FAMILY=tiled)\n";
    std::optional<anycl::TuneResult> r;
    try {
      r = anycl::tune(forced ? *forced : rt, 0, opts);
    } catch (const anycl::Error& e) {
      // A family the device builds but whose algorithm runs the other form's kernels here.
      if (chosen || e.status() != ANYCL_ERROR_UNSUPPORTED) throw;
      std::cout << family << ": skipped: " << e.what() << "\n";
      continue;
    }
    if (!args.quiet) std::cerr << "\n";
    if (family.rfind("dispatch_", 0) == 0) report_thresholds(family, *r);
    else report_family(family, *r, &status);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--device" && has_value) args.device_spec = argv[++i];
    else if (a == "--family" && has_value) args.families.push_back(argv[++i]);
    else if (a == "--space" && has_value) args.space_file = argv[++i];
    else if (a == "--out" && has_value) args.out_file = argv[++i];
    else if (a == "--budget" && has_value) {
      if (!parse_number(argv[++i], &args.budget)) return usage(std::string("--budget: not a number of seconds: ") + argv[i]);
    } else if (a == "--seed" && has_value) {
      double seed = 0;
      if (!parse_number(argv[++i], &seed)) return usage(std::string("--seed: not a number: ") + argv[i]);
      args.seed = std::uint64_t(seed);
    } else if (a == "--shape" && has_value) {
      anycl::TuneShape s;
      if (!parse_shape(argv[++i], &s)) return usage(std::string("--shape: expected MxNxK or MxNxKxBATCH, got ") + argv[i]);
      args.shapes.push_back(s);
    } else if (a == "--emit-entry") args.emit_entry = true;
    else if (a == "--quiet") args.quiet = true;
    else return usage("unknown argument " + a);
  }
  try {
    return tune(args);
  } catch (const std::exception& e) {
    std::cerr << "\nanycl-tune: " << e.what() << "\n";
    return 1;
  }
}
