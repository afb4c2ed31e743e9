#include "train/pipeline.hpp"

#include <string>

#include "ops/nn_layers.hpp"
#include "runtime/error.hpp"
#include "runtime/finish_on_unwind.hpp"
#include "runtime/host_block.hpp"
#include "sched/engine.hpp"
#include "train/allreduce.hpp"
#include "train/flat_tensors.hpp"
#include "train/optimizer.hpp"
#include "train/stage_plan.hpp"

namespace anycl::detail {
namespace {

[[noreturn]] void bad_option(const std::string& why) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: TrainOptions::" + why);
}

void check_options(const Runtime& rt, const TrainOptions& o) {
  const std::string devices = std::to_string(rt.device_count());
  if (o.micro_batches == 0) bad_option("micro_batches is 0; it must be positive");
  if (o.stages == 0) bad_option("stages is 0; it must be positive");
  if (o.stages > rt.device_count())
    bad_option("stages " + std::to_string(o.stages) + " exceeds the runtime's " + devices + " devices");
  if (rt.device_count() % o.stages)
    bad_option("stages " + std::to_string(o.stages) + " does not divide the runtime's " + devices +
               " devices into whole pipelines");
  if (o.micro_batches > o.batch)
    bad_option("micro_batches " + std::to_string(o.micro_batches) + " exceeds the batch " + std::to_string(o.batch));
}

// Batch normalisation over a micro-batch is not over the batch: the statistics, and so the
// model, would differ from the one-device run.
void check_model(const ModelPlan& plan, const TrainOptions& o) {
  if (!plan.norm_channels.empty() && o.micro_batches > 1)
    fail(ANYCL_ERROR_UNSUPPORTED, "DataParallelTrainer: TrainOptions::micro_batches " + std::to_string(o.micro_batches) +
                                      " with a BatchNormLayer (its statistics would be of a micro-batch, not of the "
                                      "batch); use micro_batches = 1");
}

bool one_context(const Runtime& rt) {
  for (std::size_t d = 1; d < rt.device_count(); ++d)
    if (engine(rt).slot(d).context->get() != engine(rt).slot(0).context->get()) return false;
  return true;
}

// n items into `parts` shares as even as possible, the remainder to the first.
std::vector<std::size_t> even_split(std::size_t n, std::size_t parts) {
  std::vector<std::size_t> out(parts, n / parts);
  for (std::size_t i = 0; i < n % parts; ++i) ++out[i];
  return out;
}

void enqueue_write(const DeviceSlot& slot, const Buffer& to, const void* from, std::size_t bytes) {
  enqueue_block_write(slot, to.native(), {const_cast<void*>(from), bytes, 1, 0});
}

void flush(const DeviceSlot& slot) { check(clFlush(slot.queue.get()), "clFlush", slot.where()); }

// The devices' work of one tick of the schedule. The host waits for it before enqueuing the next
// tick: POCL ran queues fed ahead (the whole step, or even one tick) 2x to 4x slower than queues
// fed one tick at a time (train_cnn --model wide, batch 16 in 4 micro-batches, one core). Within a
// tick the stages run at once; the events still order every transfer after its sender.
class Tick {
 public:
  void add(const DeviceSlot& slot) { done_.emplace_back(enqueue_marker(slot)); }
  void wait() {
    for (const Event& e : done_) e.wait();
    done_.clear();
  }

 private:
  std::vector<Event> done_;
};

}  // namespace

bool pipelined(const TrainOptions& options) { return options.stages != 1 || options.micro_batches != 1; }

Pipeline::Pipeline(Runtime& rt, const ModelPlan& plan, const TrainOptions& options)
    : rt_(rt), plan_(plan), stages_(options.stages), micro_batches_(options.micro_batches), batch_(options.batch) {
  check_options(rt, options);
  check_model(plan, options);
  const std::size_t pipes = rt.device_count() / stages_;
  const std::size_t capacity = even_split(even_split(batch_, pipes).front(), micro_batches_).front();
  bounds_ = partition_layers(plan, stages_, capacity);
  const bool shared = one_context(rt);
  if (options.allreduce == AllReduce::OnDevice && !shared)
    fail(ANYCL_ERROR_UNSUPPORTED,
         "DataParallelTrainer: AllReduce::OnDevice needs devices that share an OpenCL context (one platform)");
  on_device_ = options.allreduce != AllReduce::HostStaged && shared;
  owners_.resize(stages_);
  extra_.resize(stages_);
  state_.resize(stages_);
  flat_state_.resize(stages_);
  for (std::size_t s = 0; s < stages_; ++s) {
    const LayerRange range{bounds_[s], bounds_[s + 1]};
    owners_[s].reserve(pipes);
    extra_[s].resize(pipes);
    for (std::size_t p = 0; p < pipes; ++p) {
      const Replica& owner = owners_[s].emplace_back(rt, plan, device(s, p), capacity, range);
      std::vector<Replica>& more = extra_[s][p];
      more.reserve(micro_batches_ - 1);
      // Micro-batches 1.. share the stage's weights and one gradient buffer, summed into the
      // owner's after each backward pass.
      for (std::size_t j = 1; j < micro_batches_; ++j)
        more.emplace_back(rt, plan, device(s, p), capacity, range,
                          SharedTensors{&owner.params(), j > 1 ? &more.front().grads() : nullptr});
    }
    // Carved as the owners' parameters: the optimizer updates a stage in one launch.
    const std::size_t a = plan.layer_tensors[range.first], b = plan.layer_tensors[range.last];
    for (std::size_t k = 0; k < state_sets(options); ++k) {
      FlatTensors f = carve_tensors(rt, device(s, 0), plan.tensor_sizes, a, b);
      flat_state_[s].push_back(f.whole);
      state_[s].insert(state_[s].end(), f.tensors.begin() + std::ptrdiff_t(a), f.tensors.begin() + std::ptrdiff_t(b));
    }
  }
  ready_.resize(stages_ * pipes * micro_batches_);
}

Replica& Pipeline::micro(std::size_t stage, std::size_t pipeline, std::size_t j) {
  return j == 0 ? owners_[stage][pipeline] : extra_[stage][pipeline][j - 1];
}

Event& Pipeline::ready(std::size_t stage, std::size_t pipeline, std::size_t j) {
  return ready_[(stage * pipelines() + pipeline) * micro_batches_ + j];
}

// count samples over the pipelines, each pipeline's share over its micro-batches (consecutive
// samples, pipeline by pipeline, so every sample keeps its place in the batch).
void Pipeline::schedule(std::size_t count) {
  const std::vector<std::size_t> shares = even_split(count, pipelines());
  sizes_.assign(pipelines(), {});
  offsets_.assign(pipelines(), {});
  for (std::size_t p = 0, first = 0; p < pipelines(); ++p) {
    sizes_[p] = even_split(shares[p], micro_batches_);
    for (std::size_t n : sizes_[p]) offsets_[p].push_back(first), first += n;
  }
}

// The activations (or gradients) of one micro-batch from one stage's device to the next: a copy
// on the receiving queue behind the sender's event within one context, through the host across
// contexts (the read waits for the sender).
void Pipeline::move(const Buffer& from, const Buffer& to, std::size_t to_device, std::size_t bytes,
                    const Event& ready) {
  const DeviceSlot& dst = engine(rt_).slot(to_device);
  if (engine(rt_).slot(from.device()).context->get() == dst.context->get()) {
    const cl_event wait = ready.native();
    check(clEnqueueCopyBuffer(dst.queue.get(), from.native(), to.native(), 0, 0, bytes, 1, &wait, nullptr),
          "clEnqueueCopyBuffer", dst.where());
    return;
  }
  std::vector<float> host(bytes / sizeof(float));
  rt_.read(from, host.data(), bytes);
  rt_.write(to, host.data(), bytes);
}

// Tick t runs micro-batch t - s on stage s, every stage at once; the pipelines' replicas of one
// stage and micro-batch run as the parts of one pass over the stage's nodes, so a batch-norm node
// merges their statistics (train/passes.hpp).
void Pipeline::forward(const StepInfo& step, const float* x, const int* labels,
                       std::vector<std::vector<float>>* losses, std::vector<Event>* loss_reads) {
  const std::size_t sample = plan_.input().size();
  Tick tick;
  for (std::size_t t = 0; t + 1 < micro_batches_ + stages_; ++t, tick.wait())
    for (std::size_t s = 0; s < stages_ && s <= t; ++s) {
      const std::size_t j = t - s;
      if (j >= micro_batches_) continue;
      const bool last = s + 1 == stages_;
      std::vector<Part> parts;
      for (std::size_t p = 0; p < pipelines(); ++p) {
        const std::size_t n = sizes_[p][j], first = offsets_[p][j];
        if (n == 0) continue;
        Replica& r = micro(s, p, j);
        const DeviceSlot& slot = engine(rt_).slot(r.device());
        if (s == 0) enqueue_write(slot, r.input(), x + first * sample, n * sample * sizeof(float));
        else move(micro(s - 1, p, j).output(), r.input(), r.device(), r.input().bytes() / r.capacity() * n, ready(s - 1, p, j));
        if (last && losses) enqueue_write(slot, r.labels(), labels + first, n * sizeof(int));
        parts.push_back({&r, {n, step.share.first + first, step.share.global, losses != nullptr, step.seed}});
      }
      forward_pass(rt_, plan_, parts, step.moments, LayerRange{bounds_[s], bounds_[s + 1]}, step.share);
      for (const Part& part : parts) {
        Replica& r = *part.replica;
        const DeviceSlot& slot = engine(rt_).slot(r.device());
        const std::size_t p = r.device() / stages_;
        if (!last) ready(s, p, j) = Event(enqueue_marker(slot));
        if (last && losses) {
          r.loss(part.info.n, step.scale);
          std::vector<float>& host = (*losses)[p * micro_batches_ + j];
          host.resize(part.info.n);
          cl_event ev = nullptr;
          check(clEnqueueReadBuffer(slot.queue.get(), r.losses().native(), CL_FALSE, 0, part.info.n * sizeof(float),
                                    host.data(), 0, nullptr, &ev),
                "clEnqueueReadBuffer", slot.where());
          loss_reads->emplace_back(ev);
        }
        tick.add(slot);
        flush(slot);
      }
    }
}

// The same ticks from the last stage down; micro-batch j >= 1's gradient is added to the
// owner's (micro-batch 0 wrote it first), so each stage sums its micro-batches in order.
void Pipeline::backward(const StepInfo& step) {
  Tick tick;
  for (std::size_t t = 0; t + 1 < micro_batches_ + stages_; ++t, tick.wait())
    for (std::size_t s = stages_; s-- > 0;) {
      const std::size_t from_end = stages_ - 1 - s;
      if (t < from_end || t - from_end >= micro_batches_) continue;
      const std::size_t j = t - from_end;
      std::vector<Part> parts;
      for (std::size_t p = 0; p < pipelines(); ++p) {
        const std::size_t n = sizes_[p][j];
        if (n == 0) continue;
        Replica& r = micro(s, p, j);
        if (s + 1 < stages_)
          move(micro(s + 1, p, j).input_grad(), r.output_grad(), r.device(), r.output_grad().bytes() / r.capacity() * n,
               ready(s + 1, p, j));
        parts.push_back({&r, {n, step.share.first + offsets_[p][j], step.share.global, true, step.seed}});
      }
      backward_pass(rt_, plan_, parts, LayerRange{bounds_[s], bounds_[s + 1]}, step.share);
      for (const Part& part : parts) {
        const Replica& r = *part.replica;
        const DeviceSlot& slot = engine(rt_).slot(r.device());
        const Replica& owner = owners_[s][r.device() / stages_];
        for (std::size_t k = 0; j > 0 && k < owner.grads().size(); ++k)
          if (owner.grads()[k])
            accumulate(slot, owner.grads()[k].native(), r.grads()[k].native(), plan_.tensor_sizes[k]);
        if (s > 0) ready(s, r.device() / stages_, j) = Event(enqueue_marker(slot));
        tick.add(slot);
        flush(slot);
      }
    }
}

double Pipeline::local_gradient(const float* x, const int* labels, const StepInfo& step) {
  schedule(step.count);
  std::vector<std::vector<float>> losses(pipelines() * micro_batches_);
  std::vector<Event> loss_reads;
  FinishOnUnwind finish_on_error;  // after the memory the queues write
  for (std::size_t d = 0; d < rt_.device_count(); ++d) finish_on_error.add(engine(rt_).slot(d));
  forward(step, x, labels, &losses, &loss_reads);
  backward(step);
  for (std::vector<Replica>& stage : owners_) {
    std::vector<Replica*> parts;
    for (std::size_t p = 0; p < pipelines(); ++p)
      if (sizes_[p].front()) parts.push_back(&stage[p]);
    if (on_device_) allreduce_on_device(rt_, parts);
    else allreduce_host_staged(rt_, parts);
  }
  for (const Event& e : loss_reads) e.wait();
  double sum = 0;
  for (const std::vector<float>& part : losses)
    for (float l : part) sum += l;
  return sum;
}

// The optimizer on pipeline 0's stages (each on its own tensors and state), copied to the others.
void Pipeline::update(const TrainOptions& options, std::size_t steps) {
  for (std::size_t s = 0; s < stages_; ++s) {
    const Replica& root = owners_[s].front();
    optimizer_step(engine(rt_).slot(root.device()), options, steps, root.flat_params(), root.flat_grads(),
                   flat_state_[s]);
    if (on_device_) broadcast_on_device(rt_, owners_[s]);
    else broadcast_host_staged(rt_, owners_[s]);
  }
  rt_.finish();
}

// Every set of state tensors in plan order: set k of the whole model, then set k + 1.
std::vector<Buffer> Pipeline::state() const {
  std::vector<Buffer> out;
  const std::size_t sets = state_.front().size() / stage_tensors(0);
  for (std::size_t k = 0; k < sets; ++k)
    for (std::size_t s = 0; s < stages_; ++s)
      for (std::size_t t = 0; t < stage_tensors(s); ++t) out.push_back(state_[s][k * stage_tensors(s) + t]);
  return out;
}

std::size_t Pipeline::stage_tensors(std::size_t s) const {
  return plan_.layer_tensors[bounds_[s + 1]] - plan_.layer_tensors[bounds_[s]];
}

std::vector<Replica*> Pipeline::all_replicas() {
  std::vector<Replica*> out;
  for (std::size_t s = 0; s < stages_; ++s)
    for (std::size_t p = 0; p < pipelines(); ++p)
      for (std::size_t j = 0; j < micro_batches_; ++j) out.push_back(&micro(s, p, j));
  return out;
}

std::vector<float> Pipeline::logits(const float* x, std::size_t count) {
  if (!x) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::logits: x is NULL");
  const std::size_t classes = plan_.classes();
  std::vector<float> out(count * classes);
  FinishOnUnwind finish_on_error;
  for (std::size_t d = 0; d < rt_.device_count(); ++d) finish_on_error.add(engine(rt_).slot(d));
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(batch_, count - done);
    schedule(n);
    StepInfo evaluation;
    evaluation.count = evaluation.share.global = n;
    forward(evaluation, x + done * plan_.input().size(), nullptr, nullptr, nullptr);
    for (std::size_t p = 0; p < pipelines(); ++p)
      for (std::size_t j = 0; j < micro_batches_; ++j)
        if (sizes_[p][j])
          rt_.read(micro(stages_ - 1, p, j).logits(), out.data() + (done + offsets_[p][j]) * classes,
                   sizes_[p][j] * classes * sizeof(float));
    done += n;
  }
  return out;
}

std::vector<Buffer> Pipeline::tensors(std::size_t pipeline,
                                      const std::vector<Buffer>& (Replica::*which)() const) const {
  std::vector<Buffer> out;
  for (std::size_t s = 0; s < stages_; ++s)
    for (std::size_t t = plan_.layer_tensors[bounds_[s]]; t < plan_.layer_tensors[bounds_[s + 1]]; ++t)
      out.push_back((owners_[s][pipeline].*which)()[t]);
  return out;
}

std::size_t Pipeline::parameter_bytes(std::size_t device) const {
  std::size_t bytes = 0;
  for (const Buffer& b : owners_[device % stages_][device / stages_].params()) bytes += b.bytes();
  return bytes;
}

}  // namespace anycl::detail
