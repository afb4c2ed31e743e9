// DataParallelTrainer::save_checkpoint and load_checkpoint (the file format: checkpoint.hpp).
#include <cstring>

#include "runtime/error.hpp"
#include "train/checkpoint.hpp"
#include "train/processes.hpp"
#include "train/trainer_impl.hpp"

namespace anycl {
namespace {

std::vector<float> flat(const std::vector<std::vector<float>>& tensors, std::size_t first, std::size_t count) {
  std::vector<float> out;
  for (std::size_t t = first; t < first + count; ++t) out.insert(out.end(), tensors[t].begin(), tensors[t].end());
  return out;
}

std::vector<std::vector<float>> split_tensors(const std::vector<float>& all, const std::vector<std::size_t>& sizes) {
  std::vector<std::vector<float>> out;
  for (std::size_t t = 0, at = 0; t < sizes.size(); at += sizes[t], ++t)
    out.emplace_back(all.begin() + std::ptrdiff_t(at), all.begin() + std::ptrdiff_t(at + sizes[t]));
  return out;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// What makes a checkpoint resumable by this trainer: its model, lr and momentum, and one tensor
// of the plan's size for every parameter and every momentum tensor.
void check_fits(const detail::Checkpoint& c, const detail::TrainerImpl& t, const std::string& path) {
  auto refuse = [&](const std::string& why) {
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer::load_checkpoint: " + path + " " + why);
  };
  if (c.model_hash != detail::model_hash(t.plan)) refuse("was written for another model (its layers or input differ)");
  if (!same_bits(c.lr, t.options.lr) || !same_bits(c.momentum, t.options.momentum))
    refuse("was written with lr " + std::to_string(c.lr) + ", momentum " + std::to_string(c.momentum) +
           "; this trainer has lr " + std::to_string(t.options.lr) + ", momentum " + std::to_string(t.options.momentum));
  const std::vector<std::size_t>& sizes = t.plan.tensor_sizes;
  bool fits = c.tensors.size() == 2 * sizes.size();
  for (std::size_t i = 0; fits && i < c.tensors.size(); ++i) fits = c.tensors[i].size() == sizes[i % sizes.size()];
  if (!fits) refuse("holds tensors of other sizes than the model's weights and momentum");
}

}  // namespace

void DataParallelTrainer::save_checkpoint(const std::string& path) const {
  detail::TrainerImpl& t = *impl_;
  detail::Checkpoint c;
  c.model_hash = detail::model_hash(t.plan);
  c.steps = t.steps;
  c.lr = t.options.lr;
  c.momentum = t.options.momentum;
  for (const auto& tensors : {t.read_all(t.params_of(0)), t.read_all(t.momentum_tensors())})
    for (auto& v : split_tensors(tensors, t.plan.tensor_sizes)) c.tensors.push_back(std::move(v));
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
    if (t.options.processes) detail::report_failure(*t.options.processes, 2 * t.plan.parameter_count());
    throw;
  }
  const std::size_t n = t.plan.tensor_sizes.size();
  t.set_state(flat(c.tensors, 0, n), flat(c.tensors, n, n));
  t.steps = std::size_t(c.steps);
}

}  // namespace anycl
