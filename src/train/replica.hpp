// One device's copy of the model: its parameters, gradients and activations, and the forward and
// backward passes enqueued on that device's queue (asynchronous; nothing here waits).
#pragma once

#include <cstdint>
#include <vector>

#include "train/model_plan.hpp"

namespace anycl::detail {

// The layers [first, last) of the plan a replica runs (a pipeline stage holds only its own).
struct LayerRange {
  std::size_t first = 0, last = SIZE_MAX;  // SIZE_MAX: to the end of the model
};

// Parameter or gradient tensors another replica of the same range already holds on the device
// (the micro-batches of a pipeline stage share one set of weights); nullptr: allocate them.
struct SharedTensors {
  const std::vector<Buffer>* params = nullptr;
  const std::vector<Buffer>* grads = nullptr;
};

class Replica {
 public:
  // Buffers for up to `capacity` samples on `device`, for the layers of `range` only: tensors,
  // activations and gradients of other layers stay empty Buffers (same indices as the plan).
  Replica(Runtime& rt, const ModelPlan& plan, std::size_t device, std::size_t capacity, LayerRange range = {},
          SharedTensors shared = {});

  std::size_t device() const { return device_; }
  std::size_t capacity() const { return capacity_; }
  const std::vector<Buffer>& params() const { return params_; }
  const std::vector<Buffer>& grads() const { return grads_; }
  const LayerRange& range() const { return range_; }
  const Buffer& input() const { return acts_[range_.first]; }
  const Buffer& labels() const { return labels_; }
  const Buffer& losses() const { return losses_; }
  const Buffer& logits() const { return acts_.back(); }
  const Buffer& output() const { return acts_[range_.last]; }  // the range's last activation
  // The loss's gradient with respect to input() (the range starts past layer 0) and output()
  // (the range ends before the logits): the buffers a pipeline moves between stages.
  const Buffer& input_grad() const { return dacts_[range_.first]; }
  const Buffer& output_grad() const { return dacts_[range_.last]; }

  // Forward over the first n samples of input() through the range; with `loss` (the range ends
  // at the logits), also the per-sample loss into losses() and the logits' gradient scaled by
  // `scale` (1 / the global batch).
  void forward(std::size_t n, bool loss, float scale);
  // Parameter gradients of the n samples of the last forward into grads(), from output_grad()
  // (or the loss) down to input_grad().
  void backward(std::size_t n);

 private:
  void dense_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void dense_backward(const LayerPlan& l, std::size_t i, std::size_t n);
  void conv_backward(const LayerPlan& l, std::size_t i, std::size_t n);

  Runtime& rt_;
  const ModelPlan& plan_;
  std::size_t device_, capacity_;
  LayerRange range_;
  std::vector<Buffer> params_, grads_;
  std::vector<Buffer> acts_, dacts_;  // [i] = input of layer i; [layers] = the logits
  std::vector<Buffer> argmax_;        // per layer (max-pool layers only)
  Buffer labels_, losses_;
};

}  // namespace anycl::detail
