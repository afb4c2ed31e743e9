// anycl-bench params: the same workloads on runtimes of two parameter layers (ANYCL_PARAMS, by
// default shipped vs tuned) in one process, taking turns every round so a slow spell of a shared
// machine falls on both; per workload each layer's median GFLOP/s and the ratio second/first.
// The workloads are issue 27's acceptance set: SGEMM 1024 and 2048, DGEMM 1024, and the 3x3
// convolution layers of `conv` (forward, the selector's choice).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>

#include "report.hpp"

namespace anycl_bench {
namespace {

struct Workload {
  std::string label;
  double flops;
  std::vector<std::function<void()>> calls;  // one per layer
};

template <typename T>
anycl::Buffer random_values_buffer(anycl::Runtime& rt, std::size_t elems, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<T> v(elems);
  for (T& x : v) x = T(dist(gen));
  anycl::Buffer b = rt.alloc(elems * sizeof(T));
  rt.write(b, v.data(), v.size() * sizeof(T));
  return b;
}

template <typename T>
std::function<void()> gemm_call(anycl::Runtime& rt, std::size_t n) {
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
  const anycl::Buffer a = random_values_buffer<T>(rt, n * n, 1), b = random_values_buffer<T>(rt, n * n, 2),
                      c = random_values_buffer<T>(rt, n * n, 3);
  return [&rt, s, a, b, c] { anycl::gemm<T>(rt, s, T(1), a, 0, b, 0, T(0), c, 0).wait(); };
}

std::vector<std::string> split_layers(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

// A runtime built with ANYCL_PARAMS=layer (the tables are read when it starts).
std::unique_ptr<anycl::Runtime> runtime_of(const std::string& layer, const std::string& spec) {
  const char* old = std::getenv("ANYCL_PARAMS");
  const std::string saved = old ? old : "";
  ::setenv("ANYCL_PARAMS", layer.c_str(), 1);
  auto rt = std::make_unique<anycl::Runtime>(spec);
  if (old) ::setenv("ANYCL_PARAMS", saved.c_str(), 1);
  else ::unsetenv("ANYCL_PARAMS");
  return rt;
}

}  // namespace

nlohmann::json bench_params(const std::string& spec, const Options& opt, const std::string& layer_list) {
  const std::vector<std::string> layers = split_layers(layer_list);
  if (layers.size() != 2) throw std::invalid_argument("--layers: expected two ANYCL_PARAMS values, got " + layer_list);
  std::vector<std::unique_ptr<anycl::Runtime>> rts;
  for (const std::string& l : layers) rts.push_back(runtime_of(l, spec));
  const std::size_t big = opt.quick ? 256 : 2048, square = opt.quick ? 128 : 1024;
  std::vector<Workload> work = {{"sgemm " + std::to_string(square), 2.0 * std::pow(double(square), 3), {}},
                                {"sgemm " + std::to_string(big), 2.0 * std::pow(double(big), 3), {}},
                                {"dgemm " + std::to_string(square), 2.0 * std::pow(double(square), 3), {}}};
  for (auto& rt : rts) {
    work[0].calls.push_back(gemm_call<float>(*rt, square));
    work[1].calls.push_back(gemm_call<float>(*rt, big));
    work[2].calls.push_back(gemm_call<double>(*rt, square));
  }
  for (const ConvShape& cs : conv_layers(opt.quick)) {
    if (cs.r != 3 || cs.groups != 1) continue;
    Workload w{"conv " + conv_label(cs), conv_flops(cs), {}};
    for (auto& rt : rts) {
      const anycl::Conv2d d = to_desc(cs);
      w.calls.push_back(anycl_conv_call(*rt, d, random_tensors(*rt, d), anycl::ConvPass::Forward, anycl::ConvAlgo::Auto));
    }
    work.push_back(std::move(w));
  }
  nlohmann::json results = nlohmann::json::array();
  double log_sum = 0, lowest = 1e300;
  std::fprintf(opt.table, "%-34s %12s %12s %8s\n", "workload", layers[0].c_str(), layers[1].c_str(), "ratio");
  for (const Workload& w : work) {
    std::vector<double> ms[2];
    for (auto& call : w.calls) call();  // warm-up: builds and first-call allocations
    for (int round = 0; round < opt.rounds; ++round)
      for (int turn = 0; turn < 2; ++turn) {
        const int which = (round + turn) % 2;  // the order flips every round
        const auto runs = run_timed(w.calls[std::size_t(which)], 0, std::max(1, opt.reps / opt.rounds));
        ms[which].insert(ms[which].end(), runs.begin(), runs.end());
      }
    const double g0 = w.flops / (median(ms[0]) * 1e6), g1 = w.flops / (median(ms[1]) * 1e6);
    const double ratio = g1 / g0;
    log_sum += std::log(ratio), lowest = std::min(lowest, ratio);
    std::fprintf(opt.table, "%-34s %12.1f %12.1f %8.3f\n", w.label.c_str(), g0, g1, ratio);
    results.push_back({{"workload", w.label}, {layers[0] + "_gflops", g0}, {layers[1] + "_gflops", g1}, {"ratio", ratio}});
  }
  return {{"layers", layers},
          {"ratio_is", layers[1] + " / " + layers[0]},
          {"workloads", results},
          {"min_ratio", lowest},
          {"geomean_ratio", std::exp(log_sum / double(work.size()))}};
}

}  // namespace anycl_bench
