// A fixed split of a GEMM makes every device wait for the slowest; on this project's 2-core
// machine one core's memory speed alone varied up to 3.6x from second to second. Devices that
// share one memory therefore pack A and B once, together, and take the tiles of every stage from
// counters: a device slowed down takes fewer of them.
#include "sched/run_gemm_shared.hpp"

#include <algorithm>

#include "ops/gemm_kernels.hpp"
#include "sched/balance.hpp"
#include "sched/claims.hpp"
#include "sched/gate.hpp"
#include "sched/meet.hpp"
#include "sched/plan.hpp"

namespace anycl::detail {

template <typename T>
std::vector<std::size_t> plan_shared_gemm(RuntimeImpl& rt, const GemmProblem& p, T alpha,
                                          std::optional<std::size_t> home) {
  if (rt.size() < 2 || rt.parallel != Parallel::Auto || rt.gemm_provider != GemmProvider::Anycl) return {};
  const std::string variant = std::string("gemm_packed_") + precision_suffix<T>();
  const std::vector<double> weights = runtime_weights(rt);
  auto usable = [&](std::size_t i) { return weights[i] > 0 && rt.slot(i).has_program(variant); };
  std::size_t lead = home.value_or(0);
  while (!home && lead < rt.size() && !usable(lead)) ++lead;
  if (lead == rt.size() || !usable(lead) || !runs_packed(rt.slot(lead), p, alpha)) return {};
  std::vector<std::size_t> devices{lead};
  for (std::size_t i = 0; i < rt.size(); ++i)
    if (i != lead && usable(i) && can_claim(rt.slot(lead), rt.slot(i), {variant})) devices.push_back(i);
  const double flops = 2.0 * double(p.m) * double(p.n) * double(p.k) * double(p.batch);
  if (devices.size() < 2 || !worth_splitting(flops, *std::max_element(weights.begin(), weights.end()))) return {};
  return devices;
}

template <typename T>
Event run_gemm_shared(RuntimeImpl& rt, const std::vector<std::size_t>& devices, const GemmProblem& p, T alpha,
                      cl_mem a, cl_mem b, T beta, cl_mem c) {
  const std::vector<const DeviceSlot*> slots = slots_of(rt, devices);
  const DeviceSlot& home = *slots[0];
  // Returned to home's pool once the join is queued: home's later users of them wait for it.
  const PackedPanels panels(home, p, packed_layout(home, precision_suffix<T>()), sizeof(T));
  const Claims claims(home, 3);
  const Claim pack_a = claims.stage(0), pack_b = claims.stage(1), products = claims.stage(2);
  Gate gate(home, slots, {{c, p.c_off * sizeof(T), c_span(p) * sizeof(T)}});
  for (const DeviceSlot* s : slots) {
    enqueue_pack_a<T>(*s, p, a, panels.ap.mem(), panels.ap_elems, panels.batch_a, &pack_a);
    enqueue_pack_b<T>(*s, p, b, panels.bp.mem(), panels.bp_elems, panels.batch_b, &pack_b);
  }
  meet(slots);
  for (const DeviceSlot* s : slots)
    clReleaseEvent(enqueue_packed_micro<T>(*s, p.m, p.n, p.k, alpha, panels.ap.mem(), panels.ap_stride(),
                                           panels.bp.mem(), panels.bp_stride(), beta, c, p.c_off, p.ldc, p.stride_c,
                                           p.batch, 0, 0, 0, &products));
  Event done = join(home, slots);
  gate.open();
  return done;
}

#define ANYCL_INSTANTIATE(T)                                                                                   \
  template std::vector<std::size_t> plan_shared_gemm<T>(RuntimeImpl&, const GemmProblem&, T,                   \
                                                        std::optional<std::size_t>);                           \
  template Event run_gemm_shared<T>(RuntimeImpl&, const std::vector<std::size_t>&, const GemmProblem&, T, cl_mem, \
                                    cl_mem, T, cl_mem);
ANYCL_INSTANTIATE(float)
ANYCL_INSTANTIATE(double)
#undef ANYCL_INSTANTIATE

}  // namespace anycl::detail
