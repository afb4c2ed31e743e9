// Strided backward-data by output phase: the dx pixels ih = i*sh + a, iw = j*sw + b of one phase
// (a, b) take a fixed subset of the filter taps, so each phase is a stride-1 forward convolution
// of dy with a sub-filter (conv_im2col.cl, conv_phase_filter), run by the forward GEMM paths into
// its own part of a workspace; conv_phase_interleave then writes every dx element once. col2im
// instead reads an R*S times larger column matrix, and pointwise strided layers become one GEMM
// with the batch folded into N.
#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_packing.hpp"

namespace anycl::detail {
namespace {

// One phase's taps along one axis: r = first + t*stride for t < taps, reaching dx index
// i*stride + phase from dy index i + shift - t.
struct PhaseAxis {
  cl_int first, taps, shift, extent;
};

PhaseAxis phase_axis(cl_int phase, cl_int pad, cl_int stride, cl_int filter, cl_int size) {
  const cl_int first = (phase + pad) % stride;
  return {first, first < filter ? (filter - first + stride - 1) / stride : 0, (phase + pad) / stride,
          (size - phase + stride - 1) / stride};
}

// The stride-1 forward convolution of dy that computes one phase: x' = dy (C' = K), y' = the phase
// (K' = C), filter taps reversed so that tap t' = taps - 1 - t pads by taps - 1 - shift.
ConvGeom phase_geom(const ConvGeom& g, const PhaseAxis& rows, const PhaseAxis& cols) {
  ConvGeom s = g;
  s.C = g.K, s.H = g.P, s.W = g.Q, s.K = g.C, s.Cg = g.Kg, s.Kg = g.Cg;
  s.R = rows.taps, s.S = cols.taps, s.P = rows.extent, s.Q = cols.extent;
  s.sh = s.sw = s.dh = s.dw = 1;
  s.pt = rows.taps - 1 - rows.shift, s.pl = cols.taps - 1 - cols.shift;
  s.pb = s.P - s.H - s.pt + s.R - 1, s.pr = s.Q - s.W - s.pl + s.S - 1;
  s.PQ = std::size_t(s.P) * s.Q, s.CHW = std::size_t(s.C) * s.H * s.W, s.KPQ = std::size_t(s.K) * s.PQ;
  s.CRS = std::size_t(s.Cg) * s.R * s.S;
  return s;
}

// Elements of one phase's part of the workspace: the largest phase.
std::size_t phase_slot_elems(const ConvGeom& g) {
  return g.n * std::size_t(g.C) * ceil_div(std::size_t(g.H), std::size_t(g.sh)) *
         ceil_div(std::size_t(g.W), std::size_t(g.sw));
}

// The phase's convolution is a plain GEMM over dy (each phase pixel one dy pixel).
bool is_pointwise_geom(const ConvGeom& s) {
  return s.R == 1 && s.S == 1 && s.pt == 0 && s.pl == 0 && s.P == s.H && s.Q == s.W;
}

// Elements of one phase's filter in the filters' workspace: the phase with the most taps.
std::size_t phase_filter_elems(const ConvGeom& g) {
  return std::size_t(g.C) * g.Kg * ceil_div(std::size_t(g.R), std::size_t(g.sh)) *
         ceil_div(std::size_t(g.S), std::size_t(g.sw));
}

std::size_t phases_bytes(const ConvGeom& g) {
  return workspace_bytes({std::size_t(g.sh) * g.sw, phase_slot_elems(g), sizeof(float)});
}

// The phases' im2col of dy holds Kg/Cg times col2im's columns (R*S taps of Kg planes of dy against
// R*S taps of Cg): beyond this ratio (the stem: 64 outputs from 3 channels) col2im moves less.
constexpr cl_int kMaxPhaseChannelRatio = 4;

// Phases of several taps run im2col GEMMs over a quarter of the plane each; below this many dx
// pixels per plane they lose to col2im, which takes stride-2 taps by column parity (3x3 stride 2,
// 64 to 128 channels, batch 8: 25-30% slower on 56x56 and 112x112 dx planes).
constexpr std::size_t kMinMultiTapPhasePlane = std::size_t(1) << 14;
// Phases whose column panel fits local memory run fused (conv_im2col_gemm), with no column matrix:
// they beat col2im from 56x56 dx planes (3x3 stride 2, 64 to 128 channels, batch 8: 6.6 -> 5.8 ms)
// and tie with it on 28x28.
constexpr std::size_t kMinFusedPhasePlane = std::size_t(1) << 11;

// Every phase of several taps has a column panel that fits conv_im2col_gemm's local memory.
bool multi_tap_phases_fuse(const DeviceSlot& slot, const ConvGeom& g) {
  for (cl_int a = 0; a < g.sh; ++a)
    for (cl_int b = 0; b < g.sw; ++b) {
      const ConvGeom s = phase_geom(g, phase_axis(a, g.pt, g.sh, g.R, g.H), phase_axis(b, g.pl, g.sw, g.S, g.W));
      if (s.R * s.S > 1 && !im2col_gemm_panel_fits(slot, s)) return false;
    }
  return true;
}

}  // namespace

// The phases take at most half of `cap`; the forward passes chunk their own scratch in the rest.
bool backward_data_phases_fit(const DeviceSlot& slot, const ConvGeom& g, std::size_t cap) {
  if (g.sh * g.sw == 1 || g.dh != 1 || g.dw != 1 || g.Kg > kMaxPhaseChannelRatio * g.Cg) return false;
  const bool single_tap_phases = g.R <= g.sh && g.S <= g.sw;
  const std::size_t min_plane = multi_tap_phases_fuse(slot, g) ? kMinFusedPhasePlane : kMinMultiTapPhasePlane;
  if (!single_tap_phases && std::size_t(g.H) * g.W < min_plane) return false;
  return phases_bytes(g) <= cap / 2 && phases_bytes(g) <= slot.info.max_alloc;
}

namespace {

// Every phase's forward convolution of dy into its part of `phases`, with the sub-filters of
// conv_phase_filter.
void run_phase_convs(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, cl_mem phases,
                     std::size_t cap) {
  const std::size_t slot_elems = phase_slot_elems(g), filter_elems = phase_filter_elems(g);
  const std::size_t nphases = std::size_t(g.sh) * g.sw;
  Workspace filters(*slot.workspace, *slot.context, slot.info, workspace_bytes({nphases, filter_elems, sizeof(float)}));
  run_kernel(slot, "conv_im2col", "conv_phase_filter", {std::size_t(g.C), 1, 1}, {16, 1, 1}, t.w,
             filters.mem(), cl_ulong(filter_elems), g.C, g.Cg, g.Kg, g.R, g.S, g.sh, g.sw, g.pt, g.pl);
  for (cl_int a = 0; a < g.sh; ++a) {
    const PhaseAxis rows = phase_axis(a, g.pt, g.sh, g.R, g.H);
    for (cl_int b = 0; b < g.sw; ++b) {
      const PhaseAxis cols = phase_axis(b, g.pl, g.sw, g.S, g.W);
      if (rows.taps == 0 || cols.taps == 0 || rows.extent == 0 || cols.extent == 0) continue;
      const ConvGeom s = phase_geom(g, rows, cols);
      const std::size_t phase = std::size_t(a * g.sw + b);
      const ForwardTensors ft{t.dy, filters.mem(), nullptr, phases};
      const ForwardOffsets off{phase * filter_elems, phase * slot_elems};
      if (is_pointwise_geom(s))
        forward_gemm1x1(slot, s, ft, false, cap, off);
      else if (im2col_gemm_panel_fits(slot, s))
        forward_im2col_gemm(slot, s, ft, false, off);
      else
        forward_im2col(slot, s, ft, false, cap, off);
    }
  }
}

// Phase (0, 0): with a 1x1 filter and no padding, the only phase with a tap.
ConvGeom first_phase(const ConvGeom& g) {
  return phase_geom(g, phase_axis(0, g.pt, g.sh, g.R, g.H), phase_axis(0, g.pl, g.sw, g.S, g.W));
}

// That phase into `out`, its filter W^T packed straight from w: no conv_phase_filter launch (a
// sixth of the pass on 14x14 dx, 256 channels).
Event pointwise_phase(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, cl_mem out,
                      std::size_t cap) {
  return forward_gemm1x1_packed(slot, first_phase(g), PackedFilter(slot, g, t.w, /*transposed=*/true),
                                {t.dy, nullptr, nullptr, out}, false, cap, 0);
}

}  // namespace

// At stride 1 the phase is dx itself: written in place, where col2im copied the GEMM's column
// matrix into dx (15% of the pass on 14x14 dx, 1024 -> 256 channels, batch 8).
Event backward_data_pointwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                              std::size_t cap) {
  return pointwise_phase(slot, g, t, t.dx, cap);
}

Event backward_data_phases(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap) {
  Workspace phases(*slot.workspace, *slot.context, slot.info, phases_bytes(g));
  const std::size_t sub_cap = cap - phases_bytes(g);
  if (samples_inside_1x1(g) && is_pointwise_geom(first_phase(g)))
    pointwise_phase(slot, g, t, phases.mem(), sub_cap);
  else
    run_phase_convs(slot, g, t, phases.mem(), sub_cap);
  return run_kernel(slot, "conv_im2col", "conv_phase_interleave", {std::size_t(g.H), g.n * std::size_t(g.C), 1},
                    {1, 8, 1}, phases.mem(), cl_ulong(phase_slot_elems(g)), t.dx, g.H, g.W, g.R, g.S, g.sh, g.sw,
                    g.pt, g.pl, cl_int(g.n * g.C));
}

}  // namespace anycl::detail
