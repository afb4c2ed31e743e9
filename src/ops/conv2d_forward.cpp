// Forward convolution: im2col + packed GEMM, 1x1 as a GEMM, direct, and (conv2d_winograd.cpp)
// Winograd.
#include <climits>
#include <optional>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

Event bias_act(const DeviceSlot& slot, const ConvGeom& g, cl_mem y, std::size_t first_image, std::size_t nimg,
               cl_mem bias, bool relu, std::size_t y_off) {
  return run_kernel(slot, "conv_im2col", "conv_bias_act", {g.PQ, std::size_t(g.K), nimg}, {16, 1, 1}, y,
                    cl_ulong(y_off + first_image * g.KPQ), bias ? bias : y, g.K, cl_int(g.PQ), cl_int(nimg),
                    cl_int(bias != nullptr), cl_int(relu));
}

namespace {

// The fused kernel's local memory: the gathered column panel (CRS x NR floats), its tap offsets
// and the plans of its VW-column blocks (a count, two bounds, GATHER_RUNS runs and a VW-lane mask
// a run each).
std::size_t im2col_gemm_local_bytes(const DeviceSlot& slot, const ConvGeom& g, std::size_t nr) {
  const BuiltProgram& prog = slot.program("conv_im2col_gemm");
  const std::size_t vw = std::size_t(prog.param("VW")), runs = std::size_t(prog.param("GATHER_RUNS"));
  const std::size_t taps = std::size_t(g.R) * g.S;
  return (g.CRS * sizeof(float) + taps * sizeof(cl_int)) * nr +
         taps * (nr / vw) * (3 + runs + runs * vw) * sizeof(cl_int);
}

}  // namespace

// y_g = W_g im2col(x_g) for each group, all images in one launch (no workspace but the packed filter).
Event forward_im2col_gemm(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                          ForwardOffsets off) {
  const PackedLayout lay = packed_layout(slot);
  // Each work-group gathers its panel, so a panel's filter tiles are shared out over as few
  // work-groups of at most FUSED_WG items as will take them, evenly, in multiples of 8 items (11
  // items a group ran 10% slower than 16 on 11 tiles).
  const std::size_t tiles = ceil_div(std::size_t(g.Kg), lay.mr);
  const std::size_t max_wg = std::size_t(slot.program("conv_im2col_gemm").param("FUSED_WG"));
  const std::size_t wg = std::min(max_wg, round_up(ceil_div(tiles, ceil_div(tiles, max_wg)), 8));
  const PackedFilter filter(slot, g, t.w, /*transposed=*/false, off.w);
  const Range3 global{ceil_div(g.n * g.PQ, lay.nr), tiles, 1};
  Event last;
  for (cl_int grp = 0; grp < g.groups; ++grp)
    last = run_kernel(slot, "conv_im2col_gemm", "conv_im2col_gemm", global, {1, wg, 1}, t.x, filter.group(grp), t.y,
                      cl_ulong(off.y), LocalBytes{im2col_gemm_local_bytes(slot, g, lay.nr)}, g.C, g.H, g.W, g.Cg,
                      grp, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n), g.K, g.Kg);
  if (t.bias || relu) last = bias_act(slot, g, t.y, 0, g.n, t.bias, relu, off.y);
  return last;
}

// Its offsets into x are ints.
bool im2col_gemm_panel_fits(const DeviceSlot& slot, const ConvGeom& g) {
  return slot.has_program("conv_im2col_gemm") &&
         im2col_gemm_local_bytes(slot, g, packed_layout(slot).nr) <= slot.info.local_mem &&
         g.n * g.CHW <= std::size_t(INT_MAX);
}

bool im2col_gemm_fits(const DeviceSlot& slot, const ConvGeom& g) {
  const bool strided = g.sh > 1 || g.sw > 1, wide = g.R > 1 || g.S > 1;
  return strided && wide && im2col_gemm_panel_fits(slot, g);
}

// Images side by side in N, one GEMM per chunk and group, where padding every image's last column
// panel would waste more than a quarter of the GEMM (P*Q = 49 fills 64 columns of NR = 32); else
// one GEMM per image, whose blocks the batched micro-kernel shares out (folding P*Q = 784 made the
// column block too large to stay in cache).
Event forward_im2col(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu, std::size_t cap,
                     ForwardOffsets off) {
  // A strided 1x1 without padding only subsamples x: conv_pack_x_1x1_strided gathers it in work-groups
  // of 16 panels with the batch folded into one GEMM (im2col_packed runs single-item work-groups).
  if (samples_inside_1x1(g) && (g.sh > 1 || g.sw > 1)) return forward_gemm1x1(slot, g, t, relu, cap, off);
  const PackedLayout lay = packed_layout(slot);
  if (im2col_gemm_fits(slot, g)) return forward_im2col_gemm(slot, g, t, relu, off);
  const bool fold = (round_up(g.PQ, lay.nr) - g.PQ) * 4 > g.PQ;
  const std::size_t col_stride = round_up(g.PQ, lay.nr) * g.CRS;
  const std::size_t chunk = images_per_chunk(g.n, workspace_bytes({col_stride, sizeof(float)}), cap);
  const PackedFilter filter(slot, g, t.w, /*transposed=*/false, off.w);
  Workspace col(*slot.workspace, *slot.context, slot.info, workspace_bytes({chunk, col_stride, sizeof(float)}));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0), per_block = fold ? nimg : 1;
    const std::size_t y_off = off.y + b0 * g.KPQ;
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      run_kernel(slot, "conv_im2col", "im2col_packed",
                 {ceil_div(per_block * g.PQ, lay.nr), std::size_t(g.Cg), nimg / per_block}, {1, 1, 1}, t.x,
                 cl_ulong(b0 * g.CHW), col.mem(), cl_ulong(0), cl_ulong(col_stride), g.C, g.H, g.W, g.Cg, grp, g.R,
                 g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(nimg), cl_int(per_block));
      const std::size_t c_off = y_off + std::size_t(grp) * g.Kg * g.PQ;
      last = fold ? Event(enqueue_packed_micro<float>(slot, g.Kg, nimg * g.PQ, g.CRS, 1.f, filter.group(grp), 0,
                                                      col.mem(), 0, 0.f, t.y, c_off, g.PQ, 0, 1, g.PQ, g.KPQ))
                  : Event(enqueue_packed_micro<float>(slot, g.Kg, g.PQ, g.CRS, 1.f, filter.group(grp), 0, col.mem(),
                                                      col_stride, 0.f, t.y, c_off, g.PQ, g.KPQ, nimg));
    }
    if (t.bias || relu) last = bias_act(slot, g, t.y, b0, nimg, t.bias, relu, off.y);
  }
  return last;
}

// One GEMM per chunk and group with the images side by side in N (n = nimg*PQ): per-image GEMMs
// padded every image's last column panel (PQ = 196 wastes 12.5% of a 32-wide panel) and went to
// the direct kernel once small. The micro-kernel's column segments scatter C back into NCHW.
// Strided 1x1 without padding (samples_inside_1x1) runs here too.
Event forward_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu, std::size_t cap,
                      ForwardOffsets off) {
  const PackedFilter filter(slot, g, t.w, /*transposed=*/false, off.w);
  return forward_gemm1x1_packed(slot, g, filter, t, relu, cap, off.y);
}

Event forward_gemm1x1_packed(const DeviceSlot& slot, const ConvGeom& g, const PackedFilter& filter,
                             const ForwardTensors& t, bool relu, std::size_t cap, std::size_t y_off) {
  const PackedLayout lay = packed_layout(slot);
  // x is the GEMM's B read in place (gemm_rows_b), the whole batch one GEMM, where its columns
  // are whole panels, each within two images (n*PQ a multiple of NR, PQ at least NR; the GEMM's n
  // a 32-bit argument): no packed copy of x.
  const std::size_t cols_all = g.n * g.PQ;
  const bool x_in_place = g.sh == 1 && g.sw == 1 && g.PQ >= lay.nr && cols_all % lay.nr == 0 &&
                          cols_all <= std::size_t(INT_MAX);
  const std::size_t chunk = x_in_place ? g.n : images_per_chunk(g.n, g.PQ * g.Cg * sizeof(float), cap);
  std::optional<Workspace> bp;
  if (!x_in_place)
    bp.emplace(*slot.workspace, *slot.context, slot.info, lay.b_panel_elems(chunk * g.PQ, g.Cg) * sizeof(float));
  Event last;
  for (std::size_t b0 = 0; b0 < g.n; b0 += chunk) {
    const std::size_t nimg = std::min(chunk, g.n - b0), cols = nimg * g.PQ;
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      const std::size_t y_at = y_off + b0 * g.KPQ + std::size_t(grp) * g.Kg * g.PQ;
      if (x_in_place) {
        last = Event(enqueue_rows_b_micro(slot, g.Kg, cols, g.Cg, filter.group(grp), t.x,
                                          b0 * g.CHW + std::size_t(grp) * g.Cg * g.PQ, g.PQ, g.PQ, g.CHW, t.y, y_at,
                                          g.PQ, g.PQ, g.KPQ));
        continue;
      }
      const Range3 global{std::size_t(g.Cg), ceil_div(cols, lay.nr), 1};
      if (g.sh == 1 && g.sw == 1)
        run_kernel(slot, "conv_im2col", "conv_pack_x_1x1", global, {16, 1, 1}, t.x, cl_ulong(b0 * g.CHW), bp->mem(),
                   g.C, g.Cg, grp, cl_int(g.PQ), cl_int(nimg));
      else
        run_kernel(slot, "conv_im2col", "conv_pack_x_1x1_strided", global, {1, 16, 1}, t.x, cl_ulong(b0 * g.CHW),
                   bp->mem(), g.C, g.Cg, grp, g.H, g.W, g.P, g.Q, g.sh, g.sw, cl_int(nimg));
      last = Event(enqueue_packed_micro<float>(slot, g.Kg, cols, g.Cg, 1.f, filter.group(grp), 0, bp->mem(), 0, 0.f,
                                               t.y, y_at, g.PQ, 0, 1, g.PQ, g.KPQ));
    }
    if (t.bias || relu) last = bias_act(slot, g, t.y, b0, nimg, t.bias, relu, y_off);
  }
  return last;
}

Event forward_direct(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu) {
  if (direct_wg_fits(slot, g)) return forward_direct_wg(slot, g, t, relu);
  if (depthwise_kernel_fits(slot, ConvPass::Forward, g)) return forward_depthwise(slot, g, t, relu);
  const long oq = slot.program("conv_direct").param("DIR_OQ");
  return run_kernel(slot, "conv_direct", "conv_direct_fwd",
                    {ceil_div(std::size_t(g.Q), std::size_t(oq)), std::size_t(g.P), g.n * std::size_t(g.K)},
                    {1, 1, 1}, t.x, cl_ulong(0), t.w, t.bias ? t.bias : t.w, t.y, cl_ulong(0), g.C, g.H, g.W, g.K,
                    g.groups, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n),
                    cl_int(t.bias != nullptr), cl_int(relu));
}

}  // namespace anycl::detail
