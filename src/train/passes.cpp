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

// Chan's parallel merge of parts' per-channel (mean, squared deviations), in double, in the order
// added.
class ChanMerge {
 public:
  explicit ChanMerge(std::size_t channels) : mean_(channels, 0), m2_(channels, 0) {}
  void add(const float* part, double n) {
    const double total = count_ + n;
    for (std::size_t c = 0; c < mean_.size(); ++c) {
      const double delta = double(part[2 * c]) - mean_[c];
      mean_[c] += delta * n / total;
      m2_[c] += double(part[2 * c + 1]) + delta * delta * count_ * n / total;
    }
    count_ = total;
  }
  // The batch's mean and 1 / sqrt(var + eps) per channel, as the kernels take them.
  std::vector<float> stats(float eps) const {
    std::vector<float> out(2 * mean_.size());
    for (std::size_t c = 0; c < mean_.size(); ++c) {
      out[2 * c] = float(mean_[c]);
      out[2 * c + 1] = float(1 / std::sqrt(m2_[c] / count_ + double(eps)));
    }
    return out;
  }
  void moments(NormMoments& m) const {
    m.mean = mean_;
    m.var.resize(mean_.size());
    for (std::size_t c = 0; c < mean_.size(); ++c) m.var[c] = count_ > 1 ? m2_[c] / (count_ - 1) : 0;
  }

 private:
  std::vector<double> mean_, m2_;
  double count_ = 0;
};

// Every part gets the mean and 1 / sqrt(var + eps) of the whole batch, merged in slot order (every
// process's parts with a group).
NormMoments merge_norm_stats(Runtime& rt, const LayerPlan& l, std::size_t i, const std::vector<Part>& parts,
                             const ProcessShare& share) {
  const std::size_t channels = l.in.c, plane = l.in.h * l.in.w, row = 1 + 2 * channels;
  const std::vector<float> rows = gather_rows(
      part_rows(parts, 2 * channels,
                [&](const Part& p, float* to) { rt.read(p.replica->norm_part(i), to, 2 * channels * sizeof(float)); }),
      row, share);
  ChanMerge merge(channels);
  for (std::size_t at = 0; at < rows.size(); at += row)
    if (rows[at] != 0) merge.add(rows.data() + at + 1, double(rows[at]) * double(plane));  // 0: a slot no part filled
  const std::vector<float> stats = merge.stats(l.eps);
  NormMoments out;
  merge.moments(out);
  for (const Part& p : parts) rt.write(p.replica->norm_stats(i), stats.data(), stats.size() * sizeof(float));
  return out;
}

// The part's statistics into m.part behind the queue, for settle_moments.
void read_part_later(Runtime& rt, const LayerPlan& l, std::size_t i, const Part& p, NormMoments& m) {
  const DeviceSlot& slot = engine(rt).slot(p.replica->device());
  m.mean.clear(), m.var.clear();
  m.part.resize(2 * l.in.c);
  m.count = double(p.info.n * l.in.h * l.in.w);
  cl_event ev = nullptr;
  check(clEnqueueReadBuffer(slot.queue.get(), p.replica->norm_part(i).native(), CL_FALSE, 0,
                            m.part.size() * sizeof(float), m.part.data(), 0, nullptr, &ev),
        "clEnqueueReadBuffer", slot.where());
  m.ready = Event(ev);
}

// The host waits for the device at each batch-norm node even when nothing needs merging: POCL
// ran a queue fed the whole step ahead about 3x slower than one fed a few layers at a time (the
// small ResNet at batch 64: 1.4k against 4.0k images/s), as the host merge's waits used to feed it.
void wait_for_device(Runtime& rt, const Part& p) { Event(enqueue_marker(engine(rt).slot(p.replica->device()))).wait(); }

// One part holding the whole batch computes the batch's statistics and sums on its device.
bool whole_batch(const std::vector<Part>& parts) { return parts.size() == 1 && holds_whole_batch(parts.front().info); }

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

void settle_moments(std::vector<NormMoments>& moments) {
  for (NormMoments& m : moments) {
    if (!m.mean.empty() || m.part.empty()) continue;
    m.ready.wait();
    ChanMerge merge(m.part.size() / 2);
    merge.add(m.part.data(), m.count);
    merge.moments(m);
  }
}

void forward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts,
                  std::vector<NormMoments>* moments, LayerRange range, const ProcessShare& share) {
  if (moments) moments->resize(plan.norm_channels.size());
  const bool whole = whole_batch(parts);
  for (std::size_t i = range.first; i < std::min(range.last, plan.layers.size()); ++i) {
    const LayerPlan& l = plan.layers[i];
    if (l.kind == LayerKind::BatchNorm && !parts.empty() && parts.front().info.training) {
      for (const Part& p : parts) p.replica->norm_forward_part(i, p.info.n, whole);
      if (whole && moments) read_part_later(rt, l, i, parts.front(), (*moments)[l.norm]);
      if (whole) wait_for_device(rt, parts.front());
      if (!whole) {
        flush_all(rt, parts);
        NormMoments m = merge_norm_stats(rt, l, i, parts, share);
        if (moments) (*moments)[l.norm] = std::move(m);
      }
    }
    for (const Part& p : parts) p.replica->forward_layer(i, p.info);
  }
}

void backward_pass(Runtime& rt, const ModelPlan& plan, const std::vector<Part>& parts, LayerRange range,
                   const ProcessShare& share, const std::function<void(std::size_t)>& after_node) {
  const bool whole = whole_batch(parts);
  for (std::size_t i = std::min(range.last, plan.layers.size()); i-- > range.first;) {
    const LayerPlan& l = plan.layers[i];
    if (l.kind == LayerKind::BatchNorm) {
      for (const Part& p : parts) p.replica->norm_backward_part(i, p.info.n, whole);
      if (whole) wait_for_device(rt, parts.front());
      if (!whole) {
        flush_all(rt, parts);
        merge_norm_sums(rt, l, i, parts, share);
      }
    }
    for (const Part& p : parts) p.replica->backward_layer(i, p.info);
    if (after_node) after_node(i);
  }
}

cl_uint dropout_seed(unsigned seed, std::size_t step) {
  return mix32(mix32(cl_uint(seed)) ^ mix32(cl_uint(step) + 0x9e3779b9u));
}

}  // namespace anycl::detail
