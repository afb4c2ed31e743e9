#include "sched/run_conv_pieces.hpp"

#include <cstring>
#include <optional>

#include "ops/nn_layers.hpp"
#include "runtime/host_block.hpp"
#include "sched/balance.hpp"
#include "sched/issue.hpp"
#include "sched/meet.hpp"
#include "sched/shared_floats.hpp"

namespace anycl::detail {
namespace {

constexpr ConvRole kRoles[] = {ConvRole::Nchw, ConvRole::Kcrs, ConvRole::Nkpq, ConvRole::Kvec};

struct Dims {
  std::size_t chw, kpq, pq, crs, k;
  bool channels_last;
  explicit Dims(const Conv2d& d)
      : chw(d.c * d.h * d.w), kpq(d.k * d.p() * d.q()), pq(d.p() * d.q()), crs(d.c / d.groups * d.r * d.s), k(d.k),
        channels_last(d.layout == ConvLayout::Nhwc) {}
};

float* host_of(const ConvHostSet& h, ConvRole role) {
  switch (role) {
    case ConvRole::Nchw: return h.nchw;
    case ConvRole::Kcrs: return h.kcrs;
    case ConvRole::Nkpq: return h.nkpq;
    default: return h.kvec;
  }
}

cl_mem mem_of(const ConvTensorSet& t, ConvRole role) {
  switch (role) {
    case ConvRole::Nchw: return t.nchw;
    case ConvRole::Kcrs: return t.kcrs;
    case ConvRole::Nkpq: return t.nkpq;
    default: return t.kvec;
  }
}

// The part of a tensor a piece covers: images of nchw, channels of kcrs and kvec (the output
// channel is the outer axis of the filters in both layouts), both of nkpq: per image a block of
// planes in NCHW, a run of channels in each pixel in NHWC.
HostBlock block_of(ConvRole role, float* base, const Dims& g, const Piece& pc) {
  const std::size_t f = sizeof(float), kk = pc.model.size();
  switch (role) {
    case ConvRole::Nchw: return {base + pc.data.begin * g.chw, pc.data.size() * g.chw * f, 1, 0};
    case ConvRole::Kcrs: return {base + pc.model.begin * g.crs, kk * g.crs * f, 1, 0};
    case ConvRole::Kvec: return {base + pc.model.begin, kk * f, 1, 0};
    default:
      if (g.channels_last)
        return {base + pc.data.begin * g.kpq + pc.model.begin, kk * f, pc.data.size() * g.pq, g.k * f};
      return {base + (pc.data.begin * g.k + pc.model.begin) * g.pq, kk * g.pq * f, pc.data.size(), g.kpq * f};
  }
}

bool same_block(ConvRole role, const Piece& a, const Piece& b) {
  switch (role) {
    case ConvRole::Nchw: return a.data == b.data;
    case ConvRole::Nkpq: return a.data == b.data && a.model == b.model;
    default: return a.model == b.model;
  }
}

// The pass's main output: the role whose blocks pieces may share.
ConvRole main_output(ConvPass pass) {
  return pass == ConvPass::Forward ? ConvRole::Nkpq : pass == ConvPass::BackwardData ? ConvRole::Nchw : ConvRole::Kcrs;
}

// One piece in flight: its sub-problem, its device views, and host staging where it needs one.
struct ConvRun {
  const DeviceSlot* slot;
  Piece piece;
  Conv2d sub;
  std::optional<Staging<float>> gathered;  // an input block that is not contiguous (dy's channels)
  // Set when the piece holds a partial sum of an output slice other pieces share: its main output
  // then its dbias, read back here for adding.
  std::optional<Staging<float>> sum;
  std::unique_ptr<ConvHostViews> views;  // the piece's outputs stay on its device until the end
};

bool holds_partial_sum(ConvPass pass, const std::vector<Piece>& pieces, std::size_t i) {
  for (std::size_t j = 0; j < pieces.size(); ++j)
    if (j != i && same_block(main_output(pass), pieces[i], pieces[j])) return true;
  return false;
}

// The piece's view of one input: its block in place when contiguous, else gathered into staging.
float* input_block(ConvRun& run, ConvRole role, float* base, const Dims& g) {
  if (!base) return nullptr;
  const HostBlock b = block_of(role, base, g, run.piece);
  if (b.rows == 1 || b.row_bytes == b.pitch) return static_cast<float*>(b.host);
  run.gathered.emplace(b.rows * b.row_bytes / sizeof(float));
  for (std::size_t r = 0; r < b.rows; ++r)
    std::memcpy(reinterpret_cast<char*>(run.gathered->data()) + r * b.row_bytes,
                static_cast<char*>(b.host) + r * b.pitch, b.row_bytes);
  return run.gathered->data();
}

// Appends the piece to `runs` first, so its memory outlives any upload it enqueues. The views'
// outputs are device copies that are never downloaded through the views (read_outputs).
ConvRun& start_piece(std::vector<std::unique_ptr<ConvRun>>& runs, const DeviceSlot& slot, const Piece& pc,
                     bool partial, const ConvCall& c, const Dims& g, const ConvHostSet& h) {
  Conv2d sub = c.d;
  sub.n = pc.data.size(), sub.k = pc.model.size();
  runs.push_back(std::unique_ptr<ConvRun>(new ConvRun{&slot, pc, sub, std::nullopt, std::nullopt, nullptr}));
  ConvRun& run = *runs.back();
  const ConvOutputs out = conv_outputs(c.pass, sub, {});
  if (partial) run.sum.emplace(out.main_elems + (writes(c.pass, ConvRole::Kvec) && h.kvec ? sub.k : 0));
  float* part[4];
  for (ConvRole role : kRoles) {
    float* base = host_of(h, role);
    part[int(role)] = writes(c.pass, role) ? base : input_block(run, role, base, g);
  }
  // Each piece's views live on its own in-order queue, so an asynchronous upload needs no event.
  run.views = std::make_unique<ConvHostViews>(slot, c.pass, sub, ConvHostSet{part[0], part[1], part[2], part[3]}, true);
  return run;
}

// Enqueues the reads of a finished piece's outputs: into its blocks of the caller's tensors or,
// for a partial sum, into its staging.
void read_outputs(ConvRun& r, ConvPass pass, const Dims& g, const ConvHostSet& h) {
  const ConvTensorSet& t = r.views->tensors();
  std::size_t staged = 0;
  for (ConvRole role : kRoles) {
    if (!writes(pass, role) || !host_of(h, role)) continue;
    const HostBlock b = block_of(role, host_of(h, role), g, r.piece);
    if (r.sum) {
      enqueue_block_read(*r.slot, mem_of(t, role), {r.sum->data() + staged, b.row_bytes * b.rows, 1, 0});
      staged += b.row_bytes * b.rows / sizeof(float);
    } else {
      enqueue_block_read(*r.slot, mem_of(t, role), b);
    }
  }
}

// dst = src for the first partial result of a slice, dst += src for the others.
void accumulate_host(float* dst, const float* src, std::size_t n, bool first) {
  if (first) std::memcpy(dst, src, n * sizeof(float));
  else
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Adds up the partial sums of each shared output slice in the caller's tensors (those blocks are
// contiguous: dx by images, dw and dbias by channels).
void reduce_partials(const std::vector<std::unique_ptr<ConvRun>>& runs, ConvPass pass, const Dims& g,
                     const ConvHostSet& h) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ConvRun& r = *runs[i];
    if (!r.sum) continue;
    bool first = true;
    for (std::size_t j = 0; j < i; ++j)
      if (same_block(main_output(pass), runs[j]->piece, r.piece)) first = false;
    std::size_t staged = 0;
    for (ConvRole role : kRoles) {
      if (!writes(pass, role) || !host_of(h, role)) continue;
      const HostBlock b = block_of(role, host_of(h, role), g, r.piece);
      const std::size_t n = b.row_bytes / sizeof(float);
      accumulate_host(static_cast<float*>(b.host), r.sum->data() + staged, n, first);
      staged += n;
    }
  }
}

}  // namespace

std::vector<Region> output_regions(ConvPass pass, const Conv2d& d, const ConvTensorSet& t) {
  const ConvOutputs out = conv_outputs(pass, d, t);
  std::vector<Region> regions{{out.main, 0, out.main_elems * sizeof(float)}};
  if (out.kvec) regions.push_back({out.kvec, 0, d.k * sizeof(float)});
  return regions;
}

void run_conv_pieces(Engine& rt, const Plan& plan, const ConvCall& c, const ConvHostSet& h) {
  const Dims g(c.d);
  const std::vector<Piece>& pieces = plan.pieces;
  std::vector<std::unique_ptr<ConvRun>> runs;
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  FinishOnUnwind unwind;
  const double whole = double(c.d.n) * double(c.d.k);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Piece& pc = pieces[i];
    const DeviceSlot& slot = rt.slot(pc.device);
    unwind.add(slot);
    const std::size_t timed = timer.begin(slot, pc.device, double(pc.data.size()) * double(pc.model.size()) / whole);
    ConvRun& run = start_piece(runs, slot, pc, holds_partial_sum(c.pass, pieces, i), c, g, h);
    enqueue_conv(slot, c.pass, run.sub, pc.algo, conv_workspace_cap(plan.workspace_limit, slot), run.views->tensors());
    timer.end(slot, timed);
  }
  // The caller's tensors change only once every device finished; the reads then run in parallel.
  for (auto& r : runs) finish_queue(*r->slot);
  for (auto& r : runs) read_outputs(*r, c.pass, g, h);
  for (auto& r : runs) finish_queue(*r->slot);
  reduce_partials(runs, c.pass, g, h);
  learn_weights(rt, timer.times());
}

namespace {

// A region of a caller's buffer as a buffer of its own; released once the commands using it are
// queued (they keep it alive).
class SubBuffer {
 public:
  SubBuffer(const DeviceSlot& slot, cl_mem parent, std::size_t origin, std::size_t bytes) {
    const cl_buffer_region region{origin, bytes};
    cl_int err = CL_SUCCESS;
    mem_ = clCreateSubBuffer(parent, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    check(err, "clCreateSubBuffer", slot.where());
  }
  ~SubBuffer() { clReleaseMemObject(mem_); }
  SubBuffer(const SubBuffer&) = delete;
  SubBuffer& operator=(const SubBuffer&) = delete;
  cl_mem get() const { return mem_; }

 private:
  cl_mem mem_ = nullptr;
};

// A batch split's backward-weights: the first piece writes the caller's dw (and dbias), every
// other piece its own partial sums over its images, in home's pool so that home can add them.
struct PartialWeights {
  std::vector<std::unique_ptr<Workspace>> dw, dbias;
  PartialWeights(const DeviceSlot& home, const Conv2d& d, bool with_bias, std::size_t pieces) {
    for (std::size_t i = 1; i < pieces; ++i) {
      dw.push_back(shared_floats(home, d.w_size()));
      if (with_bias) dbias.push_back(shared_floats(home, d.k));
    }
  }
  ConvTensorSet of(std::size_t piece, const ConvTensorSet& t) const {
    if (piece == 0) return t;
    return {t.nchw, dw[piece - 1]->mem(), t.nkpq, dbias.empty() ? nullptr : dbias[piece - 1]->mem()};
  }
  void add_into(const DeviceSlot& home, const ConvTensorSet& t, const Conv2d& d) const {
    for (std::size_t i = 0; i < dw.size(); ++i) {
      accumulate(home, t.kcrs, dw[i]->mem(), d.w_size());
      if (t.kvec) accumulate(home, t.kvec, dbias[i]->mem(), d.k);
    }
  }
};

}  // namespace

Event run_conv_buffer_pieces(Engine& rt, const Plan& plan, const ConvCall& c, const ConvTensorSet& t) {
  const Conv2d& d = c.d;
  const std::size_t x_image = d.c * d.h * d.w * sizeof(float), y_image = d.k * d.p() * d.q() * sizeof(float);
  const DeviceSlot& home = rt.slot(plan.device);
  std::vector<const DeviceSlot*> slots;
  for (const Piece& pc : plan.pieces) slots.push_back(&rt.slot(pc.device));
  const bool weights = c.pass == ConvPass::BackwardWeights;
  const std::optional<PartialWeights> partials =
      weights ? std::optional<PartialWeights>(std::in_place, home, d, t.kvec != nullptr, plan.pieces.size())
              : std::nullopt;
  Gate gate(home, slots, output_regions(c.pass, d, t));  // after the partials: it drains the queues on failure
  for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
    const Piece& pc = plan.pieces[i];
    Conv2d sub = d;
    sub.n = pc.data.size();
    const SubBuffer x(*slots[i], t.nchw, pc.data.begin * x_image, pc.data.size() * x_image);
    const SubBuffer y(*slots[i], t.nkpq, pc.data.begin * y_image, pc.data.size() * y_image);
    const ConvTensorSet whole{x.get(), t.kcrs, y.get(), t.kvec};
    enqueue_conv(*slots[i], c.pass, sub, pc.algo, conv_workspace_cap(plan.workspace_limit, *slots[i]),
                 weights ? partials->of(i, whole) : whole);
  }
  gather(home, slots);
  if (weights) partials->add_into(home, t, d);
  Event done(enqueue_marker(home));
  gate.open();
  return done;
}

}  // namespace anycl::detail
