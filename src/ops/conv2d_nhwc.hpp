// Channels-last convolution on one device (conv2d_nhwc.cpp): what enqueue_conv runs for a
// descriptor whose layout is ConvLayout::Nhwc.
#pragma once

#include "ops/conv2d_passes.hpp"

namespace anycl::detail {

// out[b][cols][rows] = in[b][rows][cols] for b < batch, offsets in elements: NCHW -> NHWC is
// (rows, cols) = (C, H*W), NHWC -> NCHW (H*W, C).
Event transpose_images(const DeviceSlot& slot, cl_mem in, std::size_t in_off, cl_mem out, std::size_t out_off,
                       std::size_t batch, std::size_t rows, std::size_t cols);

// dbias (K) of channels-last dy: the sum over its n*P*Q pixel rows (at most 2^31 - 1).
Event dbias_nhwc(const DeviceSlot& slot, const ConvGeom& g, cl_mem dy, cl_mem dbias);

// Gemm1x1 natively, every other algorithm between layout transforms; ANYCL_ERROR_UNSUPPORTED when
// `algo` does not apply to (pass, d).
Event enqueue_conv_nhwc(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap,
                        const ConvTensorSet& set);

}  // namespace anycl::detail
