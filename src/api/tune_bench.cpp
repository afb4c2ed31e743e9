#include "api/tune_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "runtime/error.hpp"

namespace anycl::detail {

std::unique_ptr<TuneBench> make_tune_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const TuneOptions& options) {
  if (variant.rfind("gemm_", 0) == 0) {
    // The direct kernel serves what the dispatch sends it: small, and narrow problems.
    const bool direct = variant.rfind("gemm_direct_", 0) == 0;
    const std::vector<TuneShape> usual = direct ? std::vector<TuneShape>{{256, 256, 256, 1}, {512, 512, 512, 1}, {1024, 64, 1024, 1}}
                                                : std::vector<TuneShape>{{1024, 1024, 1024, 1}, {1024, 64, 1024, 1}, {256, 256, 256, 8}};
    return make_gemm_bench(rt, device, variant, options.shapes.empty() ? usual : options.shapes);
  }
  if (variant.rfind("conv_", 0) == 0) return make_conv_bench(rt, device, variant, options.conv_layers);
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: family " + variant + " is not a family it can tune");
}

double best_seconds(const std::function<void()>& run) {
  using clock = std::chrono::steady_clock;
  run();
  double best = std::numeric_limits<double>::infinity(), total = 0;
  for (int rep = 0; rep < 10 && (rep < 2 || total < 0.3); ++rep) {
    const auto start = clock::now();
    run();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    best = std::min(best, seconds), total += seconds;
  }
  return best;
}

double geometric_mean(std::size_t count, const std::function<double(std::size_t)>& figure) {
  double log_sum = 0;
  for (std::size_t i = 0; i < count; ++i) log_sum += std::log(figure(i));
  return std::exp(log_sum / double(count));
}

}  // namespace anycl::detail
