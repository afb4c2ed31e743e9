#include <random>
#include <stdexcept>
#include <vector>

#include "opponent_detail.hpp"
#include "report.hpp"

namespace anycl_bench {

nlohmann::json to_json(const Timing& t) {
  if (!t.supported) return {{"supported", false}, {"note", t.note}};
  return {{"gflops", t.gflops}, {"median_ms", t.median_ms}, {"first_call_ms", t.first_call_ms}, {"runs", t.runs},
          {"note", t.note}};
}

void add_peak_fractions(nlohmann::json& doc, double peak_gflops) {
  if (peak_gflops <= 0) return;
  if (doc.is_object() && doc.contains("gflops") && doc["gflops"].is_number())
    doc["peak_fraction"] = doc["gflops"].get<double>() / peak_gflops;
  if (doc.is_structured())
    for (auto& child : doc) add_peak_fractions(child, peak_gflops);
}

anycl::Buffer random_buffer(anycl::Runtime& rt, std::size_t elems, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> v(elems);
  for (auto& x : v) x = dist(gen);
  anycl::Buffer b = rt.alloc(elems * sizeof(float));
  rt.write(b, v.data(), v.size() * sizeof(float));
  return b;
}

Timing time_anycl(const std::function<void()>& fn, double flops, int reps) {
  const double first = time_once_ms(fn);
  Timing t = summarize(run_timed(fn, 2, std::max(reps, 1)), flops, first);
  t.note = "anycl";
  return t;
}

std::vector<Timing> time_contenders(const std::vector<Prepare>& contenders, double flops, int reps) {
  std::vector<PreparedCall> ready;
  std::vector<Timing> out(contenders.size());
  for (std::size_t i = 0; i < contenders.size(); ++i) {
    try {
      ready.push_back(contenders[i]());
    } catch (const std::exception& e) {
      out[i] = unsupported(e.what());
    }
  }
  const std::vector<Timing> timed = time_in_turns(ready, flops, detail::kWarmup, detail::clamp_reps(reps));
  for (std::size_t i = 0, next = 0; i < out.size(); ++i)
    if (out[i].supported) out[i] = timed[next++];
  return out;
}

Prepare onednn_contender(ConvDirection direction, const ConvShape& cs, bool blocked_layout, bool cpu) {
  return [direction, cs, blocked_layout, cpu]() -> PreparedCall {
    if (!cpu) throw std::runtime_error("oneDNN runs on CPU devices only");
    return prepare_onednn_conv(direction, cs, blocked_layout);
  };
}

Timing unsupported(const std::string& why) {
  Timing t;
  t.supported = false;
  t.note = why;
  return t;
}

}  // namespace anycl_bench
