// Channels-last convolution on one device (conv2d_nhwc.cpp): what enqueue_conv runs for a
// descriptor whose layout is ConvLayout::Nhwc.
#pragma once

#include "ops/conv2d_passes.hpp"

namespace anycl::detail {

// Gemm1x1 natively, every other algorithm between layout transforms; ANYCL_ERROR_UNSUPPORTED when
// `algo` does not apply to (pass, d).
Event enqueue_conv_nhwc(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap,
                        const ConvTensorSet& set);

}  // namespace anycl::detail
