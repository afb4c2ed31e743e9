// One device's copy of the model: its parameters, gradients and activations, and the forward and
// backward pass of each node enqueued on that device's queue (asynchronous; nothing here waits).
// forward_layer and backward_layer are the one place that dispatches on a layer's kind; drivers
// (train/passes.hpp) walk the nodes over one or several replicas.
#pragma once

#include <cstdint>
#include <vector>

#include "train/model_plan.hpp"

namespace anycl::detail {

// What a pass needs beyond the plan: how many samples, where they sit in the global batch, the mode.
struct PassInfo {
  std::size_t n = 0;      // samples on this replica
  std::size_t first = 0;  // index of its first sample in the global batch (dropout masks follow it)
  std::size_t global = 0; // samples in the global batch (batch normalisation's count)
  bool training = true;   // batch statistics and dropout; false: running statistics, no dropout
  cl_uint seed = 0;       // the step's dropout stream (train/passes.hpp: dropout_seed)
};

// A training pass whose replica has every sample of the batch: batch normalisation needs no
// statistics from other replicas.
inline bool holds_whole_batch(const PassInfo& p) { return p.training && p.n == p.global; }

// The nodes [first, last) of the plan a replica runs (a pipeline stage holds only its own).
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
  // The allocations params() and grads() are carved from (train/flat_tensors.hpp); empty where
  // they are another replica's.
  const Buffer& flat_params() const { return flat_params_; }
  const Buffer& flat_grads() const { return flat_grads_; }
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

  // Node i's forward pass (a training BatchNorm node normalises by norm_stats(i), which the
  // driver fills first) and backward pass (a BatchNorm node needs norm_sums(i) too).
  void forward_layer(std::size_t i, const PassInfo& p);
  void backward_layer(std::size_t i, const PassInfo& p);
  // The per-sample loss into losses() and the logits' gradient scaled by `scale` (1 / the
  // global batch).
  void loss(std::size_t n, float scale);

  // Batch normalisation across replicas: this replica's part of node i's statistics (per
  // channel mean and squared deviations into norm_part(i)), and of its backward sums (sum dy
  // into beta's gradient, sum dy * xhat into gamma's: grads()[weights + 1], grads()[weights]).
  // `whole`: this replica holds the whole batch (holds_whole_batch), so the kernels fill
  // norm_stats(i) and norm_sums(i) themselves and the driver has nothing to merge.
  void norm_forward_part(std::size_t i, std::size_t n, bool whole);
  void norm_backward_part(std::size_t i, std::size_t n, bool whole);
  const Buffer& norm_part(std::size_t i) const { return norm_[plan_.layers[i].norm].part; }
  // mean, 1 / sqrt(var + eps) per channel: the batch's in training, the running ones in evaluation.
  const Buffer& norm_stats(std::size_t i) const { return norm_[plan_.layers[i].norm].stats; }
  const Buffer& norm_sums(std::size_t i) const { return norm_[plan_.layers[i].norm].sums; }

 private:
  struct NormBuffers {
    Buffer part, stats, sums;  // 2 x channels floats each
  };

  void conv_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void conv_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx);
  void dense_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void dense_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx);
  void pool_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void pool_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx);
  void norm_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void norm_backward(const LayerPlan& l, std::size_t i, const PassInfo& p, const Buffer& dx);
  void dropout_forward(const LayerPlan& l, std::size_t i, const PassInfo& p);
  void dropout_backward(const LayerPlan& l, std::size_t i, const PassInfo& p, const Buffer& dx);
  void add_forward(const LayerPlan& l, std::size_t i, std::size_t n);
  void add_backward(const LayerPlan& l, std::size_t i, std::size_t n);

  Runtime& rt_;
  const ModelPlan& plan_;
  std::size_t device_, capacity_;
  LayerRange range_;
  std::vector<Buffer> params_, grads_;
  Buffer flat_params_, flat_grads_;
  std::vector<Buffer> acts_, dacts_;  // [0] = the input, [i + 1] = node i's output
  std::vector<Buffer> argmax_;        // per node (max-pool nodes only)
  std::vector<NormBuffers> norm_;     // per batch-norm node
  Buffer scratch_;                    // an input gradient that is added to another's
  Buffer labels_, losses_;
};

}  // namespace anycl::detail
