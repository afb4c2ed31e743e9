#include "sched/run_conv.hpp"

#include <cstring>
#include <optional>

#include "ops/gemm_kernels.hpp"
#include "sched/balance.hpp"
#include "sched/host_block.hpp"
#include "sched/issue.hpp"

namespace anycl::detail {

std::vector<double> conv_weights(RuntimeImpl& rt) {
  std::vector<double> w = runtime_weights(rt);
  for (std::size_t i = 0; i < rt.size(); ++i)
    if (!rt.slot(i).has_program("gemm_packed_f32") || !rt.slot(i).has_program("conv_im2col")) w[i] = 0;
  return w;
}

std::vector<Piece> plan_conv(RuntimeImpl& rt, ConvPass, const Conv2d& d) {
  if (rt.size() < 2) return {};
  const std::vector<double> w = conv_weights(rt);
  std::size_t mr = 1;
  for (std::size_t i = 0; i < rt.size(); ++i)
    if (w[i] > 0) mr = std::max(mr, packed_layout(rt.slot(i)).mr);
  // Output channels are the GEMM rows of the forward and backward-weights kernels; a channel
  // split of a grouped convolution would cut through groups.
  return plan_pieces(rt.parallel, {d.n, d.k, 1, mr, d.groups == 1, conv_flops(d)}, w);
}

double conv_flops(const Conv2d& d) {
  return 2.0 * double(d.n) * double(d.k) * double(d.p()) * double(d.q()) * double(d.c / d.groups) * double(d.r) *
         double(d.s);
}

namespace {

// One piece in flight: its sub-problem, its device views, and host staging where it needs one.
struct ConvRun {
  const DeviceSlot* slot;
  Piece piece;
  Conv2d sub;
  std::optional<Staging<float>> dy;   // gathered dy[n0:n1, k0:k1] when the channels are split
  // Set when the piece holds a partial sum of a slice other pieces share: its dx or dw (then
  // dbias), read back here for adding.
  std::optional<Staging<float>> sum;
  std::unique_ptr<ConvHostViews> views;  // the piece's outputs stay on its device until the end
};

struct Dims {
  std::size_t chw, kpq, pq, crs, k;
  explicit Dims(const Conv2d& d)
      : chw(d.c * d.h * d.w), kpq(d.k * d.p() * d.q()), pq(d.p() * d.q()), crs(d.c / d.groups * d.r * d.s), k(d.k) {}
};

// Pieces that share an output slice (the same images for dx under a channel split, the same
// channels for dw under a batch split) each hold a partial sum of it, added up on the host.
bool same_slice(ConvPass pass, const Piece& a, const Piece& b) {
  return pass == ConvPass::BackwardData ? a.rows == b.rows : a.cols == b.cols;
}

bool holds_partial_sum(ConvPass pass, const std::vector<Piece>& pieces, std::size_t i) {
  if (pass == ConvPass::Forward) return false;
  for (std::size_t j = 0; j < pieces.size(); ++j)
    if (j != i && same_slice(pass, pieces[i], pieces[j])) return true;
  return false;
}

// Gathers dy[n0:n1, k0:k1] of a (n, K, PQ) tensor into one dense block.
void gather_channel_block(const Dims& g, const Piece& pc, const float* full, float* block) {
  const std::size_t kk = pc.cols.size();
  for (std::size_t i = 0; i < pc.rows.size(); ++i)
    std::memcpy(block + i * kk * g.pq, full + ((pc.rows.begin + i) * g.k + pc.cols.begin) * g.pq,
                kk * g.pq * sizeof(float));
}

// dst = src for the first partial result of a slice, dst += src for the others.
void accumulate(float* dst, const float* src, std::size_t n, bool first) {
  if (first) std::memcpy(dst, src, n * sizeof(float));
  else
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Appends the piece to `runs` first, so its memory outlives any upload it enqueues.
ConvRun& start_piece(std::vector<std::unique_ptr<ConvRun>>& runs, const DeviceSlot& slot, const Piece& pc,
                     bool partial, ConvPass pass, const Conv2d& d, const Dims& g, const ConvHostTensors& h) {
  Conv2d sub = d;
  sub.n = pc.rows.size(), sub.k = pc.cols.size();
  runs.push_back(std::unique_ptr<ConvRun>(new ConvRun{&slot, pc, sub, std::nullopt, std::nullopt, nullptr}));
  ConvRun* run = runs.back().get();
  if (partial) run->sum.emplace(output_elems(pass, sub) + (h.out2 ? sub.k : 0));
  // The pass's dy input: contiguous per image range unless the channels are split.
  const float* dy = nullptr;
  if (pass != ConvPass::Forward) {
    const float* full = pass == ConvPass::BackwardData ? h.in_a : h.in_b;
    dy = full + pc.rows.begin * g.kpq;
    if (sub.k != d.k) {
      run->dy.emplace(sub.y_size());
      gather_channel_block(g, pc, full, run->dy->data());
      dy = run->dy->data();
    }
  }
  // The views' outputs are device copies that are never downloaded through the views (see
  // read_outputs); out and out2 only say which outputs exist.
  ConvHostTensors t{};
  if (pass == ConvPass::Forward)
    t = {h.in_a + pc.rows.begin * g.chw, h.in_b + pc.cols.begin * g.crs, h.bias ? h.bias + pc.cols.begin : nullptr,
         h.out, nullptr};
  else if (pass == ConvPass::BackwardData)
    t = {dy, h.in_b + pc.cols.begin * g.crs, nullptr, h.out, nullptr};
  else
    t = {h.in_a + pc.rows.begin * g.chw, dy, nullptr, h.out, h.out2};
  // Each piece's views live on its own in-order queue, so an asynchronous upload needs no event.
  run->views = std::make_unique<ConvHostViews>(slot, pass, sub, t, true);
  return *run;
}

// Enqueues the reads of a finished piece's outputs: into the caller's tensors (a block of
// images, or of channels in every image) or, for a partial sum, into its staging.
void read_outputs(ConvRun& r, ConvPass pass, const Dims& g, const ConvHostTensors& h) {
  const ConvTensors& t = r.views->tensors();
  const Piece& pc = r.piece;
  const std::size_t f = sizeof(float), kk = pc.cols.size();
  if (r.sum) {
    const std::size_t n = output_elems(pass, r.sub);
    enqueue_block_read(*r.slot, pass == ConvPass::BackwardData ? t.x : t.w, {r.sum->data(), n * f, 1, 0});
    if (h.out2) enqueue_block_read(*r.slot, t.bias, {r.sum->data() + n, kk * f, 1, 0});
  } else if (pass == ConvPass::Forward) {
    enqueue_block_read(*r.slot, t.y, {h.out + (pc.rows.begin * g.k + pc.cols.begin) * g.pq, kk * g.pq * f,
                                      pc.rows.size(), g.kpq * f});
  } else if (pass == ConvPass::BackwardData) {
    enqueue_block_read(*r.slot, t.x, {h.out + pc.rows.begin * g.chw, pc.rows.size() * g.chw * f, 1, 0});
  } else {
    enqueue_block_read(*r.slot, t.w, {h.out + pc.cols.begin * g.crs, kk * g.crs * f, 1, 0});
    if (h.out2) enqueue_block_read(*r.slot, t.bias, {h.out2 + pc.cols.begin, kk * f, 1, 0});
  }
}

// Adds up the partial sums of each shared slice in the caller's tensors.
void reduce_partials(const std::vector<std::unique_ptr<ConvRun>>& runs, ConvPass pass, const Dims& g,
                     const ConvHostTensors& h) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ConvRun& r = *runs[i];
    if (!r.sum) continue;
    bool first = true;
    for (std::size_t j = 0; j < i; ++j)
      if (same_slice(pass, runs[j]->piece, r.piece)) first = false;
    const std::size_t n = output_elems(pass, r.sub);
    if (pass == ConvPass::BackwardData) {
      accumulate(h.out + r.piece.rows.begin * g.chw, r.sum->data(), n, first);
    } else {
      accumulate(h.out + r.piece.cols.begin * g.crs, r.sum->data(), n, first);
      if (h.out2) accumulate(h.out2 + r.piece.cols.begin, r.sum->data() + n, r.piece.cols.size(), first);
    }
  }
}

}  // namespace

void run_conv_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& host, ConvAlgo algo) {
  const Dims g(d);
  std::vector<std::unique_ptr<ConvRun>> runs;
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  FinishOnUnwind unwind;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Piece& pc = pieces[i];
    const DeviceSlot& slot = rt.slot(pc.device);
    unwind.add(slot);
    const std::size_t timed = timer.begin(slot, pc.device, double(pc.rows.size()) * double(pc.cols.size()) /
                                                               (double(d.n) * double(d.k)));
    ConvRun& run = start_piece(runs, slot, pc, holds_partial_sum(pass, pieces, i), pass, d, g, host);
    dispatch_conv(rt, pc.device, pass, run.sub, run.views->tensors(), algo);
    timer.end(slot, timed);
  }
  // The caller's tensors change only once every device finished; the reads then run in parallel.
  for (auto& r : runs) finish_queue(*r->slot);
  for (auto& r : runs) read_outputs(*r, pass, g, host);
  for (auto& r : runs) finish_queue(*r->slot);
  reduce_partials(runs, pass, g, host);
  learn_weights(rt, timer.times());
}

}  // namespace anycl::detail
