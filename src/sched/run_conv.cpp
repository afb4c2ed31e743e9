#include "sched/run_conv.hpp"

#include "sched/run_conv_pieces.hpp"
#include "sched/run_conv_shared.hpp"

namespace anycl::detail {

Event run_conv(Engine& rt, const Plan& plan, const ConvCall& c, const ConvTensorSet& t) {
  if (plan.kind == PlanKind::Shared) return run_conv_shared_buffers(rt, plan.shared, c.pass, c.d, t);
  if (plan.kind == PlanKind::Pieces) return run_conv_buffer_pieces(rt, plan, c, t);
  const DeviceSlot& slot = rt.slot(plan.device);
  const std::size_t cap = conv_workspace_cap(plan.workspace_limit, slot);
  if (!plan.guard_outputs) return enqueue_conv(slot, c.pass, c.d, plan.algo, cap, t);
  // Several kernels may write the outputs (chunks of images, dw then dbias): held back until all
  // are queued, so that a failure part-way leaves the caller's outputs as they were.
  Gate gate(slot, {&slot}, output_regions(c.pass, c.d, t));
  Event done = enqueue_conv(slot, c.pass, c.d, plan.algo, cap, t);
  gate.open();
  return done;
}

void run_conv(Engine& rt, const Plan& plan, const ConvCall& c, const ConvHostSet& h) {
  if (plan.kind == PlanKind::Shared) return run_conv_shared(rt, plan.shared, c.pass, c.d, h);
  if (plan.kind == PlanKind::Pieces) return run_conv_pieces(rt, plan, c, h);
  const DeviceSlot& slot = rt.slot(plan.device);
  ConvHostViews views(slot, c.pass, c.d, h);
  enqueue_conv(slot, c.pass, c.d, plan.algo, conv_workspace_cap(plan.workspace_limit, slot), views.tensors());
  views.download(slot);
}

}  // namespace anycl::detail
