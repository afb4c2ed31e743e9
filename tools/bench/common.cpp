#include "report.hpp"

namespace anycl_bench {

nlohmann::json to_json(const Timing& t) {
  if (!t.supported) return {{"supported", false}, {"note", t.note}};
  return {{"gflops", t.gflops}, {"median_ms", t.median_ms}, {"first_call_ms", t.first_call_ms}, {"runs", t.runs},
          {"note", t.note}};
}

Timing time_anycl(const std::function<void()>& fn, double flops, int reps) {
  const double first = time_once_ms(fn);
  Timing t = summarize(run_timed(fn, 2, std::max(reps, 5)), flops, first);
  t.note = "anycl";
  return t;
}

}  // namespace anycl_bench
