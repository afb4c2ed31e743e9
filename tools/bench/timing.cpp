// Wall-clock timing and summarising (median, GFLOP/s) shared by all opponents.
#include "opponents.hpp"

#include <algorithm>
#include <chrono>

namespace anycl_bench {

double time_once_ms(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

std::vector<double> run_timed(const std::function<void()>& fn, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  ms.reserve(reps > 0 ? static_cast<size_t>(reps) : 0);
  for (int i = 0; i < reps; ++i) ms.push_back(time_once_ms(fn));
  return ms;
}

std::vector<Timing> time_in_turns(const std::vector<PreparedCall>& calls, double flops, int warmup, int reps) {
  const std::size_t n = calls.size();
  std::vector<std::vector<double>> ms(n);
  for (int round = 0; round < warmup + reps; ++round)
    for (std::size_t turn = 0; turn < n; ++turn) {
      const std::size_t i = round % 2 ? n - 1 - turn : turn;
      const double t = time_once_ms(calls[i].run);
      if (round >= warmup) ms[i].push_back(t);
    }
  std::vector<Timing> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(summarize(ms[i], flops, calls[i].first_call_ms));
    out.back().note = calls[i].note;
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

Timing summarize(const std::vector<double>& runs_ms, double flops, double first_call_ms) {
  Timing t;
  t.median_ms = median(runs_ms);
  t.gflops = t.median_ms > 0.0 ? flops / (t.median_ms * 1e6) : 0.0;
  t.first_call_ms = first_call_ms;
  t.runs = static_cast<int>(runs_ms.size());
  return t;
}

double gemm_flops(const GemmShape& g) {
  return 2.0 * double(g.m) * double(g.n) * double(g.k) * double(g.batch);
}

double conv_flops(const ConvShape& cs) {
  return 2.0 * double(cs.n) * double(cs.k) * double(cs.out_h()) * double(cs.out_w()) *
         double(cs.c / cs.groups) * double(cs.r) * double(cs.s);
}

}  // namespace anycl_bench
