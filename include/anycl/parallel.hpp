// anycl C++ API: how calls split over the devices of a runtime (docs/multi-device.md).
#pragma once

#include <vector>

#include "anycl/runtime.hpp"

namespace anycl {

// Data splits GEMM's m or the convolution batch; Model splits GEMM's n or the output channels;
// Hybrid splits both (a grid of devices). Auto picks per call from the shape and the weights.
enum class Parallel {
  Auto = ANYCL_PARALLEL_AUTO,
  Data = ANYCL_PARALLEL_DATA,
  Model = ANYCL_PARALLEL_MODEL,
  Hybrid = ANYCL_PARALLEL_HYBRID
};

ANYCL_API void set_parallel(Runtime& rt, Parallel mode);
ANYCL_API Parallel parallel(const Runtime& rt);

// One relative throughput per device; each device's share of a split call is proportional to it
// (0 = never used for split calls). An empty vector goes back to measured weights (calibrated
// once per device and cached on disk; ANYCL_DEVICE_WEIGHTS="w0,w1,..." overrides).
ANYCL_API void set_device_weights(Runtime& rt, const std::vector<double>& weights);
// The weights split calls use; measures (or loads from the cache) devices not measured yet.
ANYCL_API std::vector<double> device_weights(Runtime& rt);

}  // namespace anycl
