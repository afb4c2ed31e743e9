// Choosing a convolution algorithm.
#pragma once

#include "anycl/conv2d.hpp"

namespace anycl::detail {

using anycl::ConvPass;

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d);
ConvAlgo select(ConvPass pass, const Conv2d& d);

}  // namespace anycl::detail
