// DataParallelTrainer::save_checkpoint and load_checkpoint (the file format: checkpoint.hpp).
#include <cstring>

#include "runtime/error.hpp"
#include "train/checkpoint.hpp"
#include "train/optimizer.hpp"
#include "train/processes.hpp"
#include "train/trainer_impl.hpp"

namespace anycl {
namespace {

std::vector<float> flat(const std::vector<std::vector<float>>& tensors, std::size_t first, std::size_t count) {
  std::vector<float> out;
  for (std::size_t t = first; t < first + count; ++t) out.insert(out.end(), tensors[t].begin(), tensors[t].end());
  return out;
}

// `all` cut into tensors of `sizes`, repeated while values remain.
std::vector<std::vector<float>> split_tensors(const std::vector<float>& all, const std::vector<std::size_t>& sizes) {
  std::vector<std::vector<float>> out;
  for (std::size_t t = 0, at = 0; at < all.size(); at += sizes[t % sizes.size()], ++t)
    out.emplace_back(all.begin() + std::ptrdiff_t(at), all.begin() + std::ptrdiff_t(at + sizes[t % sizes.size()]));
  return out;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The settings besides lr and momentum that decide the steps after a resume: the optimizer and
// its hyper-parameters, the schedule and its own, and the seed when dropout draws from it (a
// setting the run does not use is written as 0, so changing it does not refuse a resume).
std::vector<std::uint64_t> resume_settings(const detail::TrainerImpl& t) {
  const TrainOptions& o = t.options;
  bool dropout = false;
  for (const detail::LayerPlan& l : t.plan.layers) dropout |= l.kind == detail::LayerKind::Dropout;
  const bool adam = o.optimizer != Optimizer::Sgd, step = o.schedule == LrSchedule::Step,
             cosine = o.schedule == LrSchedule::Cosine;
  using detail::float_bits;
  return {std::uint64_t(o.optimizer),        float_bits(o.weight_decay),
          adam ? float_bits(o.beta1) : 0,    adam ? float_bits(o.beta2) : 0,
          adam ? float_bits(o.eps) : 0,      std::uint64_t(o.schedule),
          step ? o.step_size : 0,            step ? float_bits(o.gamma) : 0,
          cosine ? o.total_steps : 0,        cosine ? float_bits(o.min_lr) : 0,
          dropout ? std::uint64_t(o.seed) : 0};
}

// The sizes of every tensor a checkpoint of this trainer holds, in order.
std::vector<std::size_t> checkpoint_sizes(const detail::TrainerImpl& t) {
  std::vector<std::size_t> sizes;
  for (std::size_t set = 0; set <= detail::state_sets(t.options); ++set)
    sizes.insert(sizes.end(), t.plan.tensor_sizes.begin(), t.plan.tensor_sizes.end());
  for (std::size_t c : t.plan.norm_channels) sizes.insert(sizes.end(), {c, c});
  return sizes;
}

// What makes a checkpoint resumable by this trainer: its model, optimizer settings, and one
// tensor of the expected size for every parameter, optimizer state and running statistic.
void check_fits(const detail::Checkpoint& c, const detail::TrainerImpl& t, const std::string& path) {
  auto refuse = [&](const std::string& why) {
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::load_checkpoint: " + path + " " + why);
  };
  if (c.model_hash != detail::model_hash(t.plan)) refuse("was written for another model (its layers or input differ)");
  if (!same_bits(c.lr, t.options.lr) || !same_bits(c.momentum, t.options.momentum))
    refuse("was written with lr " + std::to_string(c.lr) + ", momentum " + std::to_string(c.momentum) +
           "; this trainer has lr " + std::to_string(t.options.lr) + ", momentum " + std::to_string(t.options.momentum));
  if (c.settings != resume_settings(t))
    refuse("was written with other optimizer, schedule or dropout-seed settings (optimizer, weight_decay, beta1, "
           "beta2, eps, schedule, step_size, gamma, total_steps, min_lr, seed)");
  const std::vector<std::size_t> sizes = checkpoint_sizes(t);
  bool fits = c.tensors.size() == sizes.size();
  for (std::size_t i = 0; fits && i < c.tensors.size(); ++i) fits = c.tensors[i].size() == sizes[i];
  if (!fits) refuse("holds tensors of other sizes than the model's weights, optimizer state and running statistics");
}

}  // namespace

void DataParallelTrainer::save_checkpoint(const std::string& path) const {
  detail::TrainerImpl& t = *impl_;
  detail::Checkpoint c;
  c.model_hash = detail::model_hash(t.plan);
  c.steps = t.steps;
  c.lr = t.options.lr;
  c.momentum = t.options.momentum;
  c.settings = resume_settings(t);
  for (const auto& tensors : {t.read_all(t.params_of(0)), t.read_all(t.state_tensors())})
    for (auto& v : split_tensors(tensors, t.plan.tensor_sizes)) c.tensors.push_back(std::move(v));
  if (!t.running.empty()) {
    std::vector<std::size_t> running_sizes;
    for (std::size_t ch : t.plan.norm_channels) running_sizes.insert(running_sizes.end(), {ch, ch});
    for (auto& v : split_tensors(t.running, running_sizes)) c.tensors.push_back(std::move(v));
  }
  detail::write_checkpoint(path, c);
}

void DataParallelTrainer::load_checkpoint(const std::string& path) {
  detail::TrainerImpl& t = *impl_;
  detail::Checkpoint c;
  try {
    c = detail::read_checkpoint(path);
    check_fits(c, t, path);
  } catch (...) {
    // The others are about to exchange the state: tell them rather than leave them waiting.
    if (t.options.processes)
      detail::report_failure(*t.options.processes, t.plan.parameter_count() + t.state_floats());
    throw;
  }
  const std::size_t n = t.plan.tensor_sizes.size(), sets = detail::state_sets(t.options);
  t.set_state(flat(c.tensors, 0, n), flat(c.tensors, n, sets * n));
  t.running = flat(c.tensors, (1 + sets) * n, 2 * t.plan.norm_channels.size());
  t.steps = std::size_t(c.steps);
}

}  // namespace anycl
