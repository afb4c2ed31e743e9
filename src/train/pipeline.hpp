// Model-parallel and hybrid training: D copies of a pipeline of M stages on D x M devices
// (pipeline p's stage s on device p * M + s). Each stage holds only its layers' parameters,
// gradients, optimizer state and batch-norm buffers. A batch is split over the pipelines and each pipeline's share into
// micro-batches that flow through the stages on the GPipe schedule (every forward pass, then
// every backward pass; docs/training.md says why); the stages' gradients are summed over the
// micro-batches on the stage's device and then across the pipelines (train/allreduce.hpp).
#pragma once

#include <vector>

#include "anycl/train.hpp"
#include "train/passes.hpp"
#include "train/replica.hpp"

namespace anycl::detail {

// Whether options ask for a pipeline (stages or micro-batches) rather than plain replicas.
bool pipelined(const TrainOptions& options);

// One pass over a batch: its samples on this process, the gradient's scale (1 / the global
// batch), the dropout stream, where a training pass puts its batch-norm moments, and this
// process's place among the processes.
struct StepInfo {
  std::size_t count = 0;
  float scale = 0;
  cl_uint seed = 0;
  std::vector<NormMoments>* moments = nullptr;
  ProcessShare share;
};

class Pipeline {
 public:
  // Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) for options that do not fit the runtime or model.
  Pipeline(Runtime& rt, const ModelPlan& plan, const TrainOptions& options);

  // The gradient of the loss of step.count samples scaled by step.scale, summed onto pipeline 0's
  // stages; returns the sum of the samples' losses (added in sample order).
  double local_gradient(const float* x, const int* labels, const StepInfo& step);
  // Optimizer step `steps` + 1 on pipeline 0's stages, copied to the other pipelines; waits for it.
  void update(const TrainOptions& options, std::size_t steps);
  // Evaluation: a batch-norm node normalises by the norm_stats the caller wrote (all_replicas).
  std::vector<float> logits(const float* x, std::size_t count);

  // Every parameter tensor in plan order, each on its stage's device: a pipeline's weights,
  // pipeline 0's gradient sum, and the optimizer state (state_sets sets in plan order).
  std::vector<Buffer> params(std::size_t pipeline) const { return tensors(pipeline, &Replica::params); }
  std::vector<Buffer> grads() const { return tensors(0, &Replica::grads); }
  std::vector<Buffer> state() const;
  std::vector<Replica*> all_replicas();

  std::size_t pipelines() const { return owners_.front().size(); }
  const std::vector<std::size_t>& bounds() const { return bounds_; }
  std::size_t parameter_bytes(std::size_t device) const;
  bool on_device() const { return on_device_; }

 private:
  std::size_t device(std::size_t stage, std::size_t pipeline) const { return pipeline * stages_ + stage; }
  Replica& micro(std::size_t stage, std::size_t pipeline, std::size_t j);
  Event& ready(std::size_t stage, std::size_t pipeline, std::size_t j);
  void schedule(std::size_t count);
  void forward(const StepInfo& step, const float* x, const int* labels, std::vector<std::vector<float>>* losses,
               std::vector<Event>* loss_reads);
  void backward(const StepInfo& step);
  std::size_t stage_tensors(std::size_t stage) const;
  void move(const Buffer& from, const Buffer& to, std::size_t to_device, std::size_t bytes, const Event& ready);
  std::vector<Buffer> tensors(std::size_t pipeline, const std::vector<Buffer>& (Replica::*which)() const) const;

  Runtime& rt_;
  const ModelPlan& plan_;
  std::size_t stages_, micro_batches_, batch_;
  std::vector<std::size_t> bounds_;  // stage s runs layers [bounds_[s], bounds_[s + 1])
  std::vector<std::vector<Replica>> owners_;  // [stage][pipeline]: micro-batch 0, owns the weights and the gradient sum
  std::vector<std::vector<std::vector<Replica>>> extra_;  // [stage][pipeline][j - 1]: micro-batch j >= 1
  // [stage]: state_sets sets of the stage's tensors, on pipeline 0's device of the stage.
  std::vector<std::vector<Buffer>> state_;
  std::vector<std::vector<Buffer>> flat_state_;  // [stage][set]: the allocation state_'s tensors are carved from
  bool on_device_ = false;
  std::vector<std::vector<std::size_t>> sizes_, offsets_;  // this step's [pipeline][micro-batch] samples
  std::vector<Event> ready_;  // [stage][pipeline][micro-batch]: its output, then its input gradient, is written
};

}  // namespace anycl::detail
