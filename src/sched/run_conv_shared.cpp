// Devices that share one memory (same_memory.hpp) see the same buffers and may write disjoint
// parts of them at once, so one Winograd pass (forward or backward-data), on host pointers or on
// the caller's device buffers, can be split stage by stage instead of into sub-convolutions:
// filters by output-channel panels, the tiles (input transform, products and output transform)
// by tile panels, uploads and reads by images. The devices meet twice: after the uploads, and
// after the filter transform. A batch split instead transforms every filter on every device and
// rounds each device's tiles up to whole GEMM panels. GPU-class devices run Winograd's tiled form
// (winograd_form), split the same way stage by stage.
#include "sched/run_conv_shared.hpp"

#include <algorithm>
#include <optional>

#include "ops/conv2d_passes.hpp"
#include "ops/conv2d_winograd.hpp"
#include "runtime/finish_on_unwind.hpp"
#include "runtime/host_block.hpp"
#include "runtime/host_buffer.hpp"
#include "sched/balance.hpp"
#include "sched/claims.hpp"
#include "sched/run_conv_pieces.hpp"
#include "sched/meet.hpp"
#include "sched/shared_floats.hpp"

namespace anycl::detail {

namespace {

// Each device's share of [0, extent), by weight.
std::vector<Range> shares(std::size_t extent, const std::vector<double>& weights) {
  return split_range(extent, weights, 1);
}

}  // namespace

namespace {

// The pass's scratch and tensors, all visible to every device of the pass.
struct SharedBuffers {
  cl_mem in, filter, bias, out;  // x -> y forward, dy -> dx backward-data
  cl_mem u;                      // the transformed filters
};

// What a pass starts from: its geometry and batch, its devices (the first lends the scratch and
// orders the call), the form of Winograd they run (one for all, the planner sees to it) with its
// layout, and the scratch. The first device's pool lends it for as long as the call needs it:
// until every device finished (host pointers), or until the join is queued on the first device
// (device buffers), after which that device's later users of the pool wait for the others.
struct Setup {
  WinogradPlan plan;
  std::size_t images;
  std::vector<const DeviceSlot*> slots;
  WinogradForm form;
  std::optional<WinogradLayout> lay;          // Panels: the packed panels of U and of the tiles
  std::optional<WinogradTiledLayout> tiled;   // Tiled: the first device's layout, for every device
  std::unique_ptr<Workspace> u, v, m;         // the transformed filters; Tiled: V and M of a chunk
  std::optional<Claims> claims;  // for the claimed tile panels, when the devices claim
  Setup(Engine& rt, const SharedDevices& shared, ConvPass pass, const Conv2d& d)
      : plan(winograd_plan(pass, d)), images(d.n), slots(slots_of(rt, shared.devices)), form(winograd_form(home())) {
    if (form == WinogradForm::Tiled) {
      tiled.emplace(home(), plan, images, conv_workspace_cap(rt.ops.conv_workspace_limit, home()));
      u = shared_floats(home(), tiled->u_bytes / sizeof(float));
      v = shared_floats(home(), tiled->v_bytes / sizeof(float));
      m = shared_floats(home(), tiled->m_bytes / sizeof(float));
    } else {
      lay.emplace(home(), plan);
      u = shared_floats(home(), lay->planes() * lay->ustride);
    }
    if (shared.claimed) claims.emplace(home(), 1);
  }
  const DeviceSlot& home() const { return *slots[0]; }
};

// Meet; the filter transform; meet; the tiles (input transform, products, output transform).
// When the devices can claim from each other (sched/claims.hpp), each launches every tile panel
// and takes its work-groups from one counter, so a device slowed down during the call does less
// of it. Otherwise the panels are split by weight and timed (most of the work, started together):
// their times say how the devices compare.
void shared_panel_stages(const Setup& set, const SharedDevices& shared, const SharedBuffers& b, bool relu,
                         ShareTimer* timer) {
  const std::vector<const DeviceSlot*>& slots = set.slots;
  const WinogradLayout& lay = *set.lay;
  const std::size_t tile_panels = lay.tile_panels(set.images);
  const std::vector<Range> filters = shares(lay.row_panels, shared.weights), tiles = shares(tile_panels, shared.weights);
  const Claim claim = set.claims ? set.claims->stage(0) : Claim{};
  ShareTimer* const shares_timer = set.claims ? nullptr : timer;  // a claimed stage has no share to time
  meet(slots);
  for (std::size_t i = 0; i < slots.size(); ++i) winograd_filters(*slots[i], set.plan, lay, b.filter, b.u, filters[i]);
  meet(slots);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const double fraction = double(tiles[i].size()) / tile_panels;
    const std::size_t timed = shares_timer ? shares_timer->begin(*slots[i], shared.devices[i], fraction) : 0;
    winograd_tiles(*slots[i], set.plan, lay, b.u, b.in, b.bias, b.out, 0, set.images, relu,
                   set.claims ? Range{0, tile_panels} : tiles[i], set.claims ? &claim : nullptr);
    if (shares_timer) shares_timer->end(*slots[i], timed);
  }
}

// The tiled form (GPU-class devices): meet; the filter transform by output channels; meet; then
// per chunk of images the tiles by weight, in runs of the transform kernels' work-group width so
// no device's rounded-up launch reaches another's tiles. Each device's input transform, products
// and output transform touch only its own columns of V and M, so they need no meeting; the
// devices meet before the next chunk reuses V and M. Not claimed: the tiled kernels have no
// claimed twins. One chunk is the call's work, so its shares are timed.
void shared_tiled_stages(const Setup& set, const SharedDevices& shared, const SharedBuffers& b, bool relu,
                         ShareTimer* timer) {
  const std::vector<const DeviceSlot*>& slots = set.slots;
  const WinogradTiledLayout& lay = *set.tiled;
  const std::vector<Range> filters = shares(std::size_t(set.plan.cout), shared.weights);
  meet(slots);
  for (std::size_t i = 0; i < slots.size(); ++i) winograd_tiled_filters(*slots[i], set.plan, lay, b.filter, b.u, filters[i]);
  meet(slots);
  const WinogradTiledPlanes planes{b.u, set.v->mem(), set.m->mem(), b.in, b.bias, b.out};
  ShareTimer* const shares_timer = lay.chunk >= set.images ? timer : nullptr;
  for (std::size_t b0 = 0; b0 < set.images; b0 += lay.chunk) {
    if (b0 > 0) meet(slots);
    const std::size_t nimg = std::min(lay.chunk, set.images - b0), tiles = lay.tiles(nimg);
    const std::vector<Range> parts = split_range(tiles, shared.weights, lay.lws);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double fraction = double(parts[i].size()) / double(tiles);
      const std::size_t timed = shares_timer ? shares_timer->begin(*slots[i], shared.devices[i], fraction) : 0;
      winograd_tiled_tiles(*slots[i], set.plan, lay, planes, b0, nimg, relu, parts[i]);
      if (shares_timer) shares_timer->end(*slots[i], timed);
    }
  }
}

void shared_stages(const Setup& set, const SharedDevices& shared, const SharedBuffers& b, bool relu, ShareTimer* timer) {
  if (set.form == WinogradForm::Tiled) shared_tiled_stages(set, shared, b, relu, timer);
  else shared_panel_stages(set, shared, b, relu, timer);
}

// A caller's input as every device of the pass reads it: in place, through a zero-copy view in
// home's context, when home can view the pointer (the devices share home's memory), or else a copy
// from home's pool that each device fills with its part (upload).
class SharedInput {
 public:
  SharedInput(const DeviceSlot& home, const float* host, std::size_t elems) : host_(host) {
    if (host_view_possible(home, host))
      view_ = std::make_unique<HostBuffer>(home, host, elems * sizeof(float), HostAccess::Read);
    else
      copy_ = shared_floats(home, elems);
  }
  cl_mem mem() const { return view_ ? view_->mem() : copy_->mem(); }
  // Elements [part.begin, part.end) times `unit`, written by `s` (nothing to do for a view).
  void upload(const DeviceSlot& s, Range part, std::size_t unit) const {
    const std::size_t f = sizeof(float);
    if (copy_)
      enqueue_block_write(s, copy_->mem(), {const_cast<float*>(host_ + part.begin * unit), part.size() * unit * f, 1,
                                            0, part.begin * unit * f});
  }

 private:
  const float* host_;
  std::unique_ptr<HostBuffer> view_;
  std::unique_ptr<Workspace> copy_;
};

}  // namespace

void run_conv_shared(Engine& rt, const SharedDevices& shared, ConvPass pass, const Conv2d& d, const ConvHostSet& h) {
  const Setup set(rt, shared, pass, d);
  const std::vector<const DeviceSlot*>& slots = set.slots;
  const DeviceSlot& home = set.home();
  const std::size_t in_image = std::size_t(set.plan.cin) * set.plan.ih * set.plan.iw;
  const std::size_t out_image = std::size_t(set.plan.cout) * set.plan.oh * set.plan.ow;
  const bool forward = pass == ConvPass::Forward;
  const SharedInput in(home, forward ? h.nchw : h.nkpq, d.n * in_image), filter(home, h.kcrs, d.w_size());
  float* const dst = forward ? h.nkpq : h.nchw;
  const auto out = shared_floats(home, d.n * out_image);
  const auto bias = forward && h.kvec ? std::make_unique<SharedInput>(home, h.kvec, d.k) : nullptr;
  ShareTimer timer;  // before `unwind`: its markers are released after the queues drained
  FinishOnUnwind unwind;  // after the buffers: a failing device's partners still use them
  unwind.add(slots);

  // Each device uploads its images and its part of the filter; the first meeting waits for all.
  // An input read in place is not copied at all.
  const std::vector<Range> images = shares(d.n, shared.weights), filters = shares(d.w_size(), shared.weights);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    in.upload(*slots[i], images[i], in_image);
    filter.upload(*slots[i], filters[i], 1);
    if (bias && i == 0) bias->upload(*slots[i], {0, d.k}, 1);
  }
  shared_stages(set, shared, {in.mem(), filter.mem(), bias ? bias->mem() : nullptr, out->mem(), set.u->mem()},
                forward && d.relu, &timer);
  // The caller's output changes only once every device finished; then each reads its images.
  for (const DeviceSlot* s : slots) finish_queue(*s);
  const std::size_t f = sizeof(float);
  for (std::size_t i = 0; i < slots.size(); ++i)
    enqueue_block_read(*slots[i], out->mem(), {dst + images[i].begin * out_image, images[i].size() * out_image * f,
                                               1, 0, images[i].begin * out_image * f});
  for (const DeviceSlot* s : slots) finish_queue(*s);
  learn_weights(rt, timer.times());
}

Event run_conv_shared_buffers(Engine& rt, const SharedDevices& shared, ConvPass pass, const Conv2d& d,
                              const ConvTensorSet& t) {
  const Setup set(rt, shared, pass, d);
  Gate gate(set.home(), set.slots, output_regions(pass, d, t));
  const bool forward = pass == ConvPass::Forward;
  shared_stages(set, shared,
                {forward ? t.nchw : t.nkpq, t.kcrs, forward ? t.kvec : nullptr, forward ? t.nkpq : t.nchw, set.u->mem()},
                forward && d.relu, nullptr);
  Event done = join(set.home(), set.slots);
  gate.open();
  return done;
}

}  // namespace anycl::detail
