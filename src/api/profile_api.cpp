// The public kernel profile (anycl/profile.hpp) over each device's runtime/kernel_profile.hpp.
#include "anycl/profile.hpp"

#include <algorithm>
#include <numeric>

#include "sched/engine.hpp"

namespace anycl {
namespace {

// The one place this file reaches the runtime layer from the public Runtime.
detail::RuntimeImpl& runtime_layer(Runtime& rt) { return detail::engine(rt).devices; }

double median_of(std::vector<double> v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
  if (v.size() % 2) return v[mid];
  return 0.5 * (v[mid] + *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid)));
}

}  // namespace

void set_kernel_profiling(Runtime& rt, bool on) {
  detail::RuntimeImpl& impl = runtime_layer(rt);
  for (std::size_t d = 0; d < impl.size(); ++d) impl.slot(d).profile->set_enabled(on);
}

std::vector<KernelTime> kernel_profile(Runtime& rt) {
  detail::RuntimeImpl& impl = runtime_layer(rt);
  std::vector<KernelTime> out;
  for (std::size_t d = 0; d < impl.size(); ++d)
    for (const auto& [kernel, ms] : impl.slot(d).profile->read()) {
      if (ms.empty()) continue;
      out.push_back({kernel, d, ms.size(), std::accumulate(ms.begin(), ms.end(), 0.0), median_of(ms)});
    }
  return out;
}

void clear_kernel_profile(Runtime& rt) {
  detail::RuntimeImpl& impl = runtime_layer(rt);
  for (std::size_t d = 0; d < impl.size(); ++d) impl.slot(d).profile->clear();
}

}  // namespace anycl
