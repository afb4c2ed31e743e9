// anycl C++ API: a device's measured peaks (cl_kernels/peak.cl): fp32 and fp64 multiply-add
// throughput and streaming bandwidth. Measured once per device and driver, then read from a JSON
// file in the binary cache folder (<cache>/peaks/); anycl-query --peak prints them and
// anycl-bench reports results as fractions of them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "anycl/export.h"
#include "anycl/runtime.hpp"

namespace anycl {

struct DevicePeak {
  double fp32_gflops = 0, fp64_gflops = 0;  // multiply-add = 2 flops; fp64 0 without fp64
  double bandwidth_gbs = 0;                 // STREAM triad, 12 bytes per element
  bool from_cache = false;                  // read from `cache_file`, not measured by this call
  std::string cache_file;                   // "" when the cache is off
};

enum class PeakSource {
  CacheOrMeasure,  // the cached figures, else measure (about a second) and cache them
  Measure,         // measure again and return that; the cache keeps the higher of old and new
  CacheOnly,       // the cached figures or nothing
};

ANYCL_API std::optional<DevicePeak> device_peak(Runtime& rt, std::size_t device,
                                                PeakSource source = PeakSource::CacheOrMeasure);

}  // namespace anycl
