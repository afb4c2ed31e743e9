// Choosing a convolution algorithm.
#pragma once

#include "anycl/conv2d.hpp"

namespace anycl::detail {

using anycl::ConvPass;

const char* pass_name(ConvPass pass);  // "conv2d_forward", ...

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d);
// The shape selector's pick (what Auto runs without the find step).
ConvAlgo select(ConvPass pass, const Conv2d& d);
// Auto's pick, or the forced algorithm when it applies (else ANYCL_ERROR_UNSUPPORTED).
ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo);

}  // namespace anycl::detail
