// DataParallelTrainer's calls about pipeline stages (train/pipeline.hpp).
#include <string>

#include "runtime/error.hpp"
#include "train/trainer_impl.hpp"

namespace anycl {

std::vector<std::size_t> DataParallelTrainer::stage_bounds() const {
  if (impl_->pipeline) return impl_->pipeline->bounds();
  return {0, impl_->plan.layers.size()};
}

std::size_t DataParallelTrainer::parameter_bytes(std::size_t device) const {
  if (device >= impl_->rt.device_count())
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::parameter_bytes: device " + std::to_string(device) +
                                                   " does not exist (" + std::to_string(impl_->rt.device_count()) + ")");
  if (impl_->pipeline) return impl_->pipeline->parameter_bytes(device);
  return impl_->plan.parameter_count() * sizeof(float);
}

}  // namespace anycl
