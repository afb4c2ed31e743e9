// Private helpers shared by the opponent implementations (not part of opponents.hpp).
#ifndef ANYCL_BENCH_OPPONENT_DETAIL_HPP
#define ANYCL_BENCH_OPPONENT_DETAIL_HPP

#include <cstddef>
#include <random>
#include <vector>

namespace anycl_bench {
namespace detail {

// Uniform random values in [-1, 1], deterministic for a given seed.
inline std::vector<float> random_floats(size_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(gen);
  return v;
}

constexpr int kWarmup = 2;   // untimed runs after the first (compiling) call
constexpr int kMinReps = 1;  // callers choose the runs (anycl-bench: at least 5, `net` at least 1)

inline int clamp_reps(int reps) { return reps < kMinReps ? kMinReps : reps; }

}  // namespace detail
}  // namespace anycl_bench

#endif  // ANYCL_BENCH_OPPONENT_DETAIL_HPP
