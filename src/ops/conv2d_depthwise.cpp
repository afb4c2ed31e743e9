// Depthwise convolution (groups == C == K) in the conv_depthwise family: what Direct runs for the
// shapes that family takes (conv2d_algorithms.hpp, depthwise_kernel_fits), a run of whole
// (image, channel) planes a work-item with the input rows staged in local memory.
#include <algorithm>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_depthwise.hpp"

namespace anycl::detail {
namespace {

// Floats of a staged row (the kernel's dw_row_floats; backward-weights stages rows unsplit): at
// stride 2 the forward kernel splits a row into even and odd columns, each half holding the taps'
// reach and the staging copy's last vector.
std::size_t stage_row_floats(const ConvGeom& g, const DepthwiseRun& run, std::size_t vw, bool split = true) {
  const std::size_t ov = round_up(std::size_t(run.ow), vw), reach = std::size_t(g.S - 1) * g.dw;
  if (run.sw == 1 || !split) return ov * run.sw + reach;
  const std::size_t half = std::max(ov + reach / 2 + 1, (std::size_t(run.pl) + run.iw + 1) / 2 + vw);
  return 2 * round_up(half, vw);
}

// Output rows per staged strip: at most the family's DW_STRIP, and what local memory holds beside
// the taps (0 when it holds no row).
cl_int strip_rows(const DeviceSlot& slot, const ConvGeom& g, const DepthwiseRun& run, std::size_t vw, bool split = true) {
  const std::size_t row_bytes = stage_row_floats(g, run, vw, split) * sizeof(float),
                    step = std::size_t(run.sh) * row_bytes;
  const std::size_t fixed = (std::size_t(g.R - 1) * g.dh + 1) * row_bytes + 2 * vw * sizeof(float) +
                            std::size_t(g.R) * g.S * sizeof(float) + 256;
  const std::size_t most = std::size_t(slot.program("conv_depthwise").param("DW_STRIP"));
  const std::uint64_t local = slot.info.local_mem;
  if (local < fixed) return 0;
  return cl_int(std::min({most, std::size_t((local - fixed) / step), std::size_t(run.oh)}));
}

// Local memory for a strip of `strip` output rows.
LocalBytes stage_bytes(const ConvGeom& g, const DepthwiseRun& run, std::size_t vw, cl_int strip, bool split = true) {
  const std::size_t rows = std::size_t(strip - 1) * run.sh + std::size_t(g.R - 1) * g.dh + 1;
  return {(rows * stage_row_floats(g, run, vw, split) + 2 * vw) * sizeof(float)};
}

// Non-temporal stores (DW_STREAM) cover whole output rows.
bool stream_output(const DeviceSlot& slot, const BuiltProgram& prog, const ConvGeom& g, const DepthwiseRun& run) {
  const std::uint64_t row_bytes = std::uint64_t(run.ow) * sizeof(float);
  return prog.param("DW_STREAM") != 0 &&
         streams_past_cache(slot, g.n * std::uint64_t(g.C) * std::uint64_t(run.oh) * row_bytes, {row_bytes});
}

Event run_depthwise(const DeviceSlot& slot, const ConvGeom& g, const DepthwiseRun& run, cl_mem in, cl_mem w,
                    cl_mem bias, cl_mem out, bool relu) {
  const BuiltProgram& prog = slot.program("conv_depthwise");
  const std::size_t vw = std::size_t(prog.param("DW_VW"));
  const std::size_t planes = g.n * std::size_t(g.C);
  const std::size_t groups =
      std::clamp<std::size_t>(std::size_t(slot.info.compute_units) * prog.param("DW_GROUPS_CU"), 1, planes);
  const std::size_t per_group = ceil_div(planes, groups);
  const cl_int strip = strip_rows(slot, g, run, vw);
  return run_kernel(slot, "conv_depthwise", "conv_dw_fwd", {ceil_div(planes, per_group), 1, 1}, {1, 1, 1}, in,
                    cl_ulong(0), cl_ulong(planes * run.ih * run.iw), w, cl_int(run.flip), bias ? bias : w, out,
                    cl_ulong(0), g.C, run.ih, run.iw, g.R, g.S, run.oh, run.ow, run.sh, run.sw, run.pt, run.pl, g.dh,
                    g.dw, run.up_h, run.up_w, cl_int(planes), cl_int(per_group), strip, cl_int(bias != nullptr),
                    cl_int(relu), cl_int(stream_output(slot, prog, g, run)),
                    LocalBytes{std::size_t(g.R) * g.S * sizeof(float)}, stage_bytes(g, run, vw, strip));
}

// The kernel de-interleaves at most stride 2 along the width.
bool shape_fits(ConvPass pass, const ConvGeom& g) { return g.sw <= 2 && depthwise_shape(pass, g); }

}  // namespace

bool depthwise_kernel_fits(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g) {
  if (!shape_fits(pass, g) || !slot.has_program("conv_depthwise") || runs_tiled_gemm(slot)) return false;
  const DepthwiseRun run = pass == ConvPass::BackwardData ? depthwise_backward_data_run(g) : depthwise_forward_run(g);
  const std::size_t vw = std::size_t(slot.program("conv_depthwise").param("DW_VW"));
  return strip_rows(slot, g, run, vw, pass != ConvPass::BackwardWeights) > 0;
}

Event forward_depthwise(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu) {
  return run_depthwise(slot, g, depthwise_forward_run(g), t.x, t.w, t.bias, t.y, relu);
}

Event backward_data_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t) {
  return run_depthwise(slot, g, depthwise_backward_data_run(g), t.dy, t.w, nullptr, t.dx, false);
}

// One work-item a channel, over the whole batch (no batch chunks: nothing to accumulate with beta).
// Planes read in place are prefetched only when x and dy outgrow the device's cache: from the
// cache, the hardware prefetchers keep up and the prefetches cost time (0.13 against 0.09 ms on
// the 96-channel 112x112 stride-2 layer at batch 1 on a 2-core AVX-512 EPYC).
Event backward_weights_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t) {
  const std::size_t vw = std::size_t(slot.program("conv_depthwise").param("DW_VW"));
  const DepthwiseRun run = depthwise_forward_run(g);
  const cl_int strip = strip_rows(slot, g, run, vw, false);
  const std::uint64_t cache = slot.info.global_mem_cache;
  const bool prefetch = cache == 0 || (g.n * (g.CHW + g.KPQ)) * sizeof(float) > cache;
  return run_kernel(slot, "conv_depthwise", "conv_dw_bwd_weights", {std::size_t(g.C), 1, 1}, {1, 1, 1}, t.x,
                    cl_ulong(g.n * g.CHW), t.dy, cl_ulong(g.n * g.KPQ), t.dw, t.dbias ? t.dbias : t.dw, g.C, g.H, g.W,
                    g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n), strip,
                    cl_int(t.dbias != nullptr), cl_int(prefetch), stage_bytes(g, run, vw, strip, false));
}

}  // namespace anycl::detail
