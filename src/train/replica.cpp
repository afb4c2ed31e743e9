#include "train/replica.hpp"

#include <algorithm>
#include <climits>

#include "ops/nn_layers.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "sched/run_conv.hpp"
#include "sched/run_gemm.hpp"

namespace anycl::detail {
namespace {

PoolGeom pool_geom(const LayerPlan& l, std::size_t n) {
  return {n * l.in.c, l.in.h, l.in.w, l.out.h, l.out.w, l.kernel};
}

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

}  // namespace

Replica::Replica(Runtime& rt, const ModelPlan& plan, std::size_t device, std::size_t capacity, LayerRange range,
                 SharedTensors shared)
    : rt_(rt), plan_(plan), device_(device), capacity_(capacity), range_(range) {
  range_.last = std::min(range_.last, plan.layers.size());
  auto alloc = [&](std::size_t elems) { return rt.alloc(elems * sizeof(float), device); };
  for (std::size_t t = 0; t < plan.tensor_sizes.size(); ++t) {
    const bool mine = t >= plan.layer_tensors[range_.first] && t < plan.layer_tensors[range_.last];
    params_.push_back(!mine ? Buffer() : shared.params ? (*shared.params)[t] : alloc(plan.tensor_sizes[t]));
    grads_.push_back(!mine ? Buffer() : shared.grads ? (*shared.grads)[t] : alloc(plan.tensor_sizes[t]));
  }
  // Indexed as the plan's layers; what lies outside the range stays empty.
  acts_.resize(range_.first);
  dacts_.resize(range_.first);
  argmax_.resize(range_.first);
  const std::size_t in = capacity * plan.layers[range_.first].in.size();
  acts_.push_back(alloc(in));
  dacts_.push_back(range_.first > 0 ? alloc(in) : Buffer());  // the model input's gradient is never needed
  for (std::size_t i = range_.first; i < range_.last; ++i) {
    const LayerPlan& l = plan.layers[i];
    // The kernels index with 32-bit ints.
    if (capacity * std::max(l.in.size(), l.out.size()) > std::size_t(INT_MAX))
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: batch " + std::to_string(capacity) +
                                             " times a layer's activations exceeds 2^31 elements");
    acts_.push_back(alloc(capacity * l.out.size()));
    dacts_.push_back(alloc(capacity * l.out.size()));
    argmax_.push_back(l.kind == LayerKind::MaxPool ? alloc(capacity * l.out.size()) : Buffer());
  }
  acts_.resize(plan.layers.size() + 1);
  dacts_.resize(plan.layers.size() + 1);
  argmax_.resize(plan.layers.size());
  if (range_.last < plan.layers.size()) return;
  labels_ = rt.alloc(capacity * sizeof(cl_int), device);
  losses_ = alloc(capacity);
}

void Replica::forward(std::size_t n, bool loss, float scale) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  for (std::size_t i = range_.first; i < range_.last; ++i) {
    const LayerPlan& l = plan_.layers[i];
    if (l.kind == LayerKind::Conv)
      conv_here(engine(rt_), device_, ConvPass::Forward, l.conv(n),
                {native(acts_[i]), native(params_[l.weights]), native(acts_[i + 1]), native(params_[l.weights + 1])});
    else if (l.kind == LayerKind::MaxPool)
      maxpool_forward(slot, pool_geom(l, n), acts_[i].native(), acts_[i + 1].native(), argmax_[i].native());
    else
      dense_forward(l, i, n);
  }
  if (loss)
    softmax_xent(slot, acts_.back().native(), labels_.native(), losses_.native(), dacts_.back().native(), n,
                 plan_.classes(), scale);
}

void Replica::backward(std::size_t n) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  for (std::size_t i = range_.last; i-- > range_.first;) {
    const LayerPlan& l = plan_.layers[i];
    if (l.kind == LayerKind::Conv) conv_backward(l, i, n);
    else if (l.kind == LayerKind::Dense) dense_backward(l, i, n);
    else if (i > 0)
      maxpool_backward(slot, pool_geom(l, n), dacts_[i + 1].native(), argmax_[i].native(), dacts_[i].native());
  }
}

// y (n x units) = x (n x in) * W^T, then bias (and ReLU).
void Replica::dense_forward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const std::size_t in = l.in.size(), units = l.out.c;
  gemm_here(engine(rt_), device_, row_major(Transpose::No, Transpose::Yes, n, units, in, in, in, units), acts_[i],
            params_[l.weights], acts_[i + 1]);
  bias_add_rows(engine(rt_).slot(device_), acts_[i + 1].native(), params_[l.weights + 1].native(), n, units, l.relu);
}

// dW (units x in) = dy^T x, db = column sums of dy, dx (n x in) = dy W.
void Replica::dense_backward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const DeviceSlot& slot = engine(rt_).slot(device_);
  const std::size_t in = l.in.size(), units = l.out.c;
  const Buffer& dy = dacts_[i + 1];
  if (l.relu) relu_backward(slot, dy.native(), acts_[i + 1].native(), n * units);
  gemm_here(engine(rt_), device_, row_major(Transpose::Yes, Transpose::No, units, in, n, units, in, in), dy, acts_[i],
            grads_[l.weights]);
  sum_rows(slot, dy.native(), grads_[l.weights + 1].native(), n, units);
  if (i > 0)
    gemm_here(engine(rt_), device_, row_major(Transpose::No, Transpose::No, n, in, units, units, in, in), dy,
              params_[l.weights], dacts_[i]);
}

// The conv passes know nothing of the fused ReLU: mask dy by the forward output first.
void Replica::conv_backward(const LayerPlan& l, std::size_t i, std::size_t n) {
  const Conv2d d = l.conv(n);
  const Buffer& dy = dacts_[i + 1];
  relu_backward(engine(rt_).slot(device_), dy.native(), acts_[i + 1].native(), n * l.out.size());
  conv_here(engine(rt_), device_, ConvPass::BackwardWeights, d,
            {native(acts_[i]), native(grads_[l.weights]), native(dy), native(grads_[l.weights + 1])});
  if (i > 0)
    conv_here(engine(rt_), device_, ConvPass::BackwardData, d,
              {native(dacts_[i]), native(params_[l.weights]), native(dy), nullptr});
}

}  // namespace anycl::detail
