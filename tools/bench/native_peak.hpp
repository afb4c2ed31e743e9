// anycl-bench peak: a native FMA loop on the host CPU, the reference for a CPU device's peak.
#pragma once

#include <string>

namespace anycl_bench {

struct NativePeak {
  double gflops = 0;  // 0: the CPU has neither AVX-512 nor AVX2+FMA
  std::string isa;
  unsigned threads = 0;
  float checksum = 0;  // keeps the chains live
};

// The best of five timed runs of `threads` threads, 12 independent FMA chains each.
NativePeak native_fma_peak(unsigned threads);

}  // namespace anycl_bench
