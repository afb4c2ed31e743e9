// The public multi-device settings (include/anycl/parallel.hpp).
#include "anycl/parallel.hpp"

#include "runtime/error.hpp"
#include "sched/balance.hpp"

namespace anycl {

using detail::engine;

void set_parallel(Runtime& rt, Parallel mode) {
  const int m = static_cast<int>(mode);
  if (m < ANYCL_PARALLEL_AUTO || m > ANYCL_PARALLEL_HYBRID)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "set_parallel: unknown mode " + std::to_string(m));
  engine(rt).sched.parallel = mode;
}

Parallel parallel(const Runtime& rt) { return engine(rt).sched.parallel; }

void set_device_weights(Runtime& rt, const std::vector<double>& weights) {
  std::vector<double> w;
  if (!weights.empty()) w = detail::checked_weights(weights, rt.device_count(), "set_device_weights");
  detail::SchedState& s = engine(rt).sched;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.weights = w;
  s.calibrated.clear();
}

std::vector<double> device_weights(Runtime& rt) { return detail::runtime_weights(engine(rt)); }

}  // namespace anycl
