// Winograd F(m x m, 3x3) for stride 1, dilation 1, one group: (m + 2)^2 GEMMs between transformed
// filter and input tiles. Backward-data is the same algorithm on dy with the rotated, transposed filter.
#include "ops/conv2d_winograd.hpp"

#include "ops/conv2d_algorithms.hpp"

#include <algorithm>
#include <climits>
#include <optional>

#include "ops/gemm_kernels.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

WinogradPlan winograd_forward_plan(const ConvGeom& g, ConvLayout layout) {
  return {g.C, g.K, g.H, g.W, g.P, g.Q, g.pt, g.pl, false, layout == ConvLayout::Nhwc};
}

WinogradPlan winograd_backward_data_plan(const ConvGeom& g, ConvLayout layout) {
  return {g.K, g.C, g.P, g.Q, g.H, g.W, 2 - g.pt, 2 - g.pl, true, layout == ConvLayout::Nhwc};
}

WinogradPlan winograd_plan(ConvPass pass, const Conv2d& d) {
  return pass == ConvPass::Forward ? winograd_forward_plan(ConvGeom(d), d.layout)
                                   : winograd_backward_data_plan(ConvGeom(d), d.layout);
}

std::size_t WinogradLayout::filter_bytes() const { return workspace_bytes({planes(), ustride, sizeof(float)}); }

WinogradLayout::WinogradLayout(const DeviceSlot& slot, const WinogradPlan& w) {
  const PackedLayout lay = tile_layout(slot, "conv_winograd");
  m = std::size_t(slot.program("conv_winograd").param("WINO_M"));
  mr = lay.mr, nr = lay.nr;
  tp = ceil_div(std::size_t(w.oh), m), tq = ceil_div(std::size_t(w.ow), m);
  row_panels = ceil_div(std::size_t(w.cout), mr);
  ustride = lay.a_panel_elems(std::size_t(w.cout), std::size_t(w.cin));
}

std::size_t WinogradLayout::tile_panels(std::size_t nimg) const { return ceil_div(tiles(nimg), nr); }

double winograd_error_factor(const DeviceSlot& slot, ConvPass pass) {
  const bool f4 = pass != ConvPass::BackwardWeights && winograd_form(slot) == WinogradForm::Panels &&
                  slot.has_program("conv_winograd") && slot.program("conv_winograd").param("WINO_M") == 4;
  return f4 ? 128 : 16;
}

namespace {

// winograd_filter_transform of the filters of `panels` into u: packed-A blocks `ustride` floats
// apart, or (plain) row-major cout x cin planes, the staged GEMM's A operand.
void filter_transform(const DeviceSlot& slot, const WinogradPlan& w, cl_mem filter, cl_mem u, Range panels,
                      std::size_t ustride, bool plain) {
  // A work-item covers FT_J consecutive K-dims: one K-dim a work-item made the launch a few
  // thousand one-item groups whose stores a plane were MR floats.
  const std::size_t jw = std::size_t(slot.program("conv_winograd").param("FT_J"));
  run_kernel_part(slot, "conv_winograd", "winograd_filter_transform", {0, panels.begin, 0},
                  {ceil_div(std::size_t(w.cin), jw), panels.size(), 1}, {1, 1, 1}, filter, u, cl_ulong(ustride),
                  w.cout, w.cin, cl_int(w.flip), cl_int(w.channels_last), cl_int(plain));
}

}  // namespace

void winograd_filters(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem filter,
                      cl_mem u, Range panels) {
  filter_transform(slot, w, filter, u, panels, lay.ustride, false);
}

namespace {

// Input channels a tile-panel work-group transforms into local memory at a time: at most the
// family's KC and what the device's local memory holds (planes() rows of nr floats a channel) beside
// the kernel's own few bytes, in chunks of equal size (256 channels that fit 255 at a time run as
// two of 128, not 255 and 1).
cl_int winograd_channel_chunk(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay) {
  const std::uint64_t reserve = 256, per_channel = lay.planes() * lay.nr * sizeof(float);
  const std::uint64_t fits = slot.info.local_mem > reserve ? (slot.info.local_mem - reserve) / per_channel : 0;
  const std::size_t most = std::size_t(std::min<std::uint64_t>(slot.program("conv_winograd").param("KC"), fits));
  if (most < 1)
    fail(ANYCL_ERROR_UNSUPPORTED, "Winograd on " + slot.where() + ": " + std::to_string(slot.info.local_mem) +
                                      " bytes of local memory hold no channel of a panel of " +
                                      std::to_string(lay.nr) + " tiles");
  return cl_int(ceil_div(std::size_t(w.cin), ceil_div(std::size_t(w.cin), most)));
}

}  // namespace

std::size_t winograd_row_groups(const WinogradLayout& lay, std::size_t tile_panels, std::size_t compute_units) {
  // A group's time: its share of the products (rows of output channels) beside the input
  // transform it repeats whatever its share, which costs about as much as 7 (m + 2) rows of
  // products (42 at F(4x4): timed on a 512-channel 7x7 layer split 1 to 16 ways); a device's time:
  // its groups one after the other.
  const std::size_t transform_rows = 7 * (lay.m + 2), cus = std::max<std::size_t>(compute_units, 1);
  std::size_t best = 1, best_cost = 0;
  for (std::size_t s = 1; s <= lay.row_panels; ++s) {
    const std::size_t cost =
        ceil_div(tile_panels * s, cus) * (ceil_div(lay.row_panels, s) * lay.mr + transform_rows);
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

Event winograd_tiles(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem u, cl_mem in,
                     cl_mem bias, cl_mem out, std::size_t b0, std::size_t nimg, bool relu, Range tile_panels,
                     const Claim* claim, std::size_t row_groups) {
  const std::size_t in_image = std::size_t(w.cin) * w.ih * w.iw, out_image = std::size_t(w.cout) * w.oh * w.ow;
  if (claim && (tile_panels.begin != 0 || tile_panels.size() != lay.tile_panels(nimg)))
    fail(ANYCL_ERROR_INTERNAL, "claimed Winograd tiles over a part of the tile panels");
  const cl_int kc = winograd_channel_chunk(slot, w, lay);
  // Claimed, each device launches a few groups that claim guided runs of panels (claim.h,
  // claim_guided) until none is left: one panel a claim let two devices write neighbouring
  // panels, which share cache lines of y, at once (0.80x of a split by weight on cpu/2).
  const std::size_t groups = claim ? std::min<std::size_t>(4, tile_panels.size()) : tile_panels.size();
  // A work-group covers every output channel of its tiles, so each tile panel is transformed
  // once, unless there are too few panels to keep every compute unit busy (a 7x7 output at batch
  // 8 is one panel of 4x4 tiles): then the channels are split over several groups, each
  // transforming the panel again.
  if (row_groups == 0)
    row_groups = claim ? 1 : winograd_row_groups(lay, tile_panels.size(), slot.info.compute_units);
  const std::size_t group_rows = ceil_div(lay.row_panels, row_groups);
  return Event(enqueue_kernel(slot, "conv_winograd", "winograd_tiles", claim, {claim ? 0 : tile_panels.begin, 0, 0},
                              {groups, lay.row_panels, 1}, {1, group_rows, 1}, u, cl_ulong(lay.ustride), in,
                              cl_ulong(b0 * in_image), w.cin, w.ih, w.iw, w.pt, w.pl, w.cout, bias ? bias : out, out,
                              cl_ulong(b0 * out_image), w.oh, w.ow, cl_int(lay.tp), cl_int(lay.tq), cl_int(nimg),
                              cl_int(bias != nullptr), cl_int(relu), cl_int(w.channels_last), kc,
                              LocalBytes{lay.planes() * lay.nr * kc * sizeof(float)}));
}

namespace {

// Row panels a work-group of the fused launch over `tile_panels` panels takes.
std::size_t fused_group_rows(const DeviceSlot& slot, const WinogradLayout& lay, std::size_t tile_panels) {
  return ceil_div(lay.row_panels, winograd_row_groups(lay, tile_panels, slot.info.compute_units));
}

// The fused form's scratch: a slice of planes() x FC x mr floats for each work-item of its
// launch over `tile_panels` panels (global sizes round up to whole groups, local ones may shrink).
std::size_t fused_scratch_bytes(const DeviceSlot& slot, const WinogradLayout& lay, std::size_t tile_panels) {
  const std::size_t fc = std::size_t(slot.program("conv_winograd").param("FC"));
  return workspace_bytes({tile_panels, lay.row_panels + fused_group_rows(slot, lay, tile_panels),
                          lay.planes() * fc * lay.mr, sizeof(float)});
}

// V of images b0 .. b0+nimg-1 (NCHW) into v: planes() x cin x tpad, tpad a whole number of panels,
// tiles past the last zero.
void winograd_input(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem in,
                    std::size_t b0, std::size_t nimg, std::size_t tpad, cl_mem v) {
  const std::size_t in_image = std::size_t(w.cin) * w.ih * w.iw;
  run_kernel(slot, "conv_winograd", "winograd_input_staged", {tpad / lay.nr, std::size_t(w.cin), 1}, {1, 1, 1}, in,
             cl_ulong(b0 * in_image), w.cin, w.ih, w.iw, w.pt, w.pl, cl_int(lay.tp), cl_int(lay.tq), cl_int(nimg),
             cl_int(tpad), v, LocalBytes{lay.planes() * lay.nr * sizeof(float)});
}

// winograd_tiles with the filter transform inside (winograd_tiles_fused): each tile panel's
// work-items transform their filters again, into `scratch`, instead of reading U.
Event winograd_tiles_fused(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, cl_mem filter,
                           cl_mem scratch, cl_mem in, cl_mem bias, cl_mem out, std::size_t b0, std::size_t nimg,
                           bool relu, std::size_t cap) {
  const std::size_t in_image = std::size_t(w.cin) * w.ih * w.iw, out_image = std::size_t(w.cout) * w.oh * w.ow;
  const std::size_t panels = lay.tile_panels(nimg);
  const std::size_t group_rows = fused_group_rows(slot, lay, panels);
  const cl_int kc = winograd_channel_chunk(slot, w, lay);
  // Channels split over several groups would each transform the panel's input again (on the
  // one-panel 7x7 passes this runs, 2-3x the time of winograd_input_staged a channel): V is
  // transformed once beforehand and copied in (NCHW only, as winograd_input_staged).
  const std::size_t padded_tiles = panels * lay.nr;
  const std::size_t v_bytes = workspace_bytes({lay.planes(), std::size_t(w.cin), padded_tiles, sizeof(float)});
  const bool stage_v = group_rows < lay.row_panels && !w.channels_last && v_bytes <= cap;
  const std::size_t tpad = stage_v ? padded_tiles : 0;
  std::optional<Workspace> v;
  if (stage_v) {
    v.emplace(*slot.workspace, *slot.context, slot.info, v_bytes);
    winograd_input(slot, w, lay, in, b0, nimg, tpad, v->mem());
  }
  return run_kernel(slot, "conv_winograd", "winograd_tiles_fused", {panels, lay.row_panels, 1}, {1, group_rows, 1},
                    filter, cl_int(w.flip), scratch, in, cl_ulong(b0 * in_image), w.cin, w.ih, w.iw, w.pt, w.pl,
                    w.cout, bias ? bias : out, out, cl_ulong(b0 * out_image), w.oh, w.ow, cl_int(lay.tp),
                    cl_int(lay.tq), cl_int(nimg), cl_int(bias != nullptr), cl_int(relu), cl_int(w.channels_last), kc,
                    LocalBytes{lay.planes() * lay.nr * kc * sizeof(float)}, v ? v->mem() : in, cl_int(tpad));
}

// The staged form's tiles padded to whole panels, and its scratch: U, V and M of every plane.
struct StagedSizes {
  std::size_t tpad, u, v, m;
  StagedSizes(const WinogradPlan& w, const WinogradLayout& lay, std::size_t n)
      : tpad(round_up(lay.tiles(n), lay.nr)),
        u(lay.planes() * w.cin * w.cout),
        v(lay.planes() * w.cin * tpad),
        m(lay.planes() * w.cout * tpad) {}
  std::size_t bytes() const { return workspace_bytes({u + v + m, sizeof(float)}); }
};

// winograd_tiles reads all of U once a tile panel (a 512-channel 7x7 layer at batch 32: four
// panels, 38 MB of U each); from WINOGRAD_STAGED_CHANNELS channels each way an unfused pass runs
// staged, its products one batched GEMM that reads U once, where V and M fit `cap` and the
// kernels' int indices.
bool staged_applies(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, std::size_t n,
                    bool fused, std::size_t cap) {
  const long least = slot.program("conv_winograd").param("WINOGRAD_STAGED_CHANNELS");
  if (fused || w.channels_last || std::min(w.cin, w.cout) < least) return false;
  const StagedSizes size(w, lay, n);
  return size.tpad * std::max(w.cin, w.cout) <= std::size_t(INT_MAX) && size.bytes() <= cap;
}

// U (plain), V, the planes() products M = U V as one batched GEMM, then y from M.
Event winograd_staged(const DeviceSlot& slot, const WinogradPlan& w, const WinogradLayout& lay, std::size_t n,
                      cl_mem in, cl_mem filter, cl_mem bias, cl_mem out, bool relu) {
  const StagedSizes size(w, lay, n);
  const std::size_t T = lay.tiles(n), planes = lay.planes(), panels = size.tpad / lay.nr;
  Workspace u(*slot.workspace, *slot.context, slot.info, workspace_bytes({size.u, sizeof(float)}));
  Workspace v(*slot.workspace, *slot.context, slot.info, workspace_bytes({size.v, sizeof(float)}));
  Workspace m(*slot.workspace, *slot.context, slot.info, workspace_bytes({size.m, sizeof(float)}));
  filter_transform(slot, w, filter, u.mem(), {0, lay.row_panels}, size.u / planes, true);
  winograd_input(slot, w, lay, in, 0, n, size.tpad, v.mem());
  GemmProblem p = dense_problem(std::size_t(w.cout), size.tpad, std::size_t(w.cin));
  p.batch = planes, p.stride_a = size.u / planes, p.stride_b = size.v / planes, p.stride_c = size.m / planes;
  (void)Event(enqueue_gemm<float>(slot, p, 1.f, u.mem(), v.mem(), 0.f, m.mem()));
  return run_kernel(slot, "conv_winograd", "winograd_output_staged", {panels, std::size_t(w.cout), 1}, {1, 1, 1},
                    m.mem(), w.cout, cl_int(size.tpad), bias ? bias : out, cl_int(bias != nullptr), cl_int(relu), out,
                    cl_ulong(0), w.oh, w.ow, cl_int(lay.tp), cl_int(lay.tq), cl_int(T));
}

// One device, the whole pass. The kernel counts tiles in int: a batch of more than about 2^30
// tiles runs in chunks of images. A pass of fewer than WINOGRAD_FUSE_PANELS tile panels a chunk
// transforms the filters inside the tile kernel: U, written once and read once a panel, would
// cost as much as the products (a 512-channel 7x7 layer at batch 8: 38 MB, one panel).
Event winograd(const DeviceSlot& slot, const WinogradPlan& w, std::size_t n, cl_mem in, cl_mem filter, cl_mem bias,
               cl_mem out, bool relu, std::size_t cap) {
  const WinogradLayout lay(slot, w);
  const std::size_t chunk = std::clamp<std::size_t>((std::size_t(1) << 30) / lay.tiles(1), 1, n);
  const bool fused = lay.tile_panels(chunk) < std::size_t(slot.program("conv_winograd").param("WINOGRAD_FUSE_PANELS"));
  if (staged_applies(slot, w, lay, n, fused, cap))
    return winograd_staged(slot, w, lay, n, in, filter, bias, out, relu);
  Workspace scratch(*slot.workspace, *slot.context, slot.info,
                    fused ? fused_scratch_bytes(slot, lay, lay.tile_panels(chunk)) : lay.filter_bytes());
  if (!fused) winograd_filters(slot, w, lay, filter, scratch.mem(), {0, lay.row_panels});
  Event last;
  for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, n - b0);
    last = fused ? winograd_tiles_fused(slot, w, lay, filter, scratch.mem(), in, bias, out, b0, nimg, relu, cap)
                 : winograd_tiles(slot, w, lay, scratch.mem(), in, bias, out, b0, nimg, relu,
                                  {0, lay.tile_panels(nimg)});
  }
  return last;
}

}  // namespace

bool is_winograd_shape(const Conv2d& d) {
  return d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 && d.dilation_w == 1 &&
         d.groups == 1;
}

Event forward_winograd(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                       std::size_t cap, ConvLayout layout) {
  return winograd(slot, winograd_forward_plan(g, layout), g.n, t.x, t.w, t.bias, t.y, relu, cap);
}

Event backward_data_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                             std::size_t cap, ConvLayout layout) {
  return winograd(slot, winograd_backward_data_plan(g, layout), g.n, t.dy, t.w, nullptr, t.dx, false, cap);
}

}  // namespace anycl::detail
