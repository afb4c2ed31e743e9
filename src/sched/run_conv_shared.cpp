// Devices that share a context see the same buffers, so one Winograd pass (forward or
// backward-data) can be split stage by stage instead of into independent sub-convolutions:
// filters and the GEMM with the output transform by output-channel panels, the input transform by
// input channels, uploads and reads by images. The devices meet twice: after the uploads, and
// after the filter and input transforms. A batch split instead transforms every filter on every
// device and rounds each device's tiles up to whole GEMM panels: on 256ch 14x14 batch 8 one core
// took 7.5 ms for half the batch against 12.7 ms for all of it.
#include "sched/run_conv_shared.hpp"

#include <algorithm>

#include "ops/conv2d_winograd.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/finish_on_unwind.hpp"
#include "sched/balance.hpp"
#include "sched/host_block.hpp"
#include "sched/plan.hpp"
#include "sched/run_conv.hpp"

namespace anycl::detail {

namespace {

// The transform-domain workspace for the whole batch at once (the shared pass does not chunk).
std::size_t scratch_bytes(const WinogradLayout& lay) {
  return workspace_bytes({16, lay.ustride + lay.vstride + lay.mstride, sizeof(float)});
}

// Each device's share of [0, extent), by weight.
std::vector<Range> shares(std::size_t extent, const std::vector<double>& weights) {
  return split_range(extent, weights, 1);
}

WinogradPlan winograd_plan(ConvPass pass, const Conv2d& d) {
  return pass == ConvPass::Forward ? winograd_forward_plan(ConvGeom(d)) : winograd_backward_data_plan(ConvGeom(d));
}

// Nothing queued after this on any slot starts before everything queued so far on every slot
// ended: the end of a stage on all devices, without the host waiting.
void meet(const std::vector<const DeviceSlot*>& slots) {
  std::vector<Event> markers;
  std::vector<cl_event> all;
  for (const DeviceSlot* s : slots) all.push_back(markers.emplace_back(enqueue_marker(*s)).native());
  for (const DeviceSlot* s : slots) enqueue_wait(*s, all);
}

}  // namespace

SharedPass plan_shared_winograd(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, ConvAlgo algo) {
  if (rt.size() < 2 || rt.parallel != Parallel::Auto || pass == ConvPass::BackwardWeights ||
      resolve(pass, d, algo) != ConvAlgo::Winograd)
    return {};
  const std::vector<double> weights = runtime_weights(rt);
  SharedPass out;
  double fastest = 0;
  for (std::size_t i = 0; i < rt.size(); ++i) {
    const DeviceSlot& s = rt.slot(i);
    if (!(weights[i] > 0) || !s.has_program("conv_winograd") || !s.has_program("gemm_packed_f32")) continue;
    out.devices.push_back(i), out.weights.push_back(weights[i]);
    fastest = std::max(fastest, weights[i]);
  }
  if (out.devices.size() < 2 || !worth_splitting(conv_flops(d), fastest)) return {};
  const DeviceSlot& home = rt.slot(out.devices[0]);
  const PackedLayout layout = packed_layout(home);
  for (std::size_t i : out.devices) {
    const DeviceSlot& s = rt.slot(i);
    const PackedLayout l = packed_layout(s);
    if (s.context != home.context || l.mr != layout.mr || l.nr != layout.nr) return {};
  }
  const WinogradLayout lay(home, winograd_plan(pass, d), d.n);
  if (scratch_bytes(lay) > conv_workspace_cap(rt, home)) return {};
  return out;
}

void run_conv_shared(RuntimeImpl& rt, const SharedPass& shared, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& h) {
  const WinogradPlan plan = winograd_plan(pass, d);
  std::vector<const DeviceSlot*> slots;
  for (std::size_t i : shared.devices) slots.push_back(&rt.slot(i));
  const std::vector<double>& weights = shared.weights;
  const DeviceSlot& home = *slots[0];
  const WinogradLayout lay(home, plan, d.n);
  // The pass's image tensors: x -> y forward, dy -> dx backward-data.
  const std::size_t in_image = std::size_t(plan.cin) * plan.ih * plan.iw;
  const std::size_t out_image = std::size_t(plan.cout) * plan.oh * plan.ow;
  auto buffer = [&](std::size_t elems) {
    return std::make_unique<Workspace>(*home.workspace, *home.context, home.info,
                                       workspace_bytes({std::max<std::size_t>(elems, 1), sizeof(float)}));
  };
  const auto in = buffer(d.n * in_image), filter = buffer(d.w_size()), out = buffer(d.n * out_image);
  const auto bias = h.bias ? buffer(d.k) : nullptr;
  const auto u = buffer(16 * lay.ustride), v = buffer(16 * lay.vstride), m = buffer(16 * lay.mstride);
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  FinishOnUnwind unwind;  // after the buffers: a failing device's partners still use them
  for (const DeviceSlot* s : slots) unwind.add(*s);

  const std::vector<Range> images = shares(d.n, weights), filters = shares(d.w_size(), weights),
                           panels = shares(lay.row_panels, weights), channels = shares(plan.cin, weights);
  const std::size_t f = sizeof(float);
  auto upload = [&](const DeviceSlot& s, const Workspace& to, const float* from, Range part, std::size_t unit) {
    enqueue_block_write(s, to.mem(), {const_cast<float*>(from + part.begin * unit), part.size() * unit * f, 1, 0,
                                      part.begin * unit * f});
  };
  for (std::size_t i = 0; i < slots.size(); ++i) {
    upload(*slots[i], *in, h.in_a, images[i], in_image);
    upload(*slots[i], *filter, h.in_b, filters[i], 1);
    if (bias && i == 0) upload(*slots[i], *bias, h.bias, {0, d.k}, 1);
  }
  meet(slots);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    winograd_filters(*slots[i], plan, lay, filter->mem(), u->mem(), panels[i]);
    winograd_inputs(*slots[i], plan, lay, in->mem(), 0, d.n, v->mem(), channels[i]);
  }
  meet(slots);
  // The GEMMs and output transforms hold most of the work, and the devices start them together:
  // their times say how the devices compare.
  const bool relu = pass == ConvPass::Forward && d.relu;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::size_t timed = timer.begin(*slots[i], shared.devices[i], double(panels[i].size()) / lay.row_panels);
    winograd_outputs(*slots[i], plan, lay, {u->mem(), v->mem(), m->mem()}, bias ? bias->mem() : nullptr, out->mem(),
                     0, d.n, relu, panels[i]);
    timer.end(*slots[i], timed);
  }
  // The caller's output changes only once every device finished; then each reads its images.
  for (const DeviceSlot* s : slots) finish_queue(*s);
  for (std::size_t i = 0; i < slots.size(); ++i)
    enqueue_block_read(*slots[i], out->mem(), {h.out + images[i].begin * out_image, images[i].size() * out_image * f,
                                               1, 0, images[i].begin * out_image * f});
  for (const DeviceSlot* s : slots) finish_queue(*s);
  learn_weights(rt, timer.times());
}

}  // namespace anycl::detail
