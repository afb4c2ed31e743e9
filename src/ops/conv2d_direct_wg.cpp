// Direct convolution on GPU-class devices (cl_kernels/conv_direct_wg.cl): one output element a
// work-item in 2-D work-groups over an output plane, the filter taps staged in local memory.
// Built only where the tiled GEMM family runs (kernel_library.cpp), so its presence is the
// capability test.
#include "ops/conv2d_algorithms.hpp"

namespace anycl::detail {
namespace {

Range3 work_group(const BuiltProgram& prog) {
  return {std::size_t(prog.param("DIR_WG_Q")), std::size_t(prog.param("DIR_WG_P")), 1};
}

}  // namespace

bool direct_wg_fits(const DeviceSlot& slot, const ConvGeom& g) {
  if (!slot.has_program("conv_direct_wg")) return false;
  const BuiltProgram& prog = slot.program("conv_direct_wg");
  const Range3 wg = work_group(prog);
  // The kernels require their work-group shape, so the device must take it whole.
  return std::size_t(g.R) * g.S <= std::size_t(prog.param("DIR_WSTAGE")) &&
         wg[0] * wg[1] <= slot.info.max_work_group_size;
}

Event forward_direct_wg(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu) {
  return run_kernel(slot, "conv_direct_wg", "conv_direct_wg_fwd", {std::size_t(g.Q), std::size_t(g.P), g.n * g.K},
                    work_group(slot.program("conv_direct_wg")), t.x, cl_ulong(0), t.w, t.bias ? t.bias : t.w, t.y,
                    cl_ulong(0), g.C, g.H, g.W, g.K, g.groups, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw,
                    cl_int(g.n), cl_int(t.bias != nullptr), cl_int(relu));
}

Event backward_data_direct_wg(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t) {
  return run_kernel(slot, "conv_direct_wg", "conv_direct_wg_bwd_data", {std::size_t(g.W), std::size_t(g.H), g.n * g.C},
                    work_group(slot.program("conv_direct_wg")), t.dy, cl_ulong(0), t.w, t.dx, cl_ulong(0), g.C, g.H,
                    g.W, g.K, g.groups, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n), 0.f);
}

}  // namespace anycl::detail
