// DataParallelTrainer's calls about pipeline stages (train/pipeline.hpp).
#include <algorithm>
#include <string>

#include "runtime/error.hpp"
#include "train/trainer_impl.hpp"

namespace anycl {

std::vector<std::size_t> DataParallelTrainer::stage_bounds() const {
  const std::vector<std::size_t>& units = impl_->plan.units;  // node bounds to top-level layer indices
  if (!impl_->pipeline) return {0, units.size() - 1};
  std::vector<std::size_t> out;
  for (std::size_t node : impl_->pipeline->bounds())
    out.push_back(std::size_t(std::lower_bound(units.begin(), units.end(), node) - units.begin()));
  return out;
}

std::size_t DataParallelTrainer::parameter_bytes(std::size_t device) const {
  if (device >= impl_->rt.device_count())
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::parameter_bytes: device " + std::to_string(device) +
                                                   " does not exist (" + std::to_string(impl_->rt.device_count()) + ")");
  if (impl_->pipeline) return impl_->pipeline->parameter_bytes(device);
  return impl_->plan.parameter_count() * sizeof(float);
}

}  // namespace anycl
