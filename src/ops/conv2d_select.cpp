// Which convolution algorithm serves a problem, and whether a forced one applies.
#include "ops/conv2d_select.hpp"

#include <string>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_geometry.hpp"
#include "runtime/error.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

bool is_pointwise(const Conv2d& d) {
  return d.r == 1 && d.s == 1 && d.stride_h == 1 && d.stride_w == 1 && d.pad_top == 0 && d.pad_left == 0 &&
         d.pad_bottom == 0 && d.pad_right == 0;
}

// Few input channels per group: the GEMM would be too thin to pay for im2col.
namespace {
bool is_direct_shape(const Conv2d& d, const ConvThresholds& limits) {
  return d.groups > 1 && d.c / d.groups <= limits.direct_group_channels;
}

// Few input channels under a 3x3 or larger or a strided filter (the stem, a first layer on RGB):
// im2col's columns would be R*S/(sh*sw) times the input, for a GEMM that is thin in K (forward)
// or in N (backward-weights).
bool is_implicit_shape(ConvPass pass, const Conv2d& d, const ConvThresholds& limits) {
  return pass != ConvPass::BackwardData && d.c / d.groups <= limits.implicit_max_channels &&
         (d.r * d.s >= limits.implicit_min_taps || d.stride_h > 1 || d.stride_w > 1);
}
}  // namespace

ConvThresholds conv_thresholds(const DeviceSlot& slot) {
  ConvThresholds out;
  if (slot.has_program("conv_direct"))
    out.direct_group_channels = std::size_t(slot.program("conv_direct").param("DIRECT_GROUP_CHANNELS"));
  if (slot.has_program("conv_winograd"))
    out.winograd_min_channels = std::size_t(slot.program("conv_winograd").param("WINOGRAD_MIN_CHANNELS"));
  // conv_implicit's register tile over broadcast filter values is a CPU shape.
  out.implicit_max_channels = 0;
  if (slot.has_program("conv_implicit") && !runs_tiled_gemm(slot)) {
    const BuiltProgram& implicit = slot.program("conv_implicit");
    out.implicit_max_channels = std::size_t(implicit.param("IMPLICIT_MAX_CHANNELS"));
    out.implicit_min_taps = std::size_t(implicit.param("IMPLICIT_MIN_TAPS"));
  }
  return out;
}

const char* pass_name(ConvPass pass) {
  switch (pass) {
    case ConvPass::Forward: return "conv2d_forward";
    case ConvPass::BackwardData: return "conv2d_backward_data";
    default: return "conv2d_backward_weights";
  }
}

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d) {
  switch (algo) {
    case ConvAlgo::Auto:
    case ConvAlgo::Im2col:
    case ConvAlgo::Direct:
      return true;
    case ConvAlgo::Gemm1x1:
      return is_pointwise(d);
    case ConvAlgo::ImplicitGemm:
      return pass != ConvPass::BackwardData;
    case ConvAlgo::Winograd:
      // Backward-data runs on dy padded by 2 - pad, so the padding may not exceed 2.
      return is_winograd_shape(d) && (pass != ConvPass::BackwardData || (d.pad_top <= 2 && d.pad_left <= 2));
  }
  return false;
}

// Depthwise and thin groups run direct; stem-like forward and backward-weights layers ImplicitGemm; Winograd takes 3x3
// stride 1 once channels make its products worthwhile; pointwise forward runs Gemm1x1, one GEMM
// with the batch folded into N, where per-image GEMMs pad every image's last column panel (196
// columns to 224 at NR 32).
// Pointwise backward-data keeps im2col: its Gemm1x1 is still per-image GEMMs.
ConvAlgo preferred(ConvPass pass, const Conv2d& d, const ConvThresholds& limits) {
  if (is_direct_shape(d, limits)) return ConvAlgo::Direct;
  if (is_implicit_shape(pass, d, limits)) return ConvAlgo::ImplicitGemm;
  if (applies(ConvAlgo::Winograd, pass, d) && d.c >= limits.winograd_min_channels && d.k >= limits.winograd_min_channels)
    return ConvAlgo::Winograd;
  // Channels-last pointwise is one plain GEMM in every pass (conv2d_nhwc.cpp).
  if (is_pointwise(d) && (pass == ConvPass::Forward || d.layout == ConvLayout::Nhwc)) return ConvAlgo::Gemm1x1;
  return ConvAlgo::Im2col;
}

// Im2col applies to every problem and cannot be disabled (op_settings.cpp refuses it), so it is
// the fallback whatever the preferred algorithm was.
ConvAlgo select(ConvPass pass, const Conv2d& d, ConvAlgoMask disabled, const ConvThresholds& limits) {
  const ConvAlgo first = preferred(pass, d, limits);
  return disabled & algo_bit(first) ? ConvAlgo::Im2col : first;
}

ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo, ConvAlgoMask disabled, const ConvThresholds& limits) {
  if (algo == ConvAlgo::Auto) return select(pass, d, disabled, limits);
  if (disabled & algo_bit(algo))
    fail(ANYCL_ERROR_UNSUPPORTED, std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) +
                                      " is disabled by ANYCL_CONV_ALGOS");
  if (!applies(algo, pass, d))
    fail(ANYCL_ERROR_UNSUPPORTED,
         std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) + " does not apply to this problem");
  return algo;
}

}  // namespace anycl::detail
