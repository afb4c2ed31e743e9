// One device's copy of the model: its parameters, gradients and activations, and the forward and
// backward passes enqueued on that device's queue (asynchronous; nothing here waits).
#pragma once

#include <vector>

#include "train/model_plan.hpp"

namespace anycl::detail {

class Replica {
 public:
  // Buffers for up to `capacity` samples on `device`.
  Replica(Runtime& rt, const ModelPlan& plan, std::size_t device, std::size_t capacity);

  std::size_t device() const { return device_; }
  std::size_t capacity() const { return capacity_; }
  const std::vector<Buffer>& params() const { return params_; }
  const std::vector<Buffer>& grads() const { return grads_; }
  const Buffer& input() const { return acts_.front(); }
  const Buffer& labels() const { return labels_; }
  const Buffer& losses() const { return losses_; }
  const Buffer& logits() const { return acts_.back(); }

  // Forward over the first n samples of input(); with `loss`, also the per-sample loss into
  // losses() and the logits' gradient scaled by `scale` (1 / the global batch).
  void forward(std::size_t n, bool loss, float scale);
  // Parameter gradients of the n samples of the last forward(n, true) into grads().
  void backward(std::size_t n);

 private:
  void dense_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void dense_backward(const LayerPlan& l, std::size_t i, std::size_t n);
  void conv_backward(const LayerPlan& l, std::size_t i, std::size_t n);

  Runtime& rt_;
  const ModelPlan& plan_;
  std::size_t device_, capacity_;
  std::vector<Buffer> params_, grads_;
  std::vector<Buffer> acts_, dacts_;  // [i] = input of layer i; [layers] = the logits
  std::vector<Buffer> argmax_;        // per layer (max-pool layers only)
  Buffer labels_, losses_;
};

}  // namespace anycl::detail
