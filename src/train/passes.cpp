#include "train/passes.hpp"

#include <algorithm>
#include <cmath>

#include "ops/nn_layers.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "train/processes.hpp"

namespace anycl::detail {
namespace {

void flush_all(Runtime& rt, const std::vector<Part>& parts) {
  for (const Part& p : parts) {
    const DeviceSlot& slot = engine(rt).slot(p.replica->device());
    check(clFlush(slot.queue.get()), "clFlush", slot.where());
  }
}

// Each part's row for a merge: its sample count, then `values` floats read from its buffers.
template <class Read>
std::vector<float> part_rows(const std::vector<Part>& parts, std::size_t values, Read read) {
  std::vector<float> rows;
  for (const Part& p : parts) {
    rows.push_back(float(p.info.n));
    rows.resize(rows.size() + values);
    read(p, rows.data() + rows.size() - values);
  }
  return rows;
}

// Chan's parallel merge of the parts' (mean, squared deviations), in slot order (every process's
// parts with a group), in double; every part gets the mean and 1 / sqrt(var + eps) of the whole
// batch.
NormMoments merge_norm_stats(Runtime& rt, const LayerPlan& l, std::size_t i, const std::vector<Part>& parts,
                             const ProcessShare& share) {
  const std::size_t channels = l.in.c, plane = l.in.h * l.in.w, row = 1 + 2 * channels;
  const std::vector<float> rows = gather_rows(
      part_rows(parts, 2 * channels,
                [&](const Part& p, float* to) { rt.read(p.replica->norm_part(i), to, 2 * channels * sizeof(float)); }),
      row, share);
  std::vector<double> mean(channels, 0), m2(channels, 0);
  double count = 0;
  for (std::size_t at = 0; at < rows.size(); at += row) {
    if (rows[at] == 0) continue;  // a slot no part filled
    const float* part = rows.data() + at + 1;
    const double n = double(rows[at]) * double(plane), total = count + n;
    for (std::size_t c = 0; c < channels; ++c) {
      const double delta = double(part[2 * c]) - mean[c];
      mean[c] += delta * n / total;
      m2[c] += double(part[2 * c + 1]) + delta * delta * count * n / total;
    }
    count = total;
  }
  std::vector<float> stats(2 * channels);
  NormMoments out{mean, std::vector<double>(channels)};
  for (std::size_t c = 0; c < channels; ++c) {
    stats[2 * c] = float(mean[c]);
    stats[2 * c + 1] = float(1 / std::sqrt(m2[c] / count + double(l.eps)));
    out.var[c] = count > 1 ? m2[c] / (count - 1) : 0;
  }
  for (const Part& p : parts) rt.write(p.replica->norm_stats(i), stats.data(), stats.size() * sizeof(float));
  return out;
}

// The whole batch's sum dy and sum dy * xhat per channel, from the parts' gradients of beta and
// gamma, summed in slot order in double.
void merge_norm_sums(Runtime& rt, const LayerPlan& l, std::size_t i, const std::vector<Part>& parts,
                     const ProcessShare& share) {
  const std::size_t channels = l.in.c, row = 1 + 2 * channels, bytes = channels * sizeof(float);
  const std::vector<float> rows = gather_rows(part_rows(parts, 2 * channels,
                                                        [&](const Part& p, float* to) {
                                                          rt.read(p.replica->grads()[l.weights], to, bytes);
                                                          rt.read(p.replica->grads()[l.weights + 1], to + channels, bytes);
                                                        }),
                                              row, share);
  std::vector<double> s1(channels, 0), s2(channels, 0);
  for (std::size_t at = 0; at < rows.size(); at += row) {
    if (rows[at] == 0) continue;
    const float *dgamma = rows.data() + at + 1, *dbeta = dgamma + channels;
    for (std::size_t c = 0; c < channels; ++c) s1[c] += double(dbeta[c]), s2[c] += double(dgamma[c]);
  }
  std::vector<float> sums(2 * channels);
  for (std::size_t c = 0; c < channels; ++c) sums[2 * c] = float(s1[c]), sums[2 * c + 1] = float(s2[c]);
  for (const Part& p : parts) rt.write(p.replica->norm_sums(i), sums.data(), sums.size() * sizeof(float));
}

}  // namespace

void forward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts,
                  std::vector<NormMoments>* moments, LayerRange range, const ProcessShare& share) {
  if (moments) moments->resize(plan.norm_channels.size());
  for (std::size_t i = range.first; i < std::min(range.last, plan.layers.size()); ++i) {
    const LayerPlan& l = plan.layers[i];
    if (l.kind == LayerKind::BatchNorm && !parts.empty() && parts.front().info.training) {
      for (const Part& p : parts) p.replica->norm_forward_part(i, p.info.n);
      flush_all(rt, parts);
      NormMoments m = merge_norm_stats(rt, l, i, parts, share);
      if (moments) (*moments)[l.norm] = std::move(m);
    }
    for (const Part& p : parts) p.replica->forward_layer(i, p.info);
  }
}

void backward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts, LayerRange range,
                   const ProcessShare& share, const std::function<void(std::size_t)>& after_node) {
  for (std::size_t i = std::min(range.last, plan.layers.size()); i-- > range.first;) {
    const LayerPlan& l = plan.layers[i];
    if (l.kind == LayerKind::BatchNorm) {
      for (const Part& p : parts) p.replica->norm_backward_part(i, p.info.n);
      flush_all(rt, parts);
      merge_norm_sums(rt, l, i, parts, share);
    }
    for (const Part& p : parts) p.replica->backward_layer(i, p.info);
    if (after_node) after_node(i);
  }
}

cl_uint dropout_seed(unsigned seed, std::size_t step) {
  return mix32(mix32(cl_uint(seed)) ^ mix32(cl_uint(step) + 0x9e3779b9u));
}

}  // namespace anycl::detail
