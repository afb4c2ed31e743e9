// Which convolution algorithm serves a problem, and whether a forced one applies.
#include "ops/conv2d_select.hpp"

#include "ops/conv2d_geometry.hpp"

namespace anycl::detail {

bool is_pointwise(const Conv2d& d) {
  return d.r == 1 && d.s == 1 && d.stride_h == 1 && d.stride_w == 1 && d.pad_top == 0 && d.pad_left == 0 &&
         d.pad_bottom == 0 && d.pad_right == 0;
}

// Few input channels per group: the GEMM would be too thin to pay for im2col.
bool is_direct_shape(const Conv2d& d) { return d.groups > 1 && d.c / d.groups <= 4; }

bool applies(ConvAlgo algo, ConvPass pass, const Conv2d& d) {
  switch (algo) {
    case ConvAlgo::Auto:
    case ConvAlgo::Im2col:
    case ConvAlgo::Direct:
      return true;
    case ConvAlgo::Gemm1x1:
      return is_pointwise(d);
    case ConvAlgo::Winograd:
      // Backward-data runs on dy padded by 2 - pad, so the padding may not exceed 2.
      return pass != ConvPass::BackwardWeights && is_winograd_shape(d) &&
             (pass == ConvPass::Forward || (d.pad_top <= 2 && d.pad_left <= 2));
  }
  return false;
}

// Measured on POCL (README, Performance): depthwise and thin groups direct; Winograd for 3x3
// stride 1 once channels make its GEMMs worthwhile; im2col for the rest. Pointwise forward runs
// Gemm1x1, one GEMM with the batch folded into N: on 256ch 14x14 -> 1024 it took ~10 ms of CPU
// per call against ~11.3 ms for im2col, whose per-image GEMMs pad every image's last panel.
// Pointwise backward-data keeps im2col (its Gemm1x1 is still per-image GEMMs; not re-measured).
ConvAlgo select(ConvPass pass, const Conv2d& d) {
  if (is_direct_shape(d)) return ConvAlgo::Direct;
  if (applies(ConvAlgo::Winograd, pass, d) && d.c >= 32 && d.k >= 32) return ConvAlgo::Winograd;
  if (pass == ConvPass::Forward && is_pointwise(d)) return ConvAlgo::Gemm1x1;
  return ConvAlgo::Im2col;
}

}  // namespace anycl::detail
