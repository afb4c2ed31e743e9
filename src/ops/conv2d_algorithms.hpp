// Every convolution algorithm, one function per pass; the pass classes (conv2d_passes.hpp) call
// them. Each returns the event of its last kernel.
#pragma once

#include "ops/conv2d_passes.hpp"

namespace anycl::detail {

// Where w and y start in their buffers (parts of a workspace), for forward_im2col and forward_gemm1x1.
struct ForwardOffsets {
  std::size_t w = 0, y = 0;
};
Event forward_im2col(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu, std::size_t cap,
                     ForwardOffsets off = {});
Event forward_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                      std::size_t cap, ForwardOffsets off = {});
// Strided layers with a filter wider than 1x1 whose column panel fits local memory: forward_im2col
// runs them fused (conv_im2col_gemm.cl), the column matrix never written to global memory.
bool im2col_gemm_fits(const DeviceSlot& slot, const ConvGeom& g);
// Whether conv_im2col_gemm can run the problem at all (local memory, int offsets), whatever its
// stride; forward_im2col_gemm runs it (the phases of strided backward-data use both).
bool im2col_gemm_panel_fits(const DeviceSlot& slot, const ConvGeom& g);
Event forward_im2col_gemm(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                          ForwardOffsets off);
Event forward_direct(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
// Winograd's workspace is the transformed filters ((m+2)^2 K x C), whatever the batch, unless
// the pass runs staged (conv2d_winograd.cpp), whose V and M must then fit `cap`. The panels form
// reads and writes either layout (NHWC: OHWI filters) itself, forward and backward-data.
Event forward_winograd(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                       std::size_t cap, ConvLayout layout = ConvLayout::Nchw);
// ImplicitGemm (conv2d_implicit.cpp), forward and backward-weights: the staged input is chunked
// within `cap`. Forward reads and writes either layout (NHWC: OHWI filters) itself.
Event forward_implicit(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                       std::size_t cap, ConvLayout layout = ConvLayout::Nchw);
Event backward_weights_implicit(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap);

Event backward_data_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap);
Event backward_data_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_data_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_data_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                             std::size_t cap, ConvLayout layout = ConvLayout::Nchw);
// Strided backward-data (dilation 1) as one stride-1 forward convolution per output phase on the
// packed family (conv2d_phases.cpp); backward_data_im2col runs it where its workspace fits `cap`.
bool backward_data_phases_fit(const DeviceSlot& slot, const ConvGeom& g, std::size_t cap);
Event backward_data_phases(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap);
// A 1x1 stride-1 filter without padding: dx = W_g^T dy_g, the GEMM writing dx in place
// (conv2d_phases.cpp: the one phase such a filter has).
Event backward_data_pointwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap);

Event backward_weights_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                              std::size_t cap);
Event backward_weights_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t);
// x, dy and dw in `layout` (NHWC: dw OHWI); dbias too.
Event backward_weights_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap, ConvLayout layout = ConvLayout::Nchw);

// The im2col-style algorithms on devices that run the tiled GEMM family (runs_tiled_gemm): plain
// columns and batched tiled GEMMs instead of the packed family's panels (conv2d_im2col_tiled.cpp).
bool runs_tiled_gemm(const DeviceSlot& slot);
Event forward_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                           std::size_t cap);
Event forward_gemm1x1_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
Event backward_data_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                                 std::size_t cap);
Event backward_weights_im2col_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                    std::size_t cap);

// Winograd on GPU-class devices (conv2d_winograd_tiled.cpp; winograd_form says where): transforms
// into plain planes around one batched tiled GEMM of the 16 products; V and M chunked within `cap`.
Event forward_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                             std::size_t cap);
Event backward_data_winograd_tiled(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t,
                                   std::size_t cap);

// Direct forward and backward-data on GPU-class devices (conv_direct_wg.cl), where it fits:
// built on the device, one channel's taps within a staging step, the work-group shape taken whole.
// Direct runs them before the depthwise and the CPU-shaped direct kernels.
bool direct_wg_fits(const DeviceSlot& slot, const ConvGeom& g);
Event forward_direct_wg(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
Event backward_data_direct_wg(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);

// Depthwise (groups == C == K) in its own kernel family, which Direct runs wherever it fits: the
// shape (conv2d_depthwise.cpp says which strides and pads), the family built on the device, and
// local memory for a staged strip, on devices that are not GPU-class (its one work-item a run of
// planes is a CPU shape); elsewhere Direct runs conv_direct_wg or conv_direct.
bool depthwise_kernel_fits(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g);
Event forward_depthwise(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
Event backward_data_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_weights_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t);

}  // namespace anycl::detail
