// The trainer's state and steps, shared by trainer.cpp and the checkpoint and multi-process
// pieces (trainer_checkpoint.cpp, processes.cpp).
#pragma once

#include <memory>
#include <vector>

#include "anycl/train.hpp"
#include "train/passes.hpp"
#include "train/pipeline.hpp"
#include "train/replica.hpp"

namespace anycl::detail {

class TrainerImpl {
 public:
  TrainerImpl(Runtime& rt, const ModelSpec& spec, const TrainOptions& options);

  float loss_and_gradient(const float* x, const int* labels, std::size_t count);
  void update();
  std::vector<float> logits(const float* x, std::size_t count);
  std::vector<float> read_all(const std::vector<Buffer>& tensors);
  void set_weights(const std::vector<float>& flat);  // clears the optimizer state
  // Every replica's parameters and the optimizer state (flat, in plan order, state set after
  // state set); rank 0's with processes.
  void set_state(std::vector<float> params, std::vector<float> state);
  std::size_t state_floats() const;  // the optimizer state's floats

  Runtime& rt;
  const ModelPlan plan;
  const TrainOptions options;
  std::vector<Replica> replicas;
  // On replica 0, which applies every update: SGD's momentum, or Adam's first moments then its
  // second moments (state_sets(options) sets of one tensor per parameter tensor).
  std::vector<Buffer> state;
  std::vector<Buffer> flat_state;         // the allocation of each state set (train/flat_tensors.hpp)
  std::vector<float> running;             // per batch-norm node: running mean, then variance
  std::vector<NormMoments> batch_moments;  // of the last training forward, folded in by update()
  std::unique_ptr<Pipeline> pipeline;     // with stages or micro-batches, instead of replicas and state

  // The model's copies (replicas or pipelines) and their tensors, in plan order.
  std::size_t copies() const { return pipeline ? pipeline->pipelines() : replicas.size(); }
  std::vector<Buffer> params_of(std::size_t copy) const {
    return pipeline ? pipeline->params(copy) : replicas[copy].params();
  }
  std::vector<Buffer> grads_sum() const { return pipeline ? pipeline->grads() : replicas.front().grads(); }
  std::vector<Buffer> state_tensors() const { return pipeline ? pipeline->state() : state; }
  std::vector<Replica*> all_replicas() {
    if (pipeline) return pipeline->all_replicas();
    std::vector<Replica*> out;
    for (Replica& r : replicas) out.push_back(&r);
    return out;
  }
  // The gradients cross the processes in buckets during the backward pass (not with pipelines;
  // one bucket would only add the host-side sum over the devices).
  bool bucketed() const {
    return options.processes && options.bucket_bytes > 0 && !pipeline &&
           plan.parameter_count() * sizeof(float) > options.bucket_bytes;
  }
  bool on_device = false;
  std::size_t steps = 0;

 private:
  void check_step(const float* x, const int* labels, std::size_t count) const;
  double local_gradient(const float* x, const int* labels, std::size_t count, const ProcessShare& share);
  void write_all(const std::vector<Buffer>& tensors, const std::vector<float>& flat);
  std::vector<std::size_t> split(std::size_t count) const;
  void upload(const Replica& r, const float* x, std::size_t first, std::size_t n);
  void enqueue_write(std::size_t device, const Buffer& to, const void* from, std::size_t bytes);
  void fold_running_stats();
  void write_running_stats();
};

}  // namespace anycl::detail
