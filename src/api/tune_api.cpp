// anycl::tune: the search over a family's space (include/anycl/tune.hpp).
#include "anycl/tune.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <set>

#include "api/tune_file.hpp"
#include "api/tune_bench.hpp"
#include "api/tune_dispatch.hpp"
#include "runtime/error.hpp"
#include "runtime/search_space.hpp"
#include "sched/engine.hpp"

namespace anycl {
namespace {

using detail::engine;
using detail::ParamSet;

const detail::FamilySpec& family_spec(const std::string& variant) {
  for (const detail::FamilySpec& f : detail::kernel_families())
    if (f.variant == variant) return f;
  detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: no kernel family " + variant);
}

// The space's configurations not yet measured: the device's current values first (the figure to
// beat), then the rest in file order when few, else in a seeded random order (random search
// without repeats).
std::vector<ParamSet> candidates(const detail::SearchSpace& space, const DeviceInfo& device,
                                 std::size_t elem_bytes, const TuneOptions& options, const ParamSet& current,
                                 const std::vector<TuneTrial>& measured, std::size_t* space_size) {
  std::vector<ParamSet> all = space.configurations(device, elem_bytes);
  *space_size = all.size();
  if (all.size() > options.exhaustive_limit) std::shuffle(all.begin(), all.end(), std::mt19937_64(options.seed));
  const auto at = std::find(all.begin(), all.end(), current);
  if (at != all.end()) std::rotate(all.begin(), at, at + 1);
  std::set<ParamSet> seen;
  for (const TuneTrial& t : measured) seen.insert(t.params);
  all.erase(std::remove_if(all.begin(), all.end(), [&](const ParamSet& p) { return seen.count(p) > 0; }), all.end());
  return all;
}

// Which candidate runs next. Small spaces: the queue in order (exhaustive). Large ones: the
// (shuffled) queue for options.random_samples candidates, then an untried neighbour of the best so
// far whenever there is one (one tunable moved one step along its value list), so the search climbs
// from the best region the samples found; back to the queue when the best has no untried neighbour.
class CandidateOrder {
 public:
  CandidateOrder(const detail::SearchSpace& space, std::vector<ParamSet> queue, bool large, std::size_t random_samples,
                 const std::vector<TuneTrial>& measured)
      : space_(space), queue_(std::move(queue)), allowed_(queue_.begin(), queue_.end()),
        climb_after_(random_samples), sampled_(measured.size()), large_(large) {
    for (const TuneTrial& t : measured) tried_.insert(t.params);
  }

  std::size_t size() const { return queue_.size(); }

  std::optional<ParamSet> next(const ParamSet* best) {
    if (large_ && best && sampled_ >= climb_after_)
      if (auto n = untried_neighbour(*best)) return take(*n);
    while (at_ < queue_.size() && tried_.count(queue_[at_])) ++at_;
    if (at_ == queue_.size()) return std::nullopt;
    ++sampled_;
    return take(queue_[at_++]);
  }

 private:
  ParamSet take(const ParamSet& p) {
    tried_.insert(p);
    return p;
  }
  std::optional<ParamSet> untried_neighbour(const ParamSet& best) const {
    for (const auto& [name, values] : space_.values) {
      const auto it = best.find(name);
      if (it == best.end()) continue;
      const auto at = std::find(values.begin(), values.end(), it->second);
      for (const long step : {-1L, 1L}) {
        const long j = long(at - values.begin()) + step;
        if (at == values.end() || j < 0 || j >= long(values.size())) continue;
        ParamSet p = best;
        p[name] = values[std::size_t(j)];
        if (allowed_.count(p) && !tried_.count(p)) return p;
      }
    }
    return std::nullopt;
  }

  const detail::SearchSpace& space_;
  std::vector<ParamSet> queue_;
  std::set<ParamSet> allowed_, tried_;
  std::size_t climb_after_, sampled_, at_ = 0;
  bool large_;
};

// Builds, checks and times one candidate; the returned trial says how far it got.
TuneTrial try_candidate(Runtime& rt, std::size_t device, const std::string& variant, const ParamSet& params,
                        detail::TuneBench& bench) {
  TuneTrial trial{params, "build_failed", 0, {}, false};
  detail::Engine& e = engine(rt);
  try {
    detail::rebuild_program(e.devices.build_context(), e.slot(device), variant, params);
  } catch (const Error& err) {
    trial.message = std::string(err.what()).substr(0, 400);
    return trial;
  }
  try {
    trial.status = "launch_failed";
    trial.message = bench.check();
    if (!trial.message.empty()) {
      trial.status = "wrong_result";
      return trial;
    }
    trial.gflops = bench.time();
    trial.status = "ok";
  } catch (const std::exception& err) {
    trial.message = std::string(err.what()).substr(0, 400);
  }
  return trial;
}

int best_of(const std::vector<TuneTrial>& trials) {
  int best = -1;
  for (std::size_t i = 0; i < trials.size(); ++i)
    if (trials[i].status == "ok" && (best < 0 || trials[i].gflops > trials[std::size_t(best)].gflops)) best = int(i);
  return best;
}

// Leaves the device running the best candidate (or the tables' values) and every program that
// shares its layout rebuilt to match.
void install(Runtime& rt, std::size_t device, const std::string& variant, const ParamSet& params) {
  detail::Engine& e = engine(rt);
  detail::rebuild_program(e.devices.build_context(), e.slot(device), variant, params);
  for (const detail::FamilySpec& f : detail::kernel_families())
    if (f.layout_from == variant && e.slot(device).has_program(f.variant))
      detail::rebuild_program(e.devices.build_context(), e.slot(device), f.variant, {});
}

}  // namespace

std::string tuned_params_file(const Runtime& rt, std::size_t device) {
  const detail::Engine& e = engine(rt);
  return detail::tuned_params_path(e.binary_cache().dir(), e.slot(device).info);
}

std::string tuned_entry_json(const Runtime& rt, std::size_t device) {
  const std::string path = tuned_params_file(rt, device);
  const nlohmann::json entry = detail::tuned_entry(detail::load_tuned_file(path));
  if (entry.is_null())
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: " + path + " holds no tuned entry for " +
                                                   engine(rt).slot(device).where() + "; run anycl-tune first");
  nlohmann::json out = entry;
  out.erase("tuned_by");
  out["comment"] = "Tuned by anycl-tune on " + engine(rt).slot(device).info.name + ".";
  return out.dump(2);
}

TuneResult tune(Runtime& rt, std::size_t device, const TuneOptions& options) {
  if (detail::is_dispatch_family(options.family)) return detail::tune_dispatch(rt, device, options);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const detail::FamilySpec& spec = family_spec(options.family);
  const detail::DeviceSlot& slot = engine(rt).slot(device);
  if (!slot.has_program(spec.variant))
    detail::fail(ANYCL_ERROR_UNSUPPORTED,
                 "anycl-tune: " + slot.where() + " does not run " + spec.variant +
                     (spec.tiled_gemm ? " (built where the tiled GEMM family runs: GPU-class devices, or any device "
                                        "in a runtime created with ANYCL_GEMM_FAMILY=tiled)"
                                      : ""));
  const auto bench = detail::make_tune_bench(rt, device, spec.variant, options);
  const detail::SearchSpace space =
      options.space_file.empty() ? detail::load_search_space(rt.kernel_dir(), spec.family)
                                 : detail::load_search_space_file(options.space_file, spec.family);

  TuneResult result;
  result.variant = spec.variant;
  result.params_file = options.params_file.empty() ? tuned_params_file(rt, device) : options.params_file;
  nlohmann::json doc = detail::load_tuned_file(result.params_file);
  const std::string key = bench->problems_key();
  result.trials = detail::resumed_trials(doc, spec.variant, key);
  const std::size_t elem_bytes = spec.real == "double" ? 8 : 4;
  ParamSet current;  // the values the device was built with, on the space's tunables
  const ParamSet& built = slot.program(spec.variant).params;
  for (const auto& tunable : space.values)
    if (auto it = built.find(tunable.first); it != built.end()) current.insert(*it);
  std::vector<ParamSet> queue =
      candidates(space, slot.info, elem_bytes, options, current, result.trials, &result.space_size);
  CandidateOrder order(space, std::move(queue), result.space_size > options.exhaustive_limit, options.random_samples,
                       result.trials);

  result.best = best_of(result.trials);  // a resumed run climbs from the best it had
  TuneProgress progress;
  progress.total = order.size();
  while (std::chrono::duration<double>(clock::now() - start).count() < options.budget_seconds) {
    const std::optional<ParamSet> next =
        order.next(result.best < 0 ? nullptr : &result.trials[std::size_t(result.best)].params);
    if (!next) break;
    const ParamSet& params = *next;
    // Recorded before it runs: a candidate that kills the process is never tried again.
    result.trials.push_back({params, "crashed", 0, "the tuner stopped during this candidate", false});
    detail::record_trials(doc, slot.info, spec.variant, key, result.trials, best_of(result.trials));
    detail::write_tuned_file(result.params_file, doc);
    result.trials.back() = try_candidate(rt, device, spec.variant, params, *bench);
    result.best = best_of(result.trials);
    detail::record_trials(doc, slot.info, spec.variant, key, result.trials, result.best);
    detail::write_tuned_file(result.params_file, doc);

    ++progress.done;
    progress.elapsed_seconds = std::chrono::duration<double>(clock::now() - start).count();
    progress.best_gflops = result.best < 0 ? 0 : result.trials[std::size_t(result.best)].gflops;
    const double per_trial = progress.elapsed_seconds / double(progress.done);
    progress.eta_seconds = std::min(per_trial * double(progress.total - progress.done),
                                    std::max(0.0, options.budget_seconds - progress.elapsed_seconds));
    progress.last = &result.trials.back();
    if (options.on_progress) options.on_progress(progress);
  }
  result.best = best_of(result.trials);
  for (std::size_t i = 0; i < result.trials.size(); ++i)
    if (result.trials[i].params == current) result.current = int(i);
  install(rt, device, spec.variant, result.best < 0 ? ParamSet{} : result.trials[std::size_t(result.best)].params);
  return result;
}

}  // namespace anycl
