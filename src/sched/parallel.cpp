// The public multi-device settings (include/anycl/parallel.hpp).
#include "anycl/parallel.hpp"

#include "runtime/error.hpp"
#include "runtime/runtime_impl.hpp"
#include "sched/balance.hpp"

namespace anycl {

void set_parallel(Runtime& rt, Parallel mode) {
  const int m = static_cast<int>(mode);
  if (m < ANYCL_PARALLEL_AUTO || m > ANYCL_PARALLEL_HYBRID)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "set_parallel: unknown mode " + std::to_string(m));
  rt.impl().parallel = mode;
}

Parallel parallel(const Runtime& rt) { return rt.impl().parallel; }

void set_device_weights(Runtime& rt, const std::vector<double>& weights) {
  std::vector<double> w;
  if (!weights.empty()) w = detail::checked_weights(weights, rt.device_count(), "set_device_weights");
  std::lock_guard<std::mutex> lock(rt.impl().sched_mutex);
  rt.impl().device_weights = w;
  rt.impl().calibrated_weights.clear();
}

std::vector<double> device_weights(Runtime& rt) { return detail::runtime_weights(rt.impl()); }

}  // namespace anycl
