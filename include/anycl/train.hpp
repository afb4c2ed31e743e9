// anycl C++ API: data-, model- and hybrid-parallel training of CNNs (float32, NCHW): sequential
// layers and residual blocks, batch normalisation, dropout, SGD or Adam with a learning-rate
// schedule.
//
// Data-parallel (the default): every device of the runtime holds a replica of the weights and
// runs forward and backward on its slice of each batch; the gradients are summed across devices
// (on device buffers when the devices share an OpenCL context, through the host otherwise), one
// device applies the optimizer and the new weights are copied to every replica, so all replicas
// stay bitwise equal. With TrainOptions::stages = M, the top-level layers are cut into M stages
// on M devices (a residual block is never cut), each holding only its stage's weights and
// optimizer state, and the batch flows through them in micro-batches; a runtime of D x M devices
// trains D such pipelines data-parallel (hybrid).
// Several processes (MPI ranks, anycl/mpi.hpp) train one model through a ProcessGroup: each runs
// this trainer on its own devices and its own shard of every batch, and the gradients are summed
// across the processes after the devices.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "anycl/export.h"
#include "anycl/runtime.hpp"

namespace anycl {

// Convolution: `channels` filters of kernel x kernel over `groups` channel groups (the input and
// output channels must divide by it), with stride and zero padding `pad` on every side, plus a
// bias, optionally followed by ReLU.
struct ConvLayer {
  std::size_t channels = 1, kernel = 3, pad = 1;
  std::size_t stride = 1, groups = 1;
  bool relu = true;
};
// Non-overlapping max-pooling: size x size windows with stride `size` (rows/columns past the
// last whole window are dropped).
struct MaxPoolLayer {
  std::size_t size = 2;
};
// Non-overlapping average pooling, windows as MaxPoolLayer's.
struct AvgPoolLayer {
  std::size_t size = 2;
};
// The mean of every channel's whole plane: C x H x W becomes C x 1 x 1.
struct GlobalAvgPoolLayer {};
// Batch normalisation per channel: y = gamma * (x - mean) / sqrt(var + eps) + beta, optionally
// followed by ReLU. Training normalises by the statistics of the whole global batch (every
// device's samples: synchronised across the devices of the trainer and the processes of its
// ProcessGroup, merged in one fixed order so every process gets the same bits) and folds them into running
// statistics, running = (1 - momentum) * running + momentum * batch (the variance unbiased, as
// PyTorch's); evaluation (logits, predict) normalises by the running statistics.
struct BatchNormLayer {
  float momentum = 0.1f, eps = 1e-5f;
  bool relu = false;
};
// Inverted dropout: in training each activation is zeroed with probability `rate` and the others
// scaled by 1 / (1 - rate); evaluation passes everything. The mask of an element depends only on
// TrainOptions::seed, the step, the layer, the sample's index in the global batch and the
// element, so it is the same on any number of devices and after resuming a checkpoint.
struct DropoutLayer {
  float rate = 0.5f;
};
struct ResidualBlock;
struct DenseLayer;
using Layer = std::variant<ConvLayer, MaxPoolLayer, DenseLayer, AvgPoolLayer, GlobalAvgPoolLayer, BatchNormLayer,
                           DropoutLayer, ResidualBlock>;
// Fully connected layer on the flattened input, optionally followed by ReLU.
struct DenseLayer {
  std::size_t units = 1;
  bool relu = false;
};
// y = act(body(x) + shortcut(x)): both branches take the block's input; an empty shortcut is the
// identity. Both must end in the same shape. ResNet's basic block is body {conv 3x3 (stride s),
// BN+ReLU, conv 3x3, BN} with an identity shortcut, or {conv 1x1 stride s, BN} when the shape
// changes. Blocks nest.
struct ResidualBlock {
  std::vector<Layer> body, shortcut;
  bool relu = true;
};

// The input shape and the layers. The loss is softmax cross-entropy on the outputs of the last
// layer, which must be a DenseLayer without ReLU whose units are the classes.
struct ModelSpec {
  std::size_t channels = 1, height = 1, width = 1;
  std::vector<Layer> layers;
};

enum class AllReduce {
  Auto,        // on device buffers when every device shares one context, else host-staged
  OnDevice,    // refused (ANYCL_ERROR_UNSUPPORTED) unless every device shares one context
  HostStaged,  // always through host memory
};

// The processes training one model together (anycl::MpiProcessGroup implements it over MPI).
class ANYCL_API ProcessGroup {
 public:
  virtual ~ProcessGroup();  // defined in libanycl: its typeinfo is exported from there
  virtual std::size_t rank() const = 0;
  virtual std::size_t size() const = 0;
  // Every process calls this with the same count: data becomes the elementwise sum over the
  // processes, added in an order fixed by the ranks alone, so every process ends with bitwise the
  // same floats. A process passing `failed` contributes nothing and tells the others; throws
  // Error naming the rank when any process failed or was not heard from within a bounded time.
  virtual void allreduce_sum(float* data, std::size_t count, bool failed) = 0;
  // Non-blocking sums, so the trainer exchanges gradients while its devices still compute:
  // start_sum begins summing `count` floats at `data` (left untouched until finish_sums writes
  // the sum there), progress lets started sums advance, finish_sums waits for every started sum.
  // Every process starts the same sums in the same order, and every process gets bitwise the
  // same floats. finish_sums throws Error naming a rank as allreduce_sum does. The defaults sum
  // at once through allreduce_sum.
  virtual void start_sum(float* data, std::size_t count);
  virtual void progress();
  virtual void finish_sums();
};

enum class Optimizer {
  Sgd,    // v = momentum * v + g + weight_decay * w; w -= lr * v (PyTorch's SGD)
  Adam,   // PyTorch's Adam: g += weight_decay * w, then the bias-corrected moment update
  AdamW,  // Adam with decoupled weight decay: w -= lr * weight_decay * w, then Adam on g
};

enum class LrSchedule {
  Constant,  // lr
  Step,      // lr * gamma^(floor(step / step_size))
  Cosine,    // min_lr + (lr - min_lr) * (1 + cos(pi * min(step, total_steps) / total_steps)) / 2
};

struct TrainOptions {
  std::size_t batch = 32;  // the most samples per step; split across devices by compute units
  float lr = 0.05f, momentum = 0.9f;
  unsigned seed = 1;       // weight initialisation (He-uniform weights, zero biases) and dropout
  AllReduce allreduce = AllReduce::Auto;
  // Not owned; must outlive the trainer. With a group, every process calls each trainer method
  // that changes the weights (constructor, step, gradient, set_weights, load_checkpoint) in
  // the same order; a step's global batch is the sum of the counts the processes pass, and every
  // process's weights stay bitwise identical (the constructor takes rank 0's). Process r's shard
  // follows those of the lower ranks in the global batch (dropout masks and batch statistics
  // are those of one process training the global batch).
  ProcessGroup* processes = nullptr;
  Optimizer optimizer = Optimizer::Sgd;
  float weight_decay = 0;                            // on every parameter (as PyTorch's default)
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;   // Adam and AdamW
  LrSchedule schedule = LrSchedule::Constant;        // the step counted is steps() before the update
  std::size_t step_size = 1;                         // Step
  float gamma = 0.1f;                                // Step
  std::size_t total_steps = 1;                       // Cosine
  float min_lr = 0;                                  // Cosine
  // Model parallelism (docs/training.md): the layers cut into `stages` consecutive stages, one
  // per device; the runtime's devices (a multiple of stages) form device_count / stages pipelines
  // trained data-parallel. Each pipeline's share of a batch flows through its stages in
  // `micro_batches` micro-batches (1..batch; a model with a BatchNormLayer needs 1: batch statistics
  // of a micro-batch are not the batch's, Error(ANYCL_ERROR_UNSUPPORTED)). With `processes`, every process runs its pipelines
  // on its own shard, and the stages' gradients are summed across processes too.
  std::size_t stages = 1;
  std::size_t micro_batches = 1;
  // With `processes`, no pipeline and more parameter bytes than this: the gradients cross the
  // processes in buckets of whole layers of about this many bytes (the last layers' first), each
  // exchange started (ProcessGroup::start_sum) as soon as the backward pass has produced its
  // bucket, while the devices compute the layers before it; 0, or a smaller model: one exchange
  // after the backward pass. Both give bitwise the same weights on 2 ranks (docs/training.md).
  std::size_t bucket_bytes = 1u << 20;
};

namespace detail {
class TrainerImpl;
}

class ANYCL_API DataParallelTrainer {
 public:
  // Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) for a model it cannot build, naming the layer.
  DataParallelTrainer(Runtime& rt, const ModelSpec& model, const TrainOptions& options = {});
  ~DataParallelTrainer();
  DataParallelTrainer(DataParallelTrainer&&) noexcept;
  DataParallelTrainer& operator=(DataParallelTrainer&&) noexcept;

  // One optimizer step on `count` (1..batch) samples: x is count * channels * height * width floats,
  // labels are in [0, classes). Returns the mean loss over the samples before the update (with
  // processes: over every process's samples, the global batch).
  float step(const float* x, const int* labels, std::size_t count);

  // The mean loss and its gradient (summed over devices, in parameter order, see weights())
  // without updating anything.
  float gradient(const float* x, const int* labels, std::size_t count, std::vector<float>& grad);

  // The logits (count x classes) and the predicted classes of `count` samples (any count; runs
  // in batch-sized pieces on every device), in evaluation mode: batch normalisation by the
  // running statistics, no dropout.
  std::vector<float> logits(const float* x, std::size_t count);
  std::vector<int> predict(const float* x, std::size_t count);

  // Every parameter of `replica`'s device, layer by layer (a residual block's body, then its
  // shortcut), weights then bias of each layer (conv weights as [out][in/groups][kernel][kernel],
  // dense as [units][inputs], batch norm gamma then beta).
  std::vector<float> weights(std::size_t replica = 0) const;
  void set_weights(const std::vector<float>& weights);  // every replica; clears the optimizer state
  // Every BatchNormLayer's running mean then running variance, layer by layer.
  std::vector<float> running_stats() const;
  float learning_rate() const;  // the schedule's lr for the next step
  std::size_t parameter_count() const;
  std::size_t classes() const;
  std::size_t replicas() const;     // copies of the model: devices / stages
  // stages + 1 indices into ModelSpec::layers: stage s runs the layers [bounds[s], bounds[s + 1]) on device
  // pipeline * stages + s ({0, layers} without stages).
  std::vector<std::size_t> stage_bounds() const;
  // The bytes of model parameters held on `device` (its stage's, or the whole model's).
  std::size_t parameter_bytes(std::size_t device) const;
  bool allreduce_on_device() const;  // which path Auto took
  std::size_t steps() const;         // optimizer steps taken (restored by load_checkpoint)

  // The weights, the optimizer state (momentum, or Adam's moments), the running statistics and
  // the step count (the schedule's and dropout's position), with what must match to resume (the
  // model, the optimizer and schedule settings, the seed), in a versioned file with a CRC-32, written to a temporary file, synced and
  // renamed over `path`. With a ProcessGroup the weights are the same on every process: call it
  // on one. Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the path when it cannot write.
  void save_checkpoint(const std::string& path) const;
  // Restores what save_checkpoint wrote; the steps that follow are bitwise those of a run that
  // never stopped (given the same batches). Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the
  // path for an unreadable, truncated, corrupt or foreign file, or one of another model or
  // other optimizer settings; the trainer is unchanged then.
  void load_checkpoint(const std::string& path);

 private:
  std::unique_ptr<detail::TrainerImpl> impl_;
};

// The trainer of every mode (data-, model- or hybrid-parallel, by TrainOptions).
using Trainer = DataParallelTrainer;

}  // namespace anycl
