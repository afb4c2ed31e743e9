// Every convolution algorithm, one function per pass; the pass classes (conv2d_passes.hpp) call
// them. Each returns the event of its last kernel.
#pragma once

#include "ops/conv2d_passes.hpp"

namespace anycl::detail {

Event forward_im2col(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu, std::size_t cap);
Event forward_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu,
                      std::size_t cap);
Event forward_direct(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
// Winograd's only workspace is the transformed filters (16 K x C), whatever the batch.
Event forward_winograd(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);

Event backward_data_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t, std::size_t cap);
Event backward_data_gemm1x1(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_data_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_data_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);

Event backward_weights_im2col(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                              std::size_t cap);
Event backward_weights_direct(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t);
Event backward_weights_winograd(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t,
                                std::size_t cap);

// Depthwise (groups == C == K) in its own kernel family, which Direct runs wherever it fits: the
// shape (conv2d_depthwise.cpp says which strides and pads), the family built on the device, and
// local memory for a staged strip; elsewhere Direct runs conv_direct.
bool depthwise_kernel_fits(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g);
Event forward_depthwise(const DeviceSlot& slot, const ConvGeom& g, const ForwardTensors& t, bool relu);
Event backward_data_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardDataTensors& t);
Event backward_weights_depthwise(const DeviceSlot& slot, const ConvGeom& g, const BackwardWeightsTensors& t);

}  // namespace anycl::detail
