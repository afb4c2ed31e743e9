// `anycl-bench peak`: anycl's measured device peak (anycl/peak.hpp) against a native FMA loop on
// the same cores and anycl's own SGEMM 2048, interleaved round by round so a busy machine slows
// all three alike; medians over the rounds. Each round's anycl figure is that round's own
// measurement; the cache keeps the highest.
#include <algorithm>
#include <thread>

#include "native_peak.hpp"
#include "report.hpp"

namespace anycl_bench {
namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

nlohmann::json bench_peak(anycl::Runtime& rt, const Options& opt) {
  const GemmShape sgemm{2048, 2048, 2048};
  const auto call = anycl_gemm_call(rt, sgemm);
  const double flops = 2.0 * 2048 * 2048 * 2048;
  const unsigned threads = rt.device(0).compute_units;
  std::vector<double> peak, native, gemm;
  nlohmann::json rounds = nlohmann::json::array();
  std::fprintf(opt.table, "%-6s %14s %14s %14s\n", "round", "anycl_peak", "native_fma", "sgemm_2048");
  for (int r = 0; r < opt.rounds; ++r) {
    const anycl::DevicePeak p = *anycl::device_peak(rt, 0, anycl::PeakSource::Measure);
    const NativePeak n = native_fma_peak(threads);
    const Timing g = time_anycl(call, flops, opt.reps);
    peak.push_back(p.fp32_gflops), native.push_back(n.gflops), gemm.push_back(g.gflops);
    rounds.push_back({{"anycl_peak_fp32_gflops", p.fp32_gflops}, {"anycl_peak_fp64_gflops", p.fp64_gflops},
                      {"anycl_peak_triad_gbs", p.bandwidth_gbs}, {"native_fma_gflops", n.gflops},
                      {"native_isa", n.isa}, {"native_threads", n.threads}, {"sgemm_2048", to_json(g)}});
    std::fprintf(opt.table, "%-6d %14.1f %14.1f %14.1f\n", r, p.fp32_gflops, n.gflops, g.gflops);
  }
  const double mp = median_of(peak), mn = median_of(native), mg = median_of(gemm);
  std::fprintf(opt.table, "median %14.1f %14.1f %14.1f   peak/native %.3f  peak/sgemm %.3f\n", mp, mn, mg,
               mn > 0 ? mp / mn : 0.0, mg > 0 ? mp / mg : 0.0);
  return {{"rounds", rounds},
          {"median_anycl_peak_fp32_gflops", mp},
          {"median_native_fma_gflops", mn},
          {"median_sgemm_2048_gflops", mg},
          {"peak_vs_native", mn > 0 ? mp / mn : 0.0},
          {"peak_vs_sgemm", mg > 0 ? mp / mg : 0.0}};
}

}  // namespace anycl_bench
