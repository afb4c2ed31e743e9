#include "api/tune_dispatch.hpp"

#include <chrono>
#include <functional>

#include "api/tune_bench.hpp"
#include "api/tune_file.hpp"
#include "ops/gemm_args.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"

namespace anycl::detail {
namespace {

constexpr long kNever = 4096;  // the largest parameter value the tables accept

// One threshold: `side(point, true)` times the problem at `point` on the side the threshold
// routes to (GFLOP/s), `side(point, false)` on the other. The threshold side is taken for points
// up to the threshold (below) or from it on (!below).
struct Ladder {
  std::string variant, threshold;
  std::vector<long> points;
  bool below;
  long if_never;  // the threshold when its side wins at no point
  std::function<void(bool)> prepare;  // before timing one side: route every problem to it
  std::function<double(long)> gflops;
};

// Largest point of the prefix the threshold side wins (below), else smallest point of the suffix.
long crossover(const Ladder& l, const std::map<long, double>& ours, const std::map<long, double>& other) {
  long found = l.if_never;
  if (l.below) {
    for (long p : l.points) {
      if (ours.at(p) < other.at(p)) break;
      found = p;
    }
  } else {
    for (auto p = l.points.rbegin(); p != l.points.rend(); ++p) {
      if (ours.at(*p) < other.at(*p)) break;
      found = *p;
    }
  }
  return found;
}

// Rebuilds `variant` with its current parameters but `changes`.
void rebuild_with(Runtime& rt, std::size_t device, const std::string& variant, const ParamSet& changes) {
  Engine& e = engine(rt);
  ParamSet fixed = e.slot(device).program(variant).params;
  for (const auto& [k, v] : changes) fixed[k] = v;
  rebuild_program(e.devices.build_context(), e.slot(device), variant, fixed);
}

template <typename T>
std::vector<Ladder> gemm_ladders(Runtime& rt, std::size_t device) {
  const std::string direct = std::string("gemm_direct_") + precision_suffix<T>();
  auto route = [&rt, device, direct](bool to_direct) {
    rebuild_with(rt, device, direct,
                 to_direct ? ParamSet{{"DIRECT_TINY", kNever}} : ParamSet{{"DIRECT_TINY", 1}, {"DIRECT_MAX", 1}, {"DIRECT_NARROW", 1}, {"DIRECT_NARROW_M", 1}});
  };
  auto timer = [&rt, device](std::function<GemmProblem(long)> shape) {
    return [&rt, device, shape](long point) {
      const GemmProblem p = shape(point);
      auto make = [&](std::size_t elems, unsigned seed) {
        Buffer b = rt.alloc(elems * sizeof(T), device);
        rt.write(b, random_values<T>(elems, seed).data(), elems * sizeof(T));
        return b;
      };
      const Buffer a = make(p.m * p.k, 1), b = make(p.k * p.n, 2), c = make(p.m * p.n, 3);
      const DeviceSlot& slot = engine(rt).slot(device);
      const double s = best_seconds([&] { Event(enqueue_gemm<T>(slot, p, T(1), a.native(), b.native(), T(0), c.native())).wait(); });
      return 2.0 * double(p.m) * double(p.n) * double(p.k) / s * 1e-9;
    };
  };
  auto square = [](long s) { return dense_problem(std::size_t(s), std::size_t(s), std::size_t(s)); };
  auto narrow = [](long n) { return dense_problem(1024, std::size_t(n), 1024); };
  auto short_c = [](long m) { return dense_problem(std::size_t(m), 1024, 1024); };
  auto square_bt = [](long s) {
    GemmProblem p = dense_problem(std::size_t(s), std::size_t(s), std::size_t(s));
    p.trans_b = true;
    return p;
  };
  return {{direct, "DIRECT_MAX", {128, 192, 256, 384, 512, 768, 1024}, true, 64, route, timer(square)},
          {direct, "DIRECT_NARROW", {16, 32, 64, 128, 256, 512}, true, 1, route, timer(narrow)},
          {direct, "DIRECT_NARROW_M", {16, 32, 64, 128, 256, 512}, true, 1, route, timer(short_c)},
          {direct, "DIRECT_TINY", {16, 32, 48, 64, 96, 128, 192}, true, 1, route, timer(square_bt)}};
}

// Forward 3x3 layers of batch 8 at 28x28: Winograd against im2col over the channel count, and
// grouped convolutions of 64 channels, direct against im2col over the channels per group.
std::vector<Ladder> conv_ladders(Runtime& rt, std::size_t device) {
  auto timer = [&rt, device](ConvAlgo ours, std::function<Conv2d(long)> shape) {
    return [&rt, device, ours, shape](bool threshold_side) {
      return std::function<double(long)>([&rt, device, ours, shape, threshold_side](long point) {
        const Conv2d d = shape(point);
        auto make = [&](std::size_t elems, unsigned seed) {
          Buffer b = rt.alloc(elems * sizeof(float), device);
          rt.write(b, random_values<float>(elems, seed).data(), elems * sizeof(float));
          return b;
        };
        const Buffer x = make(d.x_size(), 1), w = make(d.w_size(), 2), y = make(d.y_size(), 3);
        const ConvAlgo algo = threshold_side ? ours : ConvAlgo::Im2col;
        const double s = best_seconds([&] { conv2d_forward(rt, d, x, w, nullptr, y, algo).wait(); });
        return 2.0 * double(d.y_size()) * double(d.c / d.groups * d.r * d.s) / s * 1e-9;
      });
    };
  };
  auto layer = [](long channels, long groups) {
    Conv2d d;
    d.n = 8, d.c = d.k = std::size_t(channels), d.h = d.w = 28, d.r = d.s = 3;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1, d.groups = std::size_t(groups);
    return d;
  };
  const auto winograd = timer(ConvAlgo::Winograd, [layer](long c) { return layer(c, 1); });
  const auto direct = timer(ConvAlgo::Direct, [layer](long cg) { return layer(64, 64 / cg); });
  // Conv ladders time both sides without rebuilding: `prepare` picks the side's timer.
  auto ladder = [](std::string variant, std::string name, std::vector<long> points, bool below, long never,
                   std::function<std::function<double(long)>(bool)> side) {
    auto current = std::make_shared<std::function<double(long)>>();
    return Ladder{variant, name, points, below, never, [current, side](bool ours) { *current = side(ours); },
                  [current](long p) { return (*current)(p); }};
  };
  return {ladder("conv_winograd", "WINOGRAD_MIN_CHANNELS", {8, 16, 24, 32, 48, 64, 96, 128}, false, kNever, winograd),
          ladder("conv_direct", "DIRECT_GROUP_CHANNELS", {1, 2, 4, 8, 16, 32}, true, 1, direct)};
}

std::vector<Ladder> ladders_of(Runtime& rt, std::size_t device, const std::string& family) {
  const DeviceSlot& slot = engine(rt).slot(device);
  std::vector<Ladder> out = family == "dispatch_gemm_f32"   ? gemm_ladders<float>(rt, device)
                            : family == "dispatch_gemm_f64" ? gemm_ladders<double>(rt, device)
                                                            : conv_ladders(rt, device);
  for (const Ladder& l : out)
    if (!slot.has_program(l.variant))
      fail(ANYCL_ERROR_UNSUPPORTED, "anycl-tune: " + slot.where() + " does not run " + l.variant + ", which " + family +
                                        " needs");
  return out;
}

std::string ladders_key(const std::vector<Ladder>& ladders) {
  std::string key;
  for (const Ladder& l : ladders) {
    key += (key.empty() ? "" : ";") + l.threshold + ":";
    for (long p : l.points) key += std::to_string(p) + ",";
  }
  return key;
}

}  // namespace

bool is_dispatch_family(const std::string& family) {
  return family == "dispatch_gemm_f32" || family == "dispatch_gemm_f64" || family == "dispatch_conv";
}

TuneResult tune_dispatch(Runtime& rt, std::size_t device, const TuneOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  const DeviceInfo& info = engine(rt).slot(device).info;
  const std::vector<Ladder> ladders = ladders_of(rt, device, options.family);
  TuneResult result;
  result.variant = options.family;
  result.params_file = options.params_file.empty() ? tuned_params_file(rt, device) : options.params_file;
  nlohmann::json doc = load_tuned_file(result.params_file);
  const std::string key = ladders_key(ladders);
  result.trials = resumed_trials(doc, options.family, key);
  auto measured = [&](long ladder, long point, long side) -> const TuneTrial* {
    for (const TuneTrial& t : result.trials)
      if (t.params.at("LADDER") == ladder && t.params.at("POINT") == point && t.params.at("SIDE") == side) return &t;
    return nullptr;
  };
  TuneProgress progress;
  for (const Ladder& l : ladders) progress.total += 2 * l.points.size();
  progress.total -= result.trials.size();
  const std::map<std::string, ParamSet> before = [&] {
    std::map<std::string, ParamSet> out;
    for (const Ladder& l : ladders) out[l.variant] = engine(rt).slot(device).program(l.variant).params;
    return out;
  }();
  for (long li = 0; li < long(ladders.size()); ++li) {
    const Ladder& l = ladders[std::size_t(li)];
    std::map<long, double> figures[2];
    for (long side : {1L, 0L}) {
      bool prepared = false;
      for (long point : l.points) {
        if (const TuneTrial* t = measured(li, point, side)) {
          figures[side][point] = t->gflops;
          continue;
        }
        if (elapsed() >= options.budget_seconds) break;
        if (!prepared) l.prepare(side == 1), prepared = true;
        TuneTrial trial{{{"LADDER", li}, {"POINT", point}, {"SIDE", side}}, "ok", l.gflops(point), {}, false};
        figures[side][point] = trial.gflops;
        result.trials.push_back(trial);
        record_trials(doc, info, options.family, key, result.trials, -1);
        write_tuned_file(result.params_file, doc);
        ++progress.done;
        progress.elapsed_seconds = elapsed();
        progress.best_gflops = trial.gflops;
        progress.eta_seconds = std::min(progress.elapsed_seconds / double(progress.done) * double(progress.total - progress.done),
                                        std::max(0.0, options.budget_seconds - progress.elapsed_seconds));
        progress.last = &result.trials.back();
        if (options.on_progress) options.on_progress(progress);
      }
    }
    if (figures[0].size() < l.points.size() || figures[1].size() < l.points.size()) continue;  // out of budget
    result.thresholds[l.variant][l.threshold] = crossover(l, figures[1], figures[0]);
  }
  for (const auto& [variant, values] : result.thresholds) {
    set_entry_params(doc, info, variant, values);
    write_tuned_file(result.params_file, doc);
  }
  // The device dispatches by the thresholds found (the others as they were).
  for (const auto& [variant, params] : before) {
    ParamSet fixed = params;
    if (auto it = result.thresholds.find(variant); it != result.thresholds.end())
      for (const auto& [k, v] : it->second) fixed[k] = v;
    rebuild_program(engine(rt).devices.build_context(), engine(rt).slot(device), variant, fixed);
  }
  return result;
}

}  // namespace anycl::detail
