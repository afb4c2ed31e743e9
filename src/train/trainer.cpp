// DataParallelTrainer: splits each batch over the replicas, runs them at once, sums the
// gradients onto replica 0 (then across processes, with a ProcessGroup), updates there and copies
// the weights to every replica.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>

#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "runtime/finish_on_unwind.hpp"
#include "runtime/host_block.hpp"
#include "train/allreduce.hpp"
#include "train/flat_tensors.hpp"
#include "train/buckets.hpp"
#include "train/processes.hpp"
#include "train/trainer_impl.hpp"
#include "ops/nn_layers.hpp"
#include "train/optimizer.hpp"

namespace anycl::detail {

namespace {

void check_count(std::size_t count, std::size_t limit, const char* fn) {
  if (count == 0 || count > limit)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string("DataParallelTrainer::") + fn + ": count " + std::to_string(count) +
                                           " is not in 1.." + std::to_string(limit) + " (the batch)");
}

bool choose_on_device(const Runtime& rt, const std::vector<Replica>& replicas, AllReduce mode) {
  const bool shared = share_context(rt, replicas);
  if (mode == AllReduce::OnDevice && !shared)
    fail(ANYCL_ERROR_UNSUPPORTED,
         "DataParallelTrainer: AllReduce::OnDevice needs devices that share an OpenCL context (one platform)");
  return mode != AllReduce::HostStaged && shared;
}

}  // namespace

TrainerImpl::TrainerImpl(Runtime& runtime, const ModelSpec& spec, const TrainOptions& opts)
    : rt(runtime), plan(plan_model(spec)), options(opts) {
  if (options.batch == 0) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: the batch must be positive");
  check_options(options);
  if (pipelined(options)) {
    pipeline = std::make_unique<Pipeline>(rt, plan, options);
    on_device = pipeline->on_device();
  } else {
    const std::vector<std::size_t> slices = split(options.batch);
    replicas.reserve(rt.device_count());
    for (std::size_t d = 0; d < rt.device_count(); ++d) replicas.emplace_back(rt, plan, d, std::max<std::size_t>(slices[d], 1));
    on_device = choose_on_device(rt, replicas, options.allreduce);
    for (std::size_t set = 0; set < state_sets(options); ++set) {
      FlatTensors f = carve_tensors(rt, 0, plan.tensor_sizes, 0, plan.tensor_sizes.size());
      flat_state.push_back(f.whole);
      state.insert(state.end(), f.tensors.begin(), f.tensors.end());
    }
  }
  for (std::size_t c : plan.norm_channels) {
    running.insert(running.end(), c, 0.f);
    running.insert(running.end(), c, 1.f);
  }
  std::vector<float> flat;
  for (const auto& t : initial_weights(plan, options.seed)) flat.insert(flat.end(), t.begin(), t.end());
  set_weights(flat);
}

// Slices proportional to compute units; the remainder goes to the first devices, so device 0
// always has work when count > 0.
std::vector<std::size_t> TrainerImpl::split(std::size_t count) const {
  std::vector<std::size_t> n(rt.device_count());
  std::size_t units = 0, given = 0;
  for (std::size_t d = 0; d < n.size(); ++d) units += std::max(rt.device(d).compute_units, 1u);
  for (std::size_t d = 0; d < n.size(); ++d) given += n[d] = count * std::max(rt.device(d).compute_units, 1u) / units;
  for (std::size_t d = 0; given < count; d = (d + 1) % n.size(), ++given) ++n[d];
  return n;
}

// Non-blocking: a blocking write costs a round trip to the device's worker thread (40-70 us on
// POCL, several per step). The caller's memory is read until the queue reaches the write.
void TrainerImpl::upload(const Replica& r, const float* x, std::size_t first, std::size_t n) {
  const std::size_t sample = plan.input().size();
  enqueue_write(r.device(), r.input(), x + first * sample, n * sample * sizeof(float));
}

void TrainerImpl::enqueue_write(std::size_t device, const Buffer& to, const void* from, std::size_t bytes) {
  enqueue_block_write(engine(rt).slot(device), to.native(), {const_cast<void*>(from), bytes, 1, 0});
}

namespace {

// On an error the queues may still read the caller's memory (non-blocking uploads): the call
// returns only after every device's queue finished.
void finish_all_on_unwind(FinishOnUnwind& f, Runtime& rt) {
  for (std::size_t d = 0; d < rt.device_count(); ++d) f.add(engine(rt).slot(d));
}

}  // namespace

void TrainerImpl::check_step(const float* x, const int* labels, std::size_t count) const {
  check_count(count, options.batch, "step");
  if (!x || !labels) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::step: x or labels is NULL");
  for (std::size_t i = 0; i < count; ++i)
    if (labels[i] < 0 || std::size_t(labels[i]) >= plan.classes())
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::step: label " + std::to_string(i) + " is " +
                                             std::to_string(labels[i]) + ", not in 0.." +
                                             std::to_string(plan.classes() - 1));
}

float TrainerImpl::loss_and_gradient(const float* x, const int* labels, std::size_t count) {
  ProcessGroup* group = options.processes;
  if (!group) {
    check_step(x, labels, count);
    ProcessShare alone;
    alone.global = count;
    return float(local_gradient(x, labels, count, alone) / double(count));
  }
  // The count exchange doubles as the status exchange: a process whose arguments fail says so
  // before anyone waits on its gradients.
  try {
    check_step(x, labels, count);
  } catch (...) {
    report_failure(*group, 2 * group->size());
    throw;
  }
  const ProcessShare share = share_across_processes(*group, count, copies());
  double loss_sum = 0;
  try {
    loss_sum = local_gradient(x, labels, count, share);
  } catch (const ExchangeFailed&) {
    throw;
  } catch (...) {
    report_failure(*group, plan.parameter_count() + 2);
    throw;
  }
  if (bucketed()) return float(loss_sum / double(share.global));
  return float(allreduce_across_processes(rt, grads_sum(), *group, loss_sum) / double(share.global));
}

// The gradient of the loss summed over this process's `count` samples (from share.first of the
// share.global in the step), scaled by 1 / share.global, summed onto replica 0; returns the sum of
// the samples' losses. bucketed(): the gradients and the loss summed over the processes too.
double TrainerImpl::local_gradient(const float* x, const int* labels, std::size_t count, const ProcessShare& share) {
  if (pipeline)
    return pipeline->local_gradient(
        x, labels, {count, 1.f / float(share.global), dropout_seed(options.seed, steps), &batch_moments, share});
  const std::vector<std::size_t> n = split(count);
  std::vector<Replica*> parts;
  std::vector<std::vector<float>> losses(replicas.size());
  std::vector<Event> loss_read(replicas.size());
  std::optional<GradientBuckets> buckets;  // the queues read into it: outlives finish_on_error
  FinishOnUnwind finish_on_error;  // after the memory the queues write
  finish_all_on_unwind(finish_on_error, rt);
  std::vector<Part> pass;
  for (std::size_t d = 0, first = 0; d < replicas.size(); first += n[d], ++d) {
    if (n[d] == 0) continue;
    Replica& r = replicas[d];
    upload(r, x, first, n[d]);
    enqueue_write(d, r.labels(), labels + first, n[d] * sizeof(int));
    pass.push_back({&r, {n[d], share.first + first, share.global, true, dropout_seed(options.seed, steps)}});
    parts.push_back(&r);
  }
  forward_pass(rt, plan, pass, &batch_moments, {}, share);
  for (const Part& p : pass) p.replica->loss(p.info.n, 1.f / float(share.global));
  std::function<void(std::size_t)> after_node;
  if (bucketed()) {
    buckets.emplace(rt, plan, pass, *share.group, options.bucket_bytes);
    after_node = [&buckets](std::size_t i) { buckets->node_done(i); };
  }
  backward_pass(rt, plan, pass, {}, share, after_node);
  for (const Part& p : pass) {
    const std::size_t d = p.replica->device();
    const DeviceSlot& slot = engine(rt).slot(d);
    // Read back behind the backward pass: ready when the device is, without a wait of its own.
    losses[d].resize(p.info.n);
    cl_event ev = nullptr;
    check(clEnqueueReadBuffer(slot.queue.get(), p.replica->losses().native(), CL_FALSE, 0, p.info.n * sizeof(float),
                              losses[d].data(), 0, nullptr, &ev),
          "clEnqueueReadBuffer", slot.where());
    loss_read[d] = Event(ev);
    // Submit now, so this device computes while the next one is being fed.
    check(clFlush(slot.queue.get()), "clFlush", slot.where());
  }
  const auto loss_sum = [&] {
    double sum = 0;
    for (const Replica* r : parts) {
      loss_read[r->device()].wait();
      for (float l : losses[r->device()]) sum += l;
    }
    return sum;
  };
  if (buckets) return buckets->exchange(loss_sum);
  if (on_device) allreduce_on_device(rt, parts);
  else allreduce_host_staged(rt, parts);
  return loss_sum();
}

void TrainerImpl::update() {
  if (pipeline) {
    pipeline->update(options, steps);
    fold_running_stats();
    ++steps;
    return;
  }
  // Replica 0 owns its tensors, carved as the state: one launch updates every parameter.
  const Replica& root = replicas.front();
  optimizer_step(engine(rt).slot(root.device()), options, steps, root.flat_params(), root.flat_grads(), flat_state);
  fold_running_stats();
  // One replica has nothing to copy: the next step queues behind the update without a wait.
  if (replicas.size() > 1) {
    if (on_device) broadcast_on_device(rt, replicas);
    else broadcast_host_staged(rt, replicas);
    rt.finish();
  }
  ++steps;
}

std::vector<float> TrainerImpl::logits(const float* x, std::size_t count) {
  if (!x) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::logits: x is NULL");
  write_running_stats();
  if (pipeline) return pipeline->logits(x, count);
  std::vector<float> out(count * plan.classes());
  FinishOnUnwind finish_on_error;
  finish_all_on_unwind(finish_on_error, rt);
  for (std::size_t done = 0; done < count;) {
    const std::vector<std::size_t> n = split(std::min(options.batch, count - done));
    std::size_t first = done;
    std::vector<Part> pass;
    for (std::size_t d = 0; d < replicas.size(); first += n[d], ++d) {
      if (n[d] == 0) continue;
      upload(replicas[d], x, first, n[d]);
      pass.push_back({&replicas[d], {n[d], first - done, count, false, 0}});
    }
    forward_pass(rt, plan, pass, nullptr);
    for (const Part& p : pass) {
      const DeviceSlot& slot = engine(rt).slot(p.replica->device());
      check(clFlush(slot.queue.get()), "clFlush", slot.where());
    }
    for (std::size_t d = 0; d < replicas.size(); done += n[d], ++d)
      if (n[d]) rt.read(replicas[d].logits(), out.data() + done * plan.classes(), n[d] * plan.classes() * sizeof(float));
  }
  return out;
}

std::vector<float> TrainerImpl::read_all(const std::vector<Buffer>& tensors) {
  std::size_t total = 0;
  for (const Buffer& b : tensors) total += b.bytes() / sizeof(float);
  std::vector<float> flat(total);
  std::size_t at = 0;
  for (const Buffer& b : tensors) {
    rt.read(b, flat.data() + at, b.bytes());
    at += b.bytes() / sizeof(float);
  }
  return flat;
}

// running = (1 - momentum) * running + momentum * batch, per batch-norm node (PyTorch's rule).
void TrainerImpl::fold_running_stats() {
  settle_moments(batch_moments);
  std::size_t at = 0;
  for (const LayerPlan& l : plan.layers) {
    if (l.kind != LayerKind::BatchNorm) continue;
    const NormMoments& m = batch_moments[l.norm];
    const double keep = 1.0 - double(l.momentum), take = double(l.momentum);
    for (std::size_t c = 0; c < l.out.c; ++c) {
      running[at + c] = float(keep * running[at + c] + take * m.mean[c]);
      running[at + l.out.c + c] = float(keep * running[at + l.out.c + c] + take * m.var[c]);
    }
    at += 2 * l.out.c;
  }
}

// Evaluation normalises by the running statistics: mean and 1 / sqrt(var + eps) per channel.
void TrainerImpl::write_running_stats() {
  std::size_t at = 0;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& l = plan.layers[i];
    if (l.kind != LayerKind::BatchNorm) continue;
    std::vector<float> stats(2 * l.out.c);
    for (std::size_t c = 0; c < l.out.c; ++c) {
      stats[2 * c] = running[at + c];
      stats[2 * c + 1] = float(1 / std::sqrt(double(running[at + l.out.c + c]) + double(l.eps)));
    }
    for (const Replica* r : all_replicas())
      if (r->norm_stats(i)) rt.write(r->norm_stats(i), stats.data(), stats.size() * sizeof(float));
    at += 2 * l.out.c;
  }
}

std::size_t TrainerImpl::state_floats() const { return state_sets(options) * plan.parameter_count(); }

void TrainerImpl::set_weights(const std::vector<float>& flat) {
  if (flat.size() != plan.parameter_count()) {
    if (options.processes) report_failure(*options.processes, plan.parameter_count() + state_floats());  // set_state's exchange
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::set_weights: " + std::to_string(flat.size()) +
                                           " values given, the model has " + std::to_string(plan.parameter_count()));
  }
  set_state(flat, std::vector<float>(state_floats(), 0.f));
}

// With processes, rank 0's values win: every other process adds -0 (the one exact identity of
// float addition), so the sum is rank 0's bits on every process.
void TrainerImpl::set_state(std::vector<float> params, std::vector<float> opt_state) {
  if (ProcessGroup* group = options.processes) {
    std::vector<float> both(params);
    both.insert(both.end(), opt_state.begin(), opt_state.end());
    if (group->rank() != 0) std::fill(both.begin(), both.end(), -0.f);
    group->allreduce_sum(both.data(), both.size(), false);
    params.assign(both.begin(), both.begin() + std::ptrdiff_t(params.size()));
    opt_state.assign(both.begin() + std::ptrdiff_t(params.size()), both.end());
  }
  for (std::size_t c = 0; c < copies(); ++c) write_all(params_of(c), params);
  write_all(state_tensors(), opt_state);
}

// Tensor t of `tensors` has the size of parameter tensor t % count (state sets repeat them).
void TrainerImpl::write_all(const std::vector<Buffer>& tensors, const std::vector<float>& flat) {
  const std::vector<std::size_t>& sizes = plan.tensor_sizes;
  for (std::size_t t = 0, at = 0; t < tensors.size(); at += sizes[t % sizes.size()], ++t)
    rt.write(tensors[t], flat.data() + at, sizes[t % sizes.size()] * sizeof(float));
}

}  // namespace anycl::detail

namespace anycl {

DataParallelTrainer::DataParallelTrainer(Runtime& rt, const ModelSpec& model, const TrainOptions& options)
    : impl_(std::make_unique<detail::TrainerImpl>(rt, model, options)) {}
DataParallelTrainer::~DataParallelTrainer() = default;
DataParallelTrainer::DataParallelTrainer(DataParallelTrainer&&) noexcept = default;
DataParallelTrainer& DataParallelTrainer::operator=(DataParallelTrainer&&) noexcept = default;

float DataParallelTrainer::step(const float* x, const int* labels, std::size_t count) {
  const float loss = impl_->loss_and_gradient(x, labels, count);
  impl_->update();
  return loss;
}

float DataParallelTrainer::gradient(const float* x, const int* labels, std::size_t count, std::vector<float>& grad) {
  const float loss = impl_->loss_and_gradient(x, labels, count);
  grad = impl_->read_all(impl_->grads_sum());
  return loss;
}

std::vector<float> DataParallelTrainer::logits(const float* x, std::size_t count) { return impl_->logits(x, count); }

std::vector<int> DataParallelTrainer::predict(const float* x, std::size_t count) {
  const std::vector<float> z = impl_->logits(x, count);
  const std::size_t k = classes();
  std::vector<int> out(count);
  for (std::size_t i = 0; i < count; ++i)
    out[i] = int(std::max_element(z.begin() + std::ptrdiff_t(i * k), z.begin() + std::ptrdiff_t((i + 1) * k)) -
                 (z.begin() + std::ptrdiff_t(i * k)));
  return out;
}

std::vector<float> DataParallelTrainer::weights(std::size_t replica) const {
  if (replica >= impl_->copies())
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::weights: replica " + std::to_string(replica) +
                                                   " does not exist (" + std::to_string(impl_->copies()) + ")");
  return impl_->read_all(impl_->params_of(replica));
}

void DataParallelTrainer::set_weights(const std::vector<float>& weights) { impl_->set_weights(weights); }
std::size_t DataParallelTrainer::parameter_count() const { return impl_->plan.parameter_count(); }
std::size_t DataParallelTrainer::classes() const { return impl_->plan.classes(); }
std::size_t DataParallelTrainer::replicas() const { return impl_->copies(); }
bool DataParallelTrainer::allreduce_on_device() const { return impl_->on_device; }
std::size_t DataParallelTrainer::steps() const { return impl_->steps; }
std::vector<float> DataParallelTrainer::running_stats() const { return impl_->running; }
float DataParallelTrainer::learning_rate() const { return detail::scheduled_lr(impl_->options, impl_->steps); }

}  // namespace anycl
