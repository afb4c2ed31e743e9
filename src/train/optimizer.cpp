#include "train/optimizer.hpp"

#include <cmath>
#include <string>

#include "ops/nn_layers.hpp"
#include "runtime/error.hpp"

namespace anycl::detail {

float scheduled_lr(const TrainOptions& o, std::size_t steps) {
  const double lr = o.lr;
  switch (o.schedule) {
    case LrSchedule::Constant: return o.lr;
    case LrSchedule::Step: return float(lr * std::pow(double(o.gamma), double(steps / o.step_size)));
    case LrSchedule::Cosine: {
      const double t = double(std::min(steps, o.total_steps)) / double(o.total_steps);
      return float(o.min_lr + (lr - o.min_lr) * (1 + std::cos(M_PI * t)) / 2);
    }
  }
  return o.lr;
}

std::size_t state_sets(const TrainOptions& o) { return o.optimizer == Optimizer::Sgd ? 1 : 2; }

void check_options(const TrainOptions& o) {
  auto refuse = [](const std::string& why) { fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: TrainOptions::" + why); };
  if (!(o.lr >= 0.f) || !std::isfinite(o.lr)) refuse("lr must be finite and >= 0");
  if (!(o.weight_decay >= 0.f)) refuse("weight_decay must be >= 0");
  if (o.optimizer != Optimizer::Sgd && !(o.beta1 >= 0.f && o.beta1 < 1.f && o.beta2 >= 0.f && o.beta2 < 1.f))
    refuse("beta1 and beta2 must be in [0, 1)");
  if (o.optimizer != Optimizer::Sgd && !(o.eps > 0.f)) refuse("eps must be > 0");
  if (o.schedule == LrSchedule::Step && o.step_size == 0) refuse("step_size must be > 0 (LrSchedule::Step)");
  if (o.schedule == LrSchedule::Cosine && o.total_steps == 0) refuse("total_steps must be > 0 (LrSchedule::Cosine)");
}

void optimizer_step(const DeviceSlot& slot, const TrainOptions& o, std::size_t steps, const Buffer& params,
                    const Buffer& grads, const std::vector<Buffer>& state) {
  const std::size_t n = params.bytes() / sizeof(float);
  if (n == 0) return;
  const float lr = scheduled_lr(o, steps);
  if (o.optimizer == Optimizer::Sgd) {
    sgd_momentum(slot, params.native(), state[0].native(), grads.native(), n, lr, o.momentum, o.weight_decay);
    return;
  }
  const double step = double(steps + 1);
  const AdamStep s{lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.optimizer == Optimizer::AdamW,
                   float(double(lr) / (1 - std::pow(double(o.beta1), step))),
                   float(std::sqrt(1 - std::pow(double(o.beta2), step)))};
  adam(slot, params.native(), state[0].native(), state[1].native(), grads.native(), n, s);
}

}  // namespace anycl::detail
