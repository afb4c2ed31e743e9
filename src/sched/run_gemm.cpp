#include "sched/run_gemm.hpp"

#include <map>
#include <memory>

#include "ops/gemm_clblast.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "runtime/host_block.hpp"
#include "runtime/host_buffer.hpp"
#include "runtime/launch.hpp"
#include "sched/balance.hpp"
#include "sched/gate.hpp"
#include "sched/issue.hpp"
#include "sched/meet.hpp"
#include "sched/run_gemm_shared.hpp"

namespace anycl::detail {

namespace {

// One piece in flight: its problem (normalized), where its C block sits, its dense C on the device.
template <typename T>
struct GemmRun {
  const DeviceSlot* slot;
  GemmProblem q;
  Range i, j;  // normalized rows and columns of C
  std::unique_ptr<HostBuffer> c;
};

// Batch item `bi` of the piece's block of the caller's C (normalized coordinates).
template <typename T>
HostBlock c_block(const GemmProblem& p, const GemmRun<T>& r, std::size_t bi, T* c) {
  return {c + bi * p.stride_c + r.i.begin * p.ldc + r.j.begin, r.j.size() * sizeof(T), r.i.size(),
          p.ldc * sizeof(T), bi * r.i.size() * r.j.size() * sizeof(T)};
}

// A piece's block of C in normalized coordinates: rows i, columns j. Its data axis is the
// caller's m, which is normalized n in column-major.
struct Block {
  Range i, j;
  Block(const Piece& piece, bool col) : i(col ? piece.model : piece.data), j(col ? piece.data : piece.model) {}
};

// The problem with each operand's offset moved to where its host view puts it (in p's order).
GemmProblem offset_by_views(GemmProblem p, const HostBuffer* a, const HostBuffer* b) {
  const std::size_t a_lead = a ? a->offset() : 0, b_lead = b ? b->offset() : 0;
  p.a_off += p.a_is_b ? b_lead : a_lead;
  p.b_off += p.a_is_b ? a_lead : b_lead;
  return p;
}

template <typename T>
void run_gemm_pieces(Engine& rt, const Plan& plan, const GemmCall& g, const GemmExtents& e, T alpha, const T* a,
                     const T* b, T beta, T* c) {
  const std::vector<Piece>& pieces = plan.pieces;
  const GemmProblem& p = g.problem;
  const bool col = g.shape.layout == Layout::ColMajor;
  // Within one context (platform) every device reads the same view of A and B.
  std::map<cl_context, std::pair<std::unique_ptr<HostBuffer>, std::unique_ptr<HostBuffer>>> inputs;
  std::vector<std::unique_ptr<GemmRun<T>>> runs;
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  const double area = double(p.m) * double(p.n);
  FinishOnUnwind unwind;
  for (const Piece& piece : pieces) {
    const DeviceSlot& slot = rt.slot(piece.device);
    const auto [i, j] = Block(piece, col);
    // Owned by the call and drained on unwinding before anything is enqueued for it.
    unwind.add(slot);
    auto& in = inputs[slot.context->get()];
    if (!in.first && e.a)
      in.first = std::make_unique<HostBuffer>(slot, a, e.a * sizeof(T), HostAccess::Read, true, sizeof(T));
    if (!in.second && e.b)
      in.second = std::make_unique<HostBuffer>(slot, b, e.b * sizeof(T), HostAccess::Read, true, sizeof(T));
    GemmProblem q = offset_by_views(p, in.first.get(), in.second.get());
    q.m = i.size(), q.n = j.size();
    q.a_off += p.trans_a ? i.begin : i.begin * p.lda;
    q.b_off += p.trans_b ? j.begin * p.ldb : j.begin;
    q.c_off = 0, q.ldc = q.n, q.stride_c = q.m * q.n;
    runs.push_back(std::make_unique<GemmRun<T>>(GemmRun<T>{&slot, q, i, j, nullptr}));
    GemmRun<T>& run = *runs.back();
    run.c = std::make_unique<HostBuffer>(slot, nullptr, q.m * q.n * q.batch * sizeof(T), HostAccess::Write);
    if (beta != T(0))
      for (std::size_t bi = 0; bi < p.batch; ++bi) enqueue_block_write(slot, run.c->mem(), c_block(p, run, bi, c));
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
    clReleaseEvent(enqueue_gemm_by<T>(plan.provider, slot, q, alpha, p.a_is_b ? bm : am, p.a_is_b ? am : bm, beta, cm));
    timer.end(slot, timed);
  }
  // C changes only once every device finished its piece; the blocks then come back in parallel.
  for (auto& r : runs) finish_queue(*r->slot);
  for (auto& r : runs)
    for (std::size_t bi = 0; bi < p.batch; ++bi) enqueue_block_read(*r->slot, r->c->mem(), c_block(p, *r, bi, c));
  for (auto& r : runs) finish_queue(*r->slot);
  learn_weights(rt, timer.times());
}

// Each piece's kernels write its block of the caller's C in place (a and b in p's order).
template <typename T>
Event run_gemm_buffers(Engine& rt, const Plan& plan, const GemmCall& g, T alpha, cl_mem a, cl_mem b, T beta,
                       cl_mem c) {
  const std::vector<Piece>& pieces = plan.pieces;
  const GemmProblem& p = g.problem;
  const bool col = g.shape.layout == Layout::ColMajor;
  std::vector<const DeviceSlot*> slots;
  for (const Piece& piece : pieces) slots.push_back(&rt.slot(piece.device));
  const DeviceSlot& home = rt.slot(plan.device);
  Gate gate(home, slots, {{c, p.c_off * sizeof(T), c_span(p) * sizeof(T)}});
  for (std::size_t n = 0; n < pieces.size(); ++n) {
    const auto [i, j] = Block(pieces[n], col);
    GemmProblem q = p;
    q.m = i.size(), q.n = j.size();
    q.a_off += p.trans_a ? i.begin : i.begin * p.lda;
    q.b_off += p.trans_b ? j.begin * p.ldb : j.begin;
    q.c_off += i.begin * p.ldc + j.begin;
    clReleaseEvent(enqueue_gemm_by<T>(plan.provider, *slots[n], q, alpha, a, b, beta, c));
  }
  Event done = join(home, slots);
  gate.open();
  return done;
}

std::size_t bytes_of(std::size_t elems, std::size_t size) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(elems, size, &r)) fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl::gemm: size overflows");
  return r;
}

// One device, or one shared pass over the plan's devices (the first holds the views): A and B
// go in, C goes in (unless beta = 0) and comes back.
template <typename T>
void run_gemm_views(Engine& rt, const Plan& plan, const GemmCall& g, const GemmExtents& e, T alpha, const T* a,
                    const T* b, T beta, T* c) {
  const DeviceSlot& slot = rt.slot(plan.device);
  const GemmShape& s = g.shape;
  // C's gaps (ldc padding, batch strides) come back with the download, so they must go up too;
  // only a dense C with beta = 0 can skip the upload.
  const bool dense = s.ldc == (s.layout == Layout::RowMajor ? s.n : s.m) && (s.batch <= 1 || s.stride_c == s.m * s.n);
  HostBuffer cb(slot, c, bytes_of(e.c, sizeof(T)), beta != T(0) || !dense ? HostAccess::ReadWrite : HostAccess::Write);
  // A and B are not read when k = 0; C stands in so the kernel gets valid (unused) arguments.
  auto input = [&](const T* p, std::size_t elems) {
    return elems ? std::make_unique<HostBuffer>(slot, p, bytes_of(elems, sizeof(T)), HostAccess::Read, false, sizeof(T))
                 : nullptr;
  };
  std::unique_ptr<HostBuffer> ab = input(a, e.a), bb = input(b, e.b);
  const cl_mem am = ab ? ab->mem() : cb.mem(), bm = bb ? bb->mem() : cb.mem();
  const GemmProblem p = offset_by_views(g.problem, ab.get(), bb.get());
  const cl_mem pa = p.a_is_b ? bm : am, pb = p.a_is_b ? am : bm;
  if (plan.kind == PlanKind::Shared)
    run_gemm_shared<T>(slots_of(rt, plan.shared.devices), p, alpha, pa, pb, beta, cb.mem());
  else
    clReleaseEvent(enqueue_gemm_by<T>(plan.provider, slot, p, alpha, pa, pb, beta, cb.mem()));
  cb.download(slot);
}

}  // namespace

template <typename T>
Event run_gemm(Engine& rt, const Plan& plan, const GemmCall& g, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  // After normalization "a" may be the caller's B: the kernels take the buffers in p's order.
  const GemmProblem& p = g.problem;
  const cl_mem pa = p.a_is_b ? b : a, pb = p.a_is_b ? a : b;
  switch (plan.kind) {
    case PlanKind::Shared:
      return run_gemm_shared<T>(slots_of(rt, plan.shared.devices), p, alpha, pa, pb, beta, c);
    case PlanKind::Pieces:
      return run_gemm_buffers<T>(rt, plan, g, alpha, pa, pb, beta, c);
    default:
      return Event(enqueue_gemm_by<T>(plan.provider, rt.slot(plan.device), p, alpha, pa, pb, beta, c));
  }
}

template <typename T>
void run_gemm(Engine& rt, const Plan& plan, const GemmCall& g, const GemmExtents& e, T alpha, const T* a, const T* b,
              T beta, T* c) {
  if (e.c == 0) return;  // m, n or batch is 0: nothing to do
  if (plan.kind == PlanKind::Pieces) return run_gemm_pieces(rt, plan, g, e, alpha, a, b, beta, c);
  run_gemm_views(rt, plan, g, e, alpha, a, b, beta, c);
}

#define ANYCL_INSTANTIATE(T)                                                                                      \
  template Event run_gemm<T>(Engine&, const Plan&, const GemmCall&, T, cl_mem, cl_mem, T, cl_mem);               \
  template void run_gemm<T>(Engine&, const Plan&, const GemmCall&, const GemmExtents&, T, const T*, const T*, T, T*);
ANYCL_INSTANTIATE(float)
ANYCL_INSTANTIATE(double)
#undef ANYCL_INSTANTIATE

}  // namespace anycl::detail
