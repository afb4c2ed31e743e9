// Choosing a convolution algorithm.
#pragma once

#include <cstddef>

#include "anycl/conv2d.hpp"

namespace anycl::detail {
struct DeviceSlot;
}

namespace anycl::detail {

using anycl::ConvPass;

const char* pass_name(ConvPass pass);  // "conv2d_forward", ...

// Algorithms ANYCL_CONV_ALGOS disabled, one bit per ConvAlgo (OpSettings::conv_disabled).
using ConvAlgoMask = unsigned;
constexpr ConvAlgoMask algo_bit(ConvAlgo algo) { return 1u << static_cast<unsigned>(algo); }

// The selector's per-device thresholds: host-dispatch parameters of the kernels they route to
// (DIRECT_GROUP_CHANNELS of conv_direct, WINOGRAD_MIN_CHANNELS of conv_winograd), so the
// parameter tables and anycl-tune set them like any tunable. The defaults are the .cl defaults.
struct ConvThresholds {
  std::size_t direct_group_channels = 4;  // groups > 1 and C/groups <= this: Direct
  std::size_t winograd_min_channels = 32;  // C and K >= this (and a Winograd shape): Winograd
  // Forward or backward-weights with C/groups <= implicit_max_channels and R*S >= implicit_min_taps or a stride above
  // 1: ImplicitGemm (IMPLICIT_* of conv_implicit; 0 channels on devices it does not suit).
  std::size_t implicit_max_channels = 4;
  std::size_t implicit_min_taps = 25;
};
ConvThresholds conv_thresholds(const DeviceSlot& slot);

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d);
// The shape selector's pick (what Auto runs without the find step), never a disabled one.
ConvAlgo select(ConvPass pass, const Conv2d& d, ConvAlgoMask disabled, const ConvThresholds& limits);
// Auto's pick, or the forced algorithm when it applies and is not disabled (else
// ANYCL_ERROR_UNSUPPORTED).
ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo, ConvAlgoMask disabled, const ConvThresholds& limits);

}  // namespace anycl::detail
