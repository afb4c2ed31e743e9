#include "sched/split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace anycl::detail {

namespace {

// The weights over the largest one: only their ratios matter, and weights near DBL_MAX would
// otherwise sum to infinity and turn every share into NaN. Infinite weights share equally.
std::vector<double> relative_weights(const std::vector<double>& weights) {
  const double top = std::accumulate(weights.begin(), weights.end(), 0.0, [](double m, double w) {
    return w > m ? w : m;
  });
  std::vector<double> out(weights.size(), 0.0);
  for (std::size_t i = 0; i < weights.size() && top > 0; ++i)
    if (weights[i] > 0) out[i] = std::isinf(top) ? double(std::isinf(weights[i])) : weights[i] / top;
  return out;
}

}  // namespace

std::vector<Range> split_range(std::size_t extent, const std::vector<double>& raw_weights, std::size_t align) {
  align = std::max<std::size_t>(align, 1);
  const std::size_t granules = (extent + align - 1) / align;
  const std::vector<double> weights = relative_weights(raw_weights);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::size_t> count(weights.size(), 0);
  if (total > 0) {
    // Whole granules first (never more than the fair share), then each leftover granule to the
    // device that would finish it soonest.
    std::size_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i)
      if (weights[i] > 0) given += count[i] = std::size_t(std::floor(double(granules) * weights[i] / total));
    for (; given < granules; ++given) {
      std::size_t best = weights.size();
      double best_t = 0;
      for (std::size_t i = 0; i < weights.size(); ++i) {
        if (!(weights[i] > 0)) continue;
        const double t = double(count[i] + 1) / weights[i];
        if (best == weights.size() || t < best_t) best = i, best_t = t;
      }
      ++count[best];
    }
  }
  std::vector<Range> out;
  std::size_t at = 0;
  for (std::size_t c : count) {
    const std::size_t end = std::min(extent, at + c * align);
    out.push_back({at, end});
    at = end;
  }
  return out;
}

namespace {

std::vector<std::size_t> active_devices(const std::vector<double>& weights) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < weights.size(); ++i)
    if (weights[i] > 0) out.push_back(i);
  return out;
}

// Bands of devices for a 2-D split: as square as the device count allows.
std::size_t grid_rows(std::size_t devices) {
  std::size_t best = 1;
  for (std::size_t r = 1; r * r <= devices; ++r)
    if (devices % r == 0) best = r;
  return best;
}

Parallel choose(const SplitProblem& p, std::size_t devices) {
  const std::size_t gr = grid_rows(devices), gc = devices / gr;
  if (devices >= 4 && gr > 1 && p.model_splittable && p.data >= gr * p.data_align && p.model >= gc * p.model_align)
    return Parallel::Hybrid;
  if (p.data >= devices * p.data_align) return Parallel::Data;
  if (p.model_splittable && p.model >= devices * p.model_align) return Parallel::Model;
  return Parallel::Data;
}

void add_pieces(std::vector<Piece>& out, const std::vector<std::size_t>& devs, const std::vector<Range>& data,
                const std::vector<Range>& model) {
  for (std::size_t i = 0; i < devs.size(); ++i)
    if (data[i].size() && model[i].size()) out.push_back({devs[i], data[i], model[i]});
}

}  // namespace

std::vector<Piece> plan_pieces(Parallel mode, const SplitProblem& p, const std::vector<double>& weights) {
  std::vector<std::size_t> devs = active_devices(weights);
  if (devs.empty() || p.data == 0 || p.model == 0) return {};
  auto fastest = [&] {
    return *std::max_element(devs.begin(), devs.end(), [&](std::size_t a, std::size_t b) {
      return weights[a] < weights[b];
    });
  };
  if (mode == Parallel::Auto) {
    if (devs.size() == 1 || !worth_splitting(p.flops, weights[fastest()]))
      return {{fastest(), {0, p.data}, {0, p.model}}};
    mode = choose(p, devs.size());
  }
  if (!p.model_splittable) mode = Parallel::Data;
  std::vector<double> w;
  for (std::size_t d : devs) w.push_back(weights[d]);
  std::vector<Piece> out;
  const Range all_data{0, p.data}, all_model{0, p.model};
  if (mode == Parallel::Data) {
    add_pieces(out, devs, split_range(p.data, w, p.data_align), std::vector<Range>(devs.size(), all_model));
  } else if (mode == Parallel::Model) {
    add_pieces(out, devs, std::vector<Range>(devs.size(), all_data), split_range(p.model, w, p.model_align));
  } else {
    // Hybrid: bands along the data axis, each band's devices split the model axis.
    const std::size_t gr = grid_rows(devs.size()), gc = devs.size() / gr;
    std::vector<double> band_w(gr, 0.0);
    for (std::size_t i = 0; i < devs.size(); ++i) band_w[i / gc] += w[i];
    const std::vector<Range> bands = split_range(p.data, band_w, p.data_align);
    for (std::size_t b = 0; b < gr; ++b) {
      const std::vector<std::size_t> band_devs(devs.begin() + b * gc, devs.begin() + (b + 1) * gc);
      const std::vector<double> bw(w.begin() + b * gc, w.begin() + (b + 1) * gc);
      add_pieces(out, band_devs, std::vector<Range>(gc, bands[b]), split_range(p.model, bw, p.model_align));
    }
  }
  return out;
}

}  // namespace anycl::detail
