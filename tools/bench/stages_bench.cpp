// anycl-bench stages: the workloads of `gemm` and `conv` with the kernel profile on
// (anycl/profile.hpp). Per workload: the call's median wall time, and per kernel its launches per
// call, median device time and share of the call; what the kernels leave is host work, transfers
// and gaps between launches.
#include <cstdio>
#include <string>
#include <vector>

#include "report.hpp"

namespace anycl_bench {
namespace {

using nlohmann::json;

json kernel_row(const anycl::KernelTime& k, int calls, double call_ms) {
  const double per_call = k.total_ms / calls;
  return {{"kernel", k.kernel},       {"device", k.device},       {"count", k.count},
          {"launches_per_call", double(k.count) / calls},        {"median_ms", k.median_ms},
          {"total_ms", k.total_ms},   {"ms_per_call", per_call}, {"share", call_ms > 0 ? per_call / call_ms : 0.0}};
}

void print_header(std::FILE* table) {
  std::fprintf(table, "%-30s %3s %9s %11s %11s %7s\n", "workload: kernel", "dev", "launches", "median ms",
               "ms per call", "share");
}

// A workload that anycl refuses (a device without the needed support) is a row with the error.
template <class Run>
void add_row(json& rows, std::FILE* table, const std::string& name, Run run) {
  try {
    rows.push_back(run());
    print_profile_row(table, rows.back());
  } catch (const anycl::Error& e) {
    rows.push_back({{"workload", name}, {"error", e.what()}});
    std::fprintf(table, "%s: %s\n", name.c_str(), e.what());
  }
}

void gemm_stages(anycl::Runtime& rt, const Options& opt, json& rows) {
  for (const GemmShape& g : gemm_shapes(opt.quick)) {
    const std::string name = "sgemm " + gemm_label(g);
    if (name.find(opt.only) == std::string::npos) continue;
    add_row(rows, opt.table, name,
            [&] { return profile_call(rt, name, "gemm", anycl_gemm_call(rt, g), gemm_flops(g), opt.reps); });
  }
}

// Forward with the selector's algorithm for every layer; backward-data and backward-weights for
// the 3x3 layers, as `conv` times them.
void conv_stages(anycl::Runtime& rt, const Options& opt, json& rows) {
  using anycl::ConvPass;
  for (const ConvShape& cs : conv_layers(opt.quick)) {
    if (("conv " + conv_label(cs)).find(opt.only) == std::string::npos) continue;
    const anycl::Conv2d d = to_desc(cs);
    d.validate();
    const ConvTensors t = random_tensors(rt, d);
    std::vector<std::pair<ConvPass, const char*>> passes = {{ConvPass::Forward, "fwd"}};
    if (cs.r == 3 && cs.groups == 1) passes.insert(passes.end(), {{ConvPass::BackwardData, "bwd-data"},
                                                                  {ConvPass::BackwardWeights, "bwd-weights"}});
    for (const auto& [pass, pass_name] : passes) {
      const std::string name = "conv " + conv_label(cs) + " " + pass_name;
      add_row(rows, opt.table, name, [&, pass = pass] {
        json row = profile_call(rt, name, "conv", anycl_conv_call(rt, d, t, pass, anycl::ConvAlgo::Auto),
                                conv_flops(cs), opt.reps);
        if (pass == ConvPass::Forward) row["algorithm"] = anycl::to_string(anycl::conv2d_select(rt, d));
        return row;
      });
    }
  }
}

}  // namespace

void print_profile_row(std::FILE* table, const json& row) {
  const double call = row["call_median_ms"].get<double>(), outside = row["outside_kernels_ms"].get<double>();
  const std::string algorithm = row.contains("algorithm") ? " (" + row["algorithm"].get<std::string>() + ")" : "";
  std::fprintf(table, "%s%s: %.3f ms per call, %.1f GFLOP/s\n", row["workload"].get<std::string>().c_str(),
               algorithm.c_str(), call, row["gflops"].get<double>());
  for (const json& k : row["kernels"])
    std::fprintf(table, "  %-28s %3zu %9.2f %11.3f %11.3f %6.1f%%\n", k["kernel"].get<std::string>().c_str(),
                 k["device"].get<std::size_t>(), k["launches_per_call"].get<double>(), k["median_ms"].get<double>(),
                 k["ms_per_call"].get<double>(), 100 * k["share"].get<double>());
  std::fprintf(table, "  %-28s %3s %9s %11s %11.3f %6.1f%%\n", "(outside kernels)", "", "", "", outside,
               call > 0 ? 100 * outside / call : 0.0);
  std::fflush(table);
}

// Two untimed calls (kernel builds, first touch), then `reps` timed calls with the profile on.
json profile_call(anycl::Runtime& rt, const std::string& name, const char* kind, const std::function<void()>& call,
                  double flops, int reps) {
  run_timed(call, 2, 0);
  std::vector<double> ms;
  std::vector<anycl::KernelTime> kernels;
  {
    ProfileScope on(rt);
    ms = run_timed(call, 0, reps);
    kernels = anycl::kernel_profile(rt);
  }
  anycl::clear_kernel_profile(rt);
  const double call_ms = median(ms);
  json row = {{"workload", name},
              {"kind", kind},
              {"calls", reps},
              {"call_median_ms", call_ms},
              {"gflops", call_ms > 0 ? flops / (call_ms * 1e6) : 0.0},
              {"kernels", json::array()}};
  double in_kernels = 0;
  for (const anycl::KernelTime& k : kernels) {
    row["kernels"].push_back(kernel_row(k, reps, call_ms));
    in_kernels += k.total_ms / reps;
  }
  // Negative when devices of a split call ran kernels side by side.
  row["outside_kernels_ms"] = call_ms - in_kernels;
  return row;
}

json bench_stages(anycl::Runtime& rt, const Options& opt) {
  json rows = json::array();
  print_header(opt.table);
  gemm_stages(rt, opt, rows);
  conv_stages(rt, opt, rows);
  return rows;
}

}  // namespace anycl_bench
