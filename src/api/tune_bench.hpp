// What anycl-tune does with one candidate once it is built on a device, for every kernel family:
// check it against a host reference in double with guard regions around every buffer, then time
// it on the family's representative problems. The GEMM families (tune_gemm.cpp) and the
// convolution families (tune_conv.cpp) implement it; the search (tune_api.cpp) serves both.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "anycl/tune.hpp"

namespace anycl::detail {

class TuneBench {
 public:
  virtual ~TuneBench() = default;
  // "" when every result matches the reference within tolerance and every byte outside the
  // outputs' elements (inputs, guards, gaps) came back unchanged; else what was wrong.
  virtual std::string check() = 0;
  // Geometric mean GFLOP/s over the problems (best of a few runs each).
  virtual double time() = 0;
  // The timed problems as text: measurements on other problems are not resumed.
  virtual std::string problems_key() const = 0;
};

// The bench of `variant` (gemm_* or conv_*) with options.shapes / options.conv_layers, or the
// family's representative problems when those are empty. Throws Error naming a family it cannot
// tune or a bad problem.
std::unique_ptr<TuneBench> make_tune_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const TuneOptions& options);

std::unique_ptr<TuneBench> make_gemm_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const std::vector<TuneShape>& shapes);
std::unique_ptr<TuneBench> make_conv_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const std::vector<Conv2d>& layers);

// Uniform values in [-1, 1) from `seed`.
template <typename T>
std::vector<T> random_values(std::size_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<T> out(count);
  for (T& v : out) v = T(dist(gen));
  return out;
}

// Seconds of the fastest of 2 to 10 runs of `run` (until 0.3 s), after one warm-up run (first
// launches pay builds and allocations that are not the kernel's).
double best_seconds(const std::function<void()>& run);

// Geometric mean of `figure(i)` for i < count.
double geometric_mean(std::size_t count, const std::function<double(std::size_t)>& figure);

}  // namespace anycl::detail
