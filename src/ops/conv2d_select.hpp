// Choosing a convolution algorithm.
#pragma once

#include "anycl/conv2d.hpp"

namespace anycl::detail {

using anycl::ConvPass;

const char* pass_name(ConvPass pass);  // "conv2d_forward", ...

// Algorithms ANYCL_CONV_ALGOS disabled, one bit per ConvAlgo (OpSettings::conv_disabled).
using ConvAlgoMask = unsigned;
constexpr ConvAlgoMask algo_bit(ConvAlgo algo) { return 1u << static_cast<unsigned>(algo); }

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d);
// The shape selector's pick (what Auto runs without the find step), never a disabled one.
ConvAlgo select(ConvPass pass, const Conv2d& d, ConvAlgoMask disabled);
// Auto's pick, or the forced algorithm when it applies and is not disabled (else
// ANYCL_ERROR_UNSUPPORTED).
ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo, ConvAlgoMask disabled);

}  // namespace anycl::detail
