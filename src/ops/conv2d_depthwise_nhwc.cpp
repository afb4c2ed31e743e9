// Channels-last depthwise convolution (conv_depthwise_nhwc.cl): every pass on the NHWC tensors
// themselves, a vector of channels per pixel, where the other algorithms run between transposes.
#include <climits>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_depthwise.hpp"

namespace anycl::detail {
namespace {

constexpr const char* kFamily = "conv_depthwise_nhwc";

std::size_t channel_blocks(const DeviceSlot& slot, const ConvGeom& g) {
  return ceil_div(std::size_t(g.C), std::size_t(slot.program(kFamily).param("DWN_VW")));
}

// (channel block, output row) tasks of one correlation, a run of them per work-item.
std::size_t row_tasks(const DeviceSlot& slot, const ConvGeom& g, const DepthwiseRun& run) {
  return channel_blocks(slot, g) * g.n * std::size_t(run.oh);
}

// Non-temporal stores (DWN_STREAM) cover a pixel's channel blocks, DWN_VW floats each, C floats apart.
bool stream_output(const DeviceSlot& slot, const BuiltProgram& prog, const ConvGeom& g, const DepthwiseRun& run) {
  const std::uint64_t block_bytes = std::uint64_t(prog.param("DWN_VW")) * sizeof(float);
  const std::uint64_t pixel_bytes = std::uint64_t(g.C) * sizeof(float);
  return prog.param("DWN_STREAM") != 0 &&
         streams_past_cache(slot, g.n * std::uint64_t(run.oh) * std::uint64_t(run.ow) * pixel_bytes,
                            {block_bytes, pixel_bytes});
}

Event run_rows(const DeviceSlot& slot, const ConvGeom& g, const DepthwiseRun& run, cl_mem in, cl_mem w, cl_mem bias,
               cl_mem out, bool relu) {
  const BuiltProgram& prog = slot.program(kFamily);
  const std::size_t tasks = row_tasks(slot, g, run);
  const std::size_t groups =
      std::clamp<std::size_t>(std::size_t(slot.info.compute_units) * std::size_t(prog.param("DWN_GROUPS_CU")), 1, tasks);
  const std::size_t per_group = ceil_div(tasks, groups);
  const LocalBytes taps{std::size_t(g.R) * std::size_t(g.S) * std::size_t(prog.param("DWN_VW")) * sizeof(float)};
  return run_kernel(slot, kFamily, "conv_dwn_fwd", {ceil_div(tasks, per_group), 1, 1}, {1, 1, 1}, in, w,
                    cl_int(run.flip), bias ? bias : w, out, g.C, run.ih, run.iw, g.R, g.S, run.oh, run.ow, run.sh,
                    run.sw, run.pt, run.pl, g.dh, g.dw, run.up_h, run.up_w, cl_int(g.n), cl_int(per_group),
                    cl_int(bias != nullptr), cl_int(relu), cl_int(stream_output(slot, prog, g, run)), taps);
}

}  // namespace

bool depthwise_nhwc_fits(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g) {
  if (!depthwise_shape(pass, g) || !slot.has_program(kFamily) || runs_tiled_gemm(slot)) return false;
  const BuiltProgram& prog = slot.program(kFamily);
  if (pass == ConvPass::BackwardWeights) return long(g.S) <= prog.param("DWN_SMAX");
  const DepthwiseRun run = pass == ConvPass::BackwardData ? depthwise_backward_data_run(g) : depthwise_forward_run(g);
  const std::size_t tap_bytes = std::size_t(g.R) * std::size_t(g.S) * std::size_t(prog.param("DWN_VW")) * sizeof(float);
  return row_tasks(slot, g, run) <= std::size_t(INT_MAX) && tap_bytes <= slot.info.local_mem;
}

Event depthwise_nhwc(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g, const ConvTensorSet& set, bool relu) {
  if (pass == ConvPass::Forward)
    return run_rows(slot, g, depthwise_forward_run(g), set.nchw, set.kcrs, set.kvec, set.nkpq, relu);
  if (pass == ConvPass::BackwardData)
    return run_rows(slot, g, depthwise_backward_data_run(g), set.nkpq, set.kcrs, nullptr, set.nchw, false);
  // One work-item per (channel block, filter row), over the whole batch: deterministic sums.
  return run_kernel(slot, kFamily, "conv_dwn_bwd_weights", {channel_blocks(slot, g) * std::size_t(g.R), 1, 1},
                    {1, 1, 1}, set.nchw, set.nkpq, set.kcrs, set.kvec ? set.kvec : set.kcrs, g.C, g.H, g.W, g.R, g.S,
                    g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n), cl_int(set.kvec != nullptr));
}

}  // namespace anycl::detail
