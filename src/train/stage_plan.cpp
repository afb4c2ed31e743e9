#include "train/stage_plan.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

// A CPU core streams about one float per 8-16 flops it computes; the lower end keeps small,
// memory-bound layers (pooling, bias-heavy dense layers) from looking free.
constexpr double kFlopsPerByte = 8;

// Multiply-adds per sample of the forward pass.
double forward_macs(const LayerPlan& l, std::size_t parameters) {
  switch (l.kind) {
    case LayerKind::Conv: return double(parameters - l.out.c) * double(l.out.h * l.out.w);
    case LayerKind::Dense: return double(parameters - l.out.c);
    default: return double(l.in.size());  // one comparison per input
  }
}

}  // namespace

std::size_t range_parameters(const ModelPlan& plan, std::size_t first, std::size_t last) {
  std::size_t n = 0;
  for (std::size_t t = plan.layer_tensors[first]; t < plan.layer_tensors[last]; ++t) n += plan.tensor_sizes[t];
  return n;
}

double layer_cost(const LayerPlan& layer, std::size_t parameters, std::size_t samples) {
  // Backward costs twice the forward pass (gradients of the input and of the weights).
  const double flops = 3 * 2 * forward_macs(layer, parameters) * double(samples);
  // About three passes over the activations (x and y forward; x, y, dy and dx backward) and four
  // over the parameters (read twice, the gradient written and summed).
  const double bytes = 4 * (3 * double(samples) * double(layer.in.size() + layer.out.size()) + 4 * double(parameters));
  return flops + kFlopsPerByte * bytes;
}

// Dynamic programming over the top-level units (a residual block is one, costing its nodes' sum);
// the bounds come back as node indices.
std::vector<std::size_t> partition_layers(const ModelPlan& plan, std::size_t stages, std::size_t samples) {
  const std::vector<std::size_t>& unit = plan.units;
  const std::size_t n = unit.size() - 1;
  if (stages == 0 || stages > n)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: " + std::to_string(stages) + " stages for a model of " +
                                           std::to_string(n) + " layers (each stage needs a layer)");
  std::vector<double> prefix_cost(n + 1, 0);
  std::size_t largest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    largest = std::max(largest, range_parameters(plan, unit[i], unit[i + 1]));
    prefix_cost[i + 1] = prefix_cost[i];
    for (std::size_t node = unit[i]; node < unit[i + 1]; ++node)
      prefix_cost[i + 1] += layer_cost(plan.layers[node], range_parameters(plan, node, node + 1), samples);
  }
  const std::size_t cap = plan.parameter_count() / stages + largest;
  // best[k][j]: (largest stage cost, largest stage parameters) cutting layers [0, j) into k stages.
  using Score = std::pair<double, std::size_t>;
  const Score none{std::numeric_limits<double>::infinity(), 0};
  std::vector<std::vector<Score>> best(stages + 1, std::vector<Score>(n + 1, none));
  std::vector<std::vector<std::size_t>> cut(stages + 1, std::vector<std::size_t>(n + 1, 0));
  best[0][0] = {0, 0};
  for (std::size_t k = 1; k <= stages; ++k)
    for (std::size_t j = k; j <= n; ++j)
      for (std::size_t i = k - 1; i < j; ++i) {
        const std::size_t params = range_parameters(plan, unit[i], unit[j]);
        if (best[k - 1][i] == none || params > cap) continue;
        const Score s{std::max(best[k - 1][i].first, prefix_cost[j] - prefix_cost[i]),
                      std::max(best[k - 1][i].second, params)};
        if (s < best[k][j]) best[k][j] = s, cut[k][j] = i;
      }
  if (best[stages][n] == none)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: no cut of the " + std::to_string(n) + " layers into " +
                                           std::to_string(stages) + " stages holds at most " + std::to_string(cap) +
                                           " parameters per stage (total / stages + the largest layer)");
  std::vector<std::size_t> bounds(stages + 1, n);
  for (std::size_t k = stages; k > 0; --k) bounds[k - 1] = cut[k][bounds[k]];
  for (std::size_t& b : bounds) b = unit[b];
  return bounds;
}

}  // namespace anycl::detail
