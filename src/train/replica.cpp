#include "train/replica.hpp"

#include <algorithm>
#include <climits>
#include <utility>

#include "ops/nn_layers.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "sched/run_conv.hpp"
#include "sched/run_gemm.hpp"
#include "train/flat_tensors.hpp"

namespace anycl::detail {
namespace {

PoolGeom pool_geom(const LayerPlan& l, std::size_t n) {
  return {n * l.in.c, l.in.h, l.in.w, l.out.h, l.out.w, l.kernel, l.kernel_w};
}

NormGeom norm_geom(const LayerPlan& l, std::size_t n) { return {n, l.in.c, l.in.h * l.in.w}; }

GemmShape row_major(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, std::size_t lda,
                    std::size_t ldb, std::size_t ldc) {
  GemmShape s;
  s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k, s.lda = lda, s.ldb = ldb, s.ldc = ldc;
  return s;
}

// A replica keeps its calls on its own device (the trainer keeps every device busy itself).
Event gemm_here(Engine& rt, std::size_t device, const GemmShape& s, const Buffer& a, const Buffer& b, const Buffer& c) {
  const GemmCall call = gemm_call(s, 1.f);
  const Plan plan = plan_call(rt, {call, device, false});
  return run_gemm<float>(rt, plan, call, 1.f, a.native(), b.native(), 0.f, c.native());
}

Event conv_here(Engine& rt, std::size_t device, ConvPass pass, const Conv2d& d, const ConvTensorSet& t) {
  const ConvCall call{pass, d, ConvAlgo::Auto};
  return run_conv(rt, plan_call(rt, {call, device, false}), call, t);
}

cl_mem native(const Buffer& b) { return b.native(); }

// The threshold and scale of inverted dropout at `rate`, and node i's stream of the step's seed.
DropoutMask dropout_mask(const LayerPlan& l, std::size_t i, const PassInfo& p) {
  const double threshold = double(l.rate) * 4294967296.0;
  return {p.n * l.in.size(), l.in.size(), p.first, mix32(p.seed ^ mix32(cl_uint(i))),
          cl_uint(std::min(threshold, 4294967295.0)), 1.f / (1.f - l.rate)};
}

}  // namespace

Replica::Replica(Runtime& rt, const ModelPlan& plan, std::size_t device, std::size_t capacity, LayerRange range,
                 SharedTensors shared)
    : rt_(rt), plan_(plan), device_(device), capacity_(capacity), range_(range) {
  range_.last = std::min(range_.last, plan.layers.size());
  auto alloc = [&](std::size_t elems) { return rt.alloc(std::max<std::size_t>(elems, 1) * sizeof(float), device); };
  const std::size_t first = plan.layer_tensors[range_.first], last = plan.layer_tensors[range_.last];
  auto own_or_shared = [&](const std::vector<Buffer>* others, Buffer& flat) {
    if (others) return *others;
    FlatTensors f = carve_tensors(rt, device, plan.tensor_sizes, first, last);
    flat = f.whole;
    return f.tensors;
  };
  params_ = own_or_shared(shared.params, flat_params_);
  grads_ = own_or_shared(shared.grads, flat_grads_);
  for (std::size_t t = 0; t < plan.tensor_sizes.size(); ++t)
    if (t < first || t >= last) params_[t] = grads_[t] = Buffer();
  // Indexed as the plan's nodes; what lies outside the range stays empty.
  acts_.resize(range_.first);
  dacts_.resize(range_.first);
  argmax_.resize(range_.first);
  norm_.resize(plan.norm_channels.size());
  const std::size_t in = capacity * plan.layers[range_.first].in.size();
  acts_.push_back(alloc(in));
  dacts_.push_back(range_.first > 0 ? alloc(in) : Buffer());  // the model input's gradient is never needed
  std::size_t scratch = 0;
  for (std::size_t i = range_.first; i < range_.last; ++i) {
    const LayerPlan& l = plan.layers[i];
    // The kernels index with 32-bit ints.
    if (capacity * std::max(l.in.size(), l.out.size()) > std::size_t(INT_MAX))
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: batch " + std::to_string(capacity) +
                                             " times the activations of " + l.name + " exceeds 2^31 elements");
    acts_.push_back(alloc(capacity * l.out.size()));
    dacts_.push_back(alloc(capacity * l.out.size()));
    argmax_.push_back(l.kind == LayerKind::MaxPool ? alloc(capacity * l.out.size()) : Buffer());
    if (l.kind == LayerKind::BatchNorm) norm_[l.norm] = {alloc(2 * l.out.c), alloc(2 * l.out.c), alloc(2 * l.out.c)};
    if (l.accumulate_dx) scratch = std::max(scratch, capacity * l.in.size());
  }
  if (scratch) scratch_ = alloc(scratch);
  acts_.resize(plan.layers.size() + 1);
  dacts_.resize(plan.layers.size() + 1);
  argmax_.resize(plan.layers.size());
  if (range_.last < plan.layers.size()) return;
  labels_ = rt.alloc(capacity * sizeof(cl_int), device);
  losses_ = alloc(capacity);
}

void Replica::forward_layer(std::size_t i, const PassInfo& p) {
  const LayerPlan& l = plan_.layers[i];
  switch (l.kind) {
    case LayerKind::Conv: return conv_forward(l, i, p.n);
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: return pool_forward(l, i, p.n);
    case LayerKind::BatchNorm: return norm_forward(l, i, p.n);
    case LayerKind::Dropout: return dropout_forward(l, i, p);
    case LayerKind::Dense: return dense_forward(l, i, p.n);
    case LayerKind::Add: return add_forward(l, i, p.n);
  }
}

// A node whose input another node reads too writes its input gradient to the scratch buffer and
// adds it on; an input gradient of the model input is never computed.
void Replica::backward_layer(std::size_t i, const PassInfo& p) {
  const LayerPlan& l = plan_.layers[i];
  if (l.kind == LayerKind::Add) return add_backward(l, i, p.n);
  const Buffer& dx = l.src == 0 ? Buffer() : l.accumulate_dx ? scratch_ : dacts_[l.src];
  switch (l.kind) {
    case LayerKind::Conv: conv_backward(l, i, p.n, dx); break;
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: pool_backward(l, i, p.n, dx); break;
    case LayerKind::BatchNorm: norm_backward(l, i, p, dx); break;
    case LayerKind::Dropout: dropout_backward(l, i, p, dx); break;
    case LayerKind::Dense: dense_backward(l, i, p.n, dx); break;
    case LayerKind::Add: break;
  }
  if (l.src != 0 && l.accumulate_dx)
    accumulate(engine(rt_).slot(device_), dacts_[l.src].native(), scratch_.native(), p.n * l.in.size());
}

void Replica::loss(std::size_t n, float scale) {
  softmax_xent(engine(rt_).slot(device_), acts_.back().native(), labels_.native(), losses_.native(),
               dacts_.back().native(), n, plan_.classes(), scale);
}

void Replica::conv_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  conv_here(engine(rt_), device_, ConvPass::Forward, l.conv(n),
            {native(acts_[l.src]), native(params_[l.weights]), native(acts_[i + 1]), native(params_[l.weights + 1])});
}

// The conv passes know nothing of the fused ReLU: mask dy by the forward output first.
void Replica::conv_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx) {
  const Conv2d d = l.conv(n);
  const Buffer& dy = dacts_[i + 1];
  if (l.relu) relu_backward(engine(rt_).slot(device_), dy.native(), acts_[i + 1].native(), n * l.out.size());
  conv_here(engine(rt_), device_, ConvPass::BackwardWeights, d,
            {native(acts_[l.src]), native(grads_[l.weights]), native(dy), native(grads_[l.weights + 1])});
  if (dx.native())
    conv_here(engine(rt_), device_, ConvPass::BackwardData, d, {native(dx), native(params_[l.weights]), native(dy), nullptr});
}

// y (n x units) = x (n x in) * W^T, then bias (and ReLU).
void Replica::dense_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const std::size_t in = l.in.size(), units = l.out.c;
  gemm_here(engine(rt_), device_, row_major(Transpose::No, Transpose::Yes, n, units, in, in, in, units), acts_[l.src],
            params_[l.weights], acts_[i + 1]);
  bias_add_rows(engine(rt_).slot(device_), acts_[i + 1].native(), params_[l.weights + 1].native(), n, units, l.relu);
}

// dW (units x in) = dy^T x, db = column sums of dy, dx (n x in) = dy W.
void Replica::dense_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  const std::size_t in = l.in.size(), units = l.out.c;
  const Buffer& dy = dacts_[i + 1];
  if (l.relu) relu_backward(slot, dy.native(), acts_[i + 1].native(), n * units);
  gemm_here(engine(rt_), device_, row_major(Transpose::Yes, Transpose::No, units, in, n, units, in, in), dy,
            acts_[l.src], grads_[l.weights]);
  sum_rows(slot, dy.native(), grads_[l.weights + 1].native(), n, units);
  if (dx.native())
    gemm_here(engine(rt_), device_, row_major(Transpose::No, Transpose::No, n, in, units, units, in, in), dy,
              params_[l.weights], dx);
}

void Replica::pool_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  if (l.kind == LayerKind::MaxPool)
    maxpool_forward(slot, pool_geom(l, n), acts_[l.src].native(), acts_[i + 1].native(), argmax_[i].native());
  else
    avgpool_forward(slot, pool_geom(l, n), acts_[l.src].native(), acts_[i + 1].native());
}

void Replica::pool_backward(const LayerPlan& l, std::size_t i, std::size_t n, const Buffer& dx) {
  if (!dx.native()) return;
  const DeviceSlot& slot = engine(rt_).slot(device_);
  if (l.kind == LayerKind::MaxPool)
    maxpool_backward(slot, pool_geom(l, n), dacts_[i + 1].native(), argmax_[i].native(), dx.native());
  else
    avgpool_backward(slot, pool_geom(l, n), dacts_[i + 1].native(), dx.native());
}

void Replica::norm_forward_part(std::size_t i, std::size_t n, bool whole) {
  const LayerPlan& l = plan_.layers[i];
  bn_stats(engine(rt_).slot(device_), norm_geom(l, n), acts_[l.src].native(), norm_part(i).native(),
           norm_stats(i).native(), whole, l.eps);
}

void Replica::norm_backward_part(std::size_t i, std::size_t n, bool whole) {
  const LayerPlan& l = plan_.layers[i];
  bn_backward_sums(engine(rt_).slot(device_), norm_geom(l, n), dacts_[i + 1].native(), acts_[i + 1].native(),
                   acts_[l.src].native(), norm_stats(i).native(), grads_[l.weights].native(),
                   grads_[l.weights + 1].native(), norm_sums(i).native(), l.relu, whole);
}

void Replica::norm_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  bn_forward(engine(rt_).slot(device_), norm_geom(l, n), acts_[l.src].native(), acts_[i + 1].native(),
             norm_stats(i).native(), params_[l.weights].native(), params_[l.weights + 1].native(), l.relu);
}

// norm_backward_part already masked dy by the ReLU, and it or the driver filled norm_sums(i).
void Replica::norm_backward(const LayerPlan& l, std::size_t i, const PassInfo& p, const Buffer& dx) {
  if (!dx.native()) return;
  bn_backward_data(engine(rt_).slot(device_), norm_geom(l, p.n), dacts_[i + 1].native(), acts_[l.src].native(),
                   norm_stats(i).native(), params_[l.weights].native(), norm_sums(i).native(), dx.native(),
                   p.global * l.in.h * l.in.w);
}

void Replica::dropout_forward(const LayerPlan& l, std::size_t i, const PassInfo& p) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  if (p.training) detail::dropout_forward(slot, dropout_mask(l, i, p), acts_[l.src].native(), acts_[i + 1].native());
  else copy_floats(slot, acts_[i + 1].native(), acts_[l.src].native(), p.n * l.in.size());
}

void Replica::dropout_backward(const LayerPlan& l, std::size_t i, const PassInfo& p, const Buffer& dx) {
  if (dx.native())
    detail::dropout_backward(engine(rt_).slot(device_), dropout_mask(l, i, p), dacts_[i + 1].native(), dx.native());
}

void Replica::add_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  detail::add_forward(engine(rt_).slot(device_), acts_[l.src].native(), acts_[l.src2].native(), acts_[i + 1].native(),
                      n * l.out.size(), l.relu);
}

// Both branches receive dy (after the ReLU's mask): copied, or added where another node's
// gradient of the same activation is already there.
void Replica::add_backward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const Buffer& dy = dacts_[i + 1];
  auto target = [&](std::size_t src, bool add) {
    return std::pair{src == 0 ? dy.native() : dacts_[src].native(),
                     src == 0 ? GradWrite::Skip : add ? GradWrite::Add : GradWrite::Copy};
  };
  const auto [da, a] = target(l.src, l.accumulate_dx);
  const auto [db, b] = target(l.src2, l.accumulate_dx2);
  detail::add_backward(engine(rt_).slot(device_), dy.native(), acts_[i + 1].native(), da, db, n * l.out.size(), l.relu,
                       a, b);
}

}  // namespace anycl::detail
