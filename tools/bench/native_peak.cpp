// A native fp32 multiply-add loop: the figure a device peak measured through OpenCL on this CPU
// must come close to. 12 independent FMA chains per thread (enough to cover the FMA latency on
// two FMA pipes), the widest vectors the CPU has (AVX-512, else AVX2), one thread per core.
#include "native_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace anycl_bench {
namespace {

constexpr long kIters = 40'000'000;  // ~0.15 s per run at ~100 GFLOP/s per core
constexpr int kRuns = 5;           // the best run counts, as for the device peak

__attribute__((target("avx512f"))) float chains_avx512(long iters, float seed) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  __m512 x[12];
  for (int c = 0; c < 12; ++c) x[c] = _mm512_set1_ps(seed + float(c));
  for (long i = 0; i < iters; ++i) {
    x[0] = _mm512_fmadd_ps(x[0], a, b), x[1] = _mm512_fmadd_ps(x[1], a, b), x[2] = _mm512_fmadd_ps(x[2], a, b);
    x[3] = _mm512_fmadd_ps(x[3], a, b), x[4] = _mm512_fmadd_ps(x[4], a, b), x[5] = _mm512_fmadd_ps(x[5], a, b);
    x[6] = _mm512_fmadd_ps(x[6], a, b), x[7] = _mm512_fmadd_ps(x[7], a, b), x[8] = _mm512_fmadd_ps(x[8], a, b);
    x[9] = _mm512_fmadd_ps(x[9], a, b), x[10] = _mm512_fmadd_ps(x[10], a, b), x[11] = _mm512_fmadd_ps(x[11], a, b);
  }
  __m512 s = x[0];
  for (int c = 1; c < 12; ++c) s = _mm512_add_ps(s, x[c]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iters, float seed) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  __m256 x[12];
  for (int c = 0; c < 12; ++c) x[c] = _mm256_set1_ps(seed + float(c));
  for (long i = 0; i < iters; ++i) {
    x[0] = _mm256_fmadd_ps(x[0], a, b), x[1] = _mm256_fmadd_ps(x[1], a, b), x[2] = _mm256_fmadd_ps(x[2], a, b);
    x[3] = _mm256_fmadd_ps(x[3], a, b), x[4] = _mm256_fmadd_ps(x[4], a, b), x[5] = _mm256_fmadd_ps(x[5], a, b);
    x[6] = _mm256_fmadd_ps(x[6], a, b), x[7] = _mm256_fmadd_ps(x[7], a, b), x[8] = _mm256_fmadd_ps(x[8], a, b);
    x[9] = _mm256_fmadd_ps(x[9], a, b), x[10] = _mm256_fmadd_ps(x[10], a, b), x[11] = _mm256_fmadd_ps(x[11], a, b);
  }
  __m256 s = x[0];
  for (int c = 1; c < 12; ++c) s = _mm256_add_ps(s, x[c]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

}  // namespace

NativePeak native_fma_peak(unsigned threads) {
  NativePeak out;
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return out;
  out.isa = avx512 ? "avx512f" : "avx2+fma";
  out.threads = threads;
  const int lanes = avx512 ? 16 : 8;
  std::vector<float> sink(threads);
  for (int r = 0; r < kRuns; ++r) {
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = avx512 ? chains_avx512(kIters, float(t)) : chains_avx2(kIters, float(t)); });
    for (auto& th : pool) th.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.gflops = std::max(out.gflops, 2.0 * 12 * lanes * double(kIters) * threads / seconds / 1e9);
  }
  out.checksum = sink[0];
  return out;
}

}  // namespace anycl_bench
