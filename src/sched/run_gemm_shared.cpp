// A fixed split of a GEMM makes every device wait for the slowest, and one core's speed can vary
// severalfold from second to second on a shared machine. Devices that share one memory therefore
// pack A and B once, together, and take the tiles of every stage from counters: a device slowed
// down takes fewer of them.
#include "sched/run_gemm_shared.hpp"

#include "ops/gemm_kernels.hpp"
#include "sched/claims.hpp"
#include "sched/gate.hpp"
#include "sched/meet.hpp"

namespace anycl::detail {

template <typename T>
Event run_gemm_shared(const std::vector<const DeviceSlot*>& slots, const GemmProblem& p, T alpha, cl_mem a, cl_mem b,
                      T beta, cl_mem c) {
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

template Event run_gemm_shared<float>(const std::vector<const DeviceSlot*>&, const GemmProblem&, float, cl_mem,
                                      cl_mem, float, cl_mem);
template Event run_gemm_shared<double>(const std::vector<const DeviceSlot*>&, const GemmProblem&, double, cl_mem,
                                       cl_mem, double, cl_mem);

}  // namespace anycl::detail
