// The scheduler's per-runtime state: the split mode and one throughput weight per device.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "anycl/parallel.hpp"

namespace anycl::detail {

// The weights are empty until set, read from ANYCL_DEVICE_WEIGHTS, loaded from the cache or
// measured (balance.hpp). Measured weights then follow the split calls within bounds around
// `calibrated`; set ones stay as set (`calibrated` is empty then).
struct SchedState {
  std::atomic<Parallel> parallel{Parallel::Auto};
  std::mutex mutex;  // guards the two vectors
  std::vector<double> weights;
  std::vector<double> calibrated;
};

}  // namespace anycl::detail
