#include "sched/run_conv.hpp"

#include <cstring>
#include <optional>

#include "ops/gemm_kernels.hpp"
#include "sched/balance.hpp"
#include "sched/issue.hpp"

namespace anycl::detail {

std::vector<Piece> plan_conv(RuntimeImpl& rt, ConvPass, const Conv2d& d) {
  if (rt.size() < 2) return {};
  std::vector<double> w = runtime_weights(rt);
  std::size_t mr = 1;
  for (std::size_t i = 0; i < rt.size(); ++i) {
    if (!rt.slot(i).has_program("gemm_packed_f32") || !rt.slot(i).has_program("conv_im2col")) w[i] = 0;
    if (w[i] > 0) mr = std::max(mr, packed_layout(rt.slot(i)).mr);
  }
  // Output channels are the GEMM rows of the forward and backward-weights kernels; a channel
  // split of a grouped convolution would cut through groups.
  const double flops = 2.0 * double(d.n) * double(d.k) * double(d.p()) * double(d.q()) * double(d.c / d.groups) *
                       double(d.r) * double(d.s);
  return plan_pieces(rt.parallel, {d.n, d.k, 1, mr, d.groups == 1, flops}, w);
}

namespace {

// One piece in flight: its sub-problem, the host memory its device reads and writes, its views.
struct ConvRun {
  const DeviceSlot* slot;
  Piece piece;
  Conv2d sub;
  std::optional<Staging<float>> dy;  // gathered dy[n0:n1, k0:k1] when the channels are split
  Staging<float> out;                // y, dx or dw of this piece
  std::optional<Staging<float>> out2;  // dbias
  std::unique_ptr<ConvHostViews> views;
};

struct Dims {
  std::size_t chw, kpq, pq, crs, k;
  explicit Dims(const Conv2d& d)
      : chw(d.c * d.h * d.w), kpq(d.k * d.p() * d.q()), pq(d.p() * d.q()), crs(d.c / d.groups * d.r * d.s), k(d.k) {}
};

// Images [n0, n1) of a (n, K, PQ) tensor, channels [k0, k1): one block per image.
void copy_channel_block(const Dims& g, const Piece& pc, float* full, float* block, bool to_block) {
  const std::size_t kk = pc.cols.size();
  for (std::size_t i = 0; i < pc.rows.size(); ++i) {
    float* f = full + ((pc.rows.begin + i) * g.k + pc.cols.begin) * g.pq;
    float* b = block + i * kk * g.pq;
    if (to_block) std::memcpy(b, f, kk * g.pq * sizeof(float));
    else std::memcpy(f, b, kk * g.pq * sizeof(float));
  }
}

// dst = src for the first partial result of a slice, dst += src for the others.
void accumulate(float* dst, const float* src, std::size_t n, bool first) {
  if (first) std::memcpy(dst, src, n * sizeof(float));
  else
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Appends the piece to `runs` first, so its memory outlives any upload it enqueues.
ConvRun& start_piece(std::vector<std::unique_ptr<ConvRun>>& runs, const DeviceSlot& slot, const Piece& pc,
                     ConvPass pass, const Conv2d& d, const Dims& g, const ConvHostTensors& h) {
  Conv2d sub = d;
  sub.n = pc.rows.size(), sub.k = pc.cols.size();
  const std::size_t out_elems = pass == ConvPass::Forward        ? sub.y_size()
                                : pass == ConvPass::BackwardData ? sub.x_size()
                                                                 : sub.w_size();
  runs.push_back(std::unique_ptr<ConvRun>(
      new ConvRun{&slot, pc, sub, std::nullopt, Staging<float>(out_elems), std::nullopt, nullptr}));
  ConvRun* run = runs.back().get();
  // The pass's dy input: contiguous per image range unless the channels are split.
  const float* dy = nullptr;
  if (pass != ConvPass::Forward) {
    const float* full = pass == ConvPass::BackwardData ? h.in_a : h.in_b;
    dy = full + pc.rows.begin * g.kpq;
    if (sub.k != d.k) {
      run->dy.emplace(sub.y_size());
      copy_channel_block(g, pc, const_cast<float*>(full), run->dy->data(), true);
      dy = run->dy->data();
    }
  }
  ConvHostTensors t{};
  if (pass == ConvPass::Forward) {
    t = {h.in_a + pc.rows.begin * g.chw, h.in_b + pc.cols.begin * g.crs, h.bias ? h.bias + pc.cols.begin : nullptr,
         run->out.data(), nullptr};
  } else if (pass == ConvPass::BackwardData) {
    t = {dy, h.in_b + pc.cols.begin * g.crs, nullptr, run->out.data(), nullptr};
  } else {
    if (h.out2) run->out2.emplace(sub.k);
    t = {h.in_a + pc.rows.begin * g.chw, dy, nullptr, run->out.data(), run->out2 ? run->out2->data() : nullptr};
  }
  // Each piece's views live on its own in-order queue, so an asynchronous upload needs no event.
  run->views = std::make_unique<ConvHostViews>(slot, pass, sub, t, true);
  return *run;
}

// Every device finished: the pieces' results go to the caller's tensors.
void finish_pieces(const std::vector<std::unique_ptr<ConvRun>>& runs, ConvPass pass, const Dims& g,
                   const ConvHostTensors& h) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ConvRun& r = *runs[i];
    const Piece& pc = r.piece;
    // Pieces that share a slice hold partial sums of it (same row range for dx, same columns for dw).
    bool first = true;
    for (std::size_t j = 0; j < i; ++j)
      if (pass == ConvPass::BackwardData ? runs[j]->piece.rows == pc.rows : runs[j]->piece.cols == pc.cols) first = false;
    if (pass == ConvPass::Forward) {
      copy_channel_block(g, pc, h.out, r.out.data(), false);
    } else if (pass == ConvPass::BackwardData) {
      accumulate(h.out + pc.rows.begin * g.chw, r.out.data(), r.out.size(), first);
    } else {
      accumulate(h.out + pc.cols.begin * g.crs, r.out.data(), r.out.size(), first);
      if (h.out2) accumulate(h.out2 + pc.cols.begin, r.out2->data(), pc.cols.size(), first);
    }
  }
}

}  // namespace

void run_conv_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& host, ConvAlgo algo) {
  const Dims g(d);
  std::vector<std::unique_ptr<ConvRun>> runs;
  DrainOnExit drain;
  for (const Piece& pc : pieces) {
    const DeviceSlot& slot = rt.slot(pc.device);
    drain.add(slot);
    ConvRun& run = start_piece(runs, slot, pc, pass, d, g, host);
    dispatch_conv(rt, pc.device, pass, run.sub, run.views->tensors(), algo);
  }
  for (auto& r : runs) r->views->download(*r->slot);
  finish_pieces(runs, pass, g, host);
}

}  // namespace anycl::detail
