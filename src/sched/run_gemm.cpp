#include "sched/run_gemm.hpp"

#include <map>

#include "ops/gemm_clblast.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "runtime/host_buffer.hpp"
#include "runtime/launch.hpp"
#include "sched/balance.hpp"
#include "sched/gate.hpp"
#include "sched/host_block.hpp"
#include "sched/issue.hpp"
#include "sched/meet.hpp"
#include "sched/same_memory.hpp"

namespace anycl::detail {

template <typename T>
std::vector<Piece> plan_gemm(RuntimeImpl& rt, const GemmShape& shape, const DeviceSlot* home) {
  if (rt.size() < 2) return {};
  std::vector<double> w = runtime_weights(rt);
  std::size_t mr = 1, nr = 1;
  for (std::size_t i = 0; i < rt.size(); ++i) {
    const DeviceSlot& s = rt.slot(i);
    if (!s.has_program(std::string("gemm_packed_") + precision_suffix<T>())) w[i] = 0;  // e.g. no fp64
    if (home && !same_memory(*home, s)) w[i] = 0;
    if (w[i] == 0) continue;
    const PackedLayout lay = packed_layout(s, precision_suffix<T>());
    mr = std::max(mr, lay.mr), nr = std::max(nr, lay.nr);
  }
  // The kernels' row tiles run along normalized m, which is the caller's n in column-major.
  const bool col = shape.layout == Layout::ColMajor;
  SplitProblem p{shape.m, shape.n, col ? nr : mr, col ? mr : nr, true,
                 2.0 * double(shape.m) * double(shape.n) * double(shape.k) * double(shape.batch)};
  return plan_pieces(rt.parallel, p, w);
}

namespace {

// One piece in flight: its problem (normalized), where its C block sits, its dense C on the device.
template <typename T>
struct GemmRun {
  const DeviceSlot* slot;
  GemmProblem q;
  Range i, j;  // normalized rows and columns of C
  std::unique_ptr<HostBuffer> c;
};

// One piece through the runtime's GEMM provider.
template <typename T>
cl_event enqueue_piece(const RuntimeImpl& rt, const DeviceSlot& slot, const GemmProblem& q, T alpha, cl_mem a, cl_mem b,
                       T beta, cl_mem c) {
  return rt.gemm_provider == GemmProvider::CLBlast ? clblast_gemm<T>(slot, q, alpha, a, b, beta, c)
                                                   : enqueue_gemm<T>(slot, q, alpha, a, b, beta, c);
}

// Batch item `bi` of the piece's block of the caller's C (normalized coordinates).
template <typename T>
HostBlock c_block(const GemmProblem& p, const GemmRun<T>& r, std::size_t bi, T* c) {
  return {c + bi * p.stride_c + r.i.begin * p.ldc + r.j.begin, r.j.size() * sizeof(T), r.i.size(),
          p.ldc * sizeof(T), bi * r.i.size() * r.j.size() * sizeof(T)};
}

}  // namespace

template <typename T>
void run_gemm_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, const GemmShape& shape, const GemmExtents& e,
                     T alpha, const T* a, const T* b, T beta, T* c) {
  const GemmProblem p = normalize(shape, 0, 0, 0);
  const bool col = shape.layout == Layout::ColMajor;
  // Within one context (platform) every device reads the same view of A and B.
  std::map<cl_context, std::pair<std::unique_ptr<HostBuffer>, std::unique_ptr<HostBuffer>>> inputs;
  std::vector<std::unique_ptr<GemmRun<T>>> runs;
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  const double area = double(p.m) * double(p.n);
  FinishOnUnwind unwind;
  for (const Piece& piece : pieces) {
    const DeviceSlot& slot = rt.slot(piece.device);
    const Range i = col ? piece.cols : piece.rows, j = col ? piece.rows : piece.cols;
    GemmProblem q = p;
    q.m = i.size(), q.n = j.size();
    q.a_off = p.trans_a ? i.begin : i.begin * p.lda;
    q.b_off = p.trans_b ? j.begin * p.ldb : j.begin;
    q.c_off = 0, q.ldc = q.n, q.stride_c = q.m * q.n;
    // Owned by the call and drained on unwinding before anything is enqueued for it.
    unwind.add(slot);
    runs.push_back(std::make_unique<GemmRun<T>>(GemmRun<T>{&slot, q, i, j, nullptr}));
    GemmRun<T>& run = *runs.back();
    run.c = std::make_unique<HostBuffer>(slot, nullptr, q.m * q.n * q.batch * sizeof(T), HostAccess::Write);
    if (beta != T(0))
      for (std::size_t bi = 0; bi < p.batch; ++bi) enqueue_block_write(slot, run.c->mem(), c_block(p, run, bi, c));
    auto& in = inputs[slot.context->get()];
    if (!in.first && e.a) in.first = std::make_unique<HostBuffer>(slot, a, e.a * sizeof(T), HostAccess::Read, true);
    if (!in.second && e.b) in.second = std::make_unique<HostBuffer>(slot, b, e.b * sizeof(T), HostAccess::Read, true);
    // A device copy of A or B was written through the first device's queue: the others wait
    // for that write on the device, not on the host.
    std::vector<cl_event> uploads;
    for (const auto* hb : {in.first.get(), in.second.get()})
      if (hb && hb->upload_event()) uploads.push_back(hb->upload_event());
    enqueue_wait(slot, uploads);
    // A and B are not read when k = 0; C stands in so the kernel gets valid (unused) arguments.
    const cl_mem cm = run.c->mem();
    const cl_mem am = in.first ? in.first->mem() : cm, bm = in.second ? in.second->mem() : cm;
    const std::size_t timed = timer.begin(slot, piece.device, double(q.m) * double(q.n) / area);
    clReleaseEvent(enqueue_piece<T>(rt, slot, q, alpha, p.a_is_b ? bm : am, p.a_is_b ? am : bm, beta, cm));
    timer.end(slot, timed);
  }
  // C changes only once every device finished its piece; the blocks then come back in parallel.
  for (auto& r : runs) finish_queue(*r->slot);
  for (auto& r : runs)
    for (std::size_t bi = 0; bi < p.batch; ++bi) enqueue_block_read(*r->slot, r->c->mem(), c_block(p, *r, bi, c));
  for (auto& r : runs) finish_queue(*r->slot);
  learn_weights(rt, timer.times());
}

template <typename T>
Event run_gemm_buffers(RuntimeImpl& rt, const std::vector<Piece>& pieces, const DeviceSlot& home, const GemmProblem& p,
                       bool col, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  std::vector<const DeviceSlot*> slots;
  for (const Piece& piece : pieces) slots.push_back(&rt.slot(piece.device));
  Gate gate(home, slots, {{c, p.c_off * sizeof(T), c_span(p) * sizeof(T)}});
  for (std::size_t n = 0; n < pieces.size(); ++n) {
    const Range i = col ? pieces[n].cols : pieces[n].rows, j = col ? pieces[n].rows : pieces[n].cols;
    GemmProblem q = p;
    q.m = i.size(), q.n = j.size();
    q.a_off += p.trans_a ? i.begin : i.begin * p.lda;
    q.b_off += p.trans_b ? j.begin * p.ldb : j.begin;
    q.c_off += i.begin * p.ldc + j.begin;
    clReleaseEvent(enqueue_piece<T>(rt, *slots[n], q, alpha, a, b, beta, c));
  }
  Event done = join(home, slots);
  gate.open();
  return done;
}

#define ANYCL_INSTANTIATE(T)                                                                                    \
  template std::vector<Piece> plan_gemm<T>(RuntimeImpl&, const GemmShape&, const DeviceSlot*);                 \
  template void run_gemm_pieces<T>(RuntimeImpl&, const std::vector<Piece>&, const GemmShape&, const GemmExtents&, \
                                   T, const T*, const T*, T, T*);                                               \
  template Event run_gemm_buffers<T>(RuntimeImpl&, const std::vector<Piece>&, const DeviceSlot&, const GemmProblem&, \
                                     bool, T, cl_mem, cl_mem, T, cl_mem);
ANYCL_INSTANTIATE(float)
ANYCL_INSTANTIATE(double)
#undef ANYCL_INSTANTIATE

}  // namespace anycl::detail
