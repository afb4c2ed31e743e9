// The trainer's state and steps, shared by trainer.cpp and the checkpoint and multi-process
// pieces (trainer_checkpoint.cpp, processes.cpp).
#pragma once

#include <memory>
#include <vector>

#include "anycl/train.hpp"
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
  void set_weights(const std::vector<float>& flat);  // clears the momentum
  // Every replica's parameters and the momentum (flat, in plan order); rank 0's with processes.
  void set_state(std::vector<float> params, std::vector<float> momentum);

  Runtime& rt;
  const ModelPlan plan;
  const TrainOptions options;
  std::vector<Replica> replicas;
  std::vector<Buffer> velocity;  // on replica 0, which applies every update
  std::unique_ptr<Pipeline> pipeline;  // with stages or micro-batches, instead of the two above

  // The model's copies (replicas or pipelines) and their tensors, in plan order.
  std::size_t copies() const { return pipeline ? pipeline->pipelines() : replicas.size(); }
  std::vector<Buffer> params_of(std::size_t copy) const {
    return pipeline ? pipeline->params(copy) : replicas[copy].params();
  }
  std::vector<Buffer> grads_sum() const { return pipeline ? pipeline->grads() : replicas.front().grads(); }
  const std::vector<Buffer>& momentum_tensors() const { return pipeline ? pipeline->velocity() : velocity; }
  bool on_device = false;
  std::size_t steps = 0;

 private:
  void check_step(const float* x, const int* labels, std::size_t count) const;
  double local_gradient(const float* x, const int* labels, std::size_t count, std::size_t global);
  void write_all(const std::vector<Buffer>& tensors, const std::vector<float>& flat);
  std::vector<std::size_t> split(std::size_t count) const;
  void upload(const Replica& r, const float* x, std::size_t first, std::size_t n);
  void enqueue_write(std::size_t device, const Buffer& to, const void* from, std::size_t bytes);
};

}  // namespace anycl::detail
