// The convolution descriptor: validation and output sizes.
#include <climits>
#include <string>

#include "anycl/conv2d.hpp"
#include "runtime/error.hpp"

namespace anycl {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl::Conv2d: " + what);
}

std::size_t checked_mul(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) invalid(std::string(what) + " overflows size_t");
  return r;
}

std::size_t checked_add(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) invalid(std::string(what) + " overflows size_t");
  return r;
}

void check_int_range(const char* name, std::size_t value) {
  if (value > std::size_t(INT_MAX))
    invalid(std::string(name) + " = " + std::to_string(value) + " exceeds 2^31 - 1, the kernels' 32-bit range");
}

// (in + pads - dilation*(filter-1) - 1) / stride + 1, with every step checked; the padded extent
// must stay in the kernels' 32-bit range too (they compute input rows from it).
std::size_t out_extent(std::size_t in, std::size_t pad_a, std::size_t pad_b, std::size_t filter, std::size_t dilation,
                       std::size_t stride, const char* axis) {
  if (stride == 0 || dilation == 0 || filter == 0)
    invalid(std::string("stride, dilation and filter size along the ") + axis + " must be positive");
  const std::size_t padded = checked_add(checked_add(in, pad_a, axis), pad_b, axis);
  if (padded > std::size_t(INT_MAX))
    invalid(std::string("the padded input ") + axis + " (" + std::to_string(padded) + ") exceeds 2^31 - 1");
  const std::size_t span = checked_add(checked_mul(dilation, filter - 1, axis), 1, axis);
  if (span > padded)
    invalid(std::string("the dilated filter (") + std::to_string(span) + ") is larger than the padded input " + axis +
            " (" + std::to_string(padded) + ")");
  return (padded - span) / stride + 1;
}

}  // namespace

void Conv2d::validate() const {
  if (layout != ConvLayout::Nchw && layout != ConvLayout::Nhwc)
    invalid("layout = " + std::to_string(int(layout)) + " is neither ConvLayout::Nchw (0) nor ConvLayout::Nhwc (1)");
  const std::pair<const char*, std::size_t> positive[] = {
      {"n", n}, {"c", c}, {"h", h}, {"w", w}, {"k", k}, {"r", r}, {"s", s}, {"stride_h", stride_h},
      {"stride_w", stride_w}, {"dilation_h", dilation_h}, {"dilation_w", dilation_w}, {"groups", groups}};
  for (const auto& [name, value] : positive)
    if (value == 0) invalid(std::string(name) + " must be positive");
  // The kernels take every field as a 32-bit int: a larger value would wrap around there.
  const std::pair<const char*, std::size_t> pads[] = {
      {"pad_top", pad_top}, {"pad_left", pad_left}, {"pad_bottom", pad_bottom}, {"pad_right", pad_right}};
  for (const auto& [name, value] : positive) check_int_range(name, value);
  for (const auto& [name, value] : pads) check_int_range(name, value);
  if (c % groups != 0 || k % groups != 0)
    invalid("groups = " + std::to_string(groups) + " must divide c = " + std::to_string(c) + " and k = " +
            std::to_string(k));
  const std::size_t P = out_extent(h, pad_top, pad_bottom, r, dilation_h, stride_h, "height");
  const std::size_t Q = out_extent(w, pad_left, pad_right, s, dilation_w, stride_w, "width");
  // Every tensor's element count (and its bytes) must be representable, and indexable by the
  // kernels' 32-bit per-image arithmetic.
  const std::size_t x_elems = checked_mul(checked_mul(checked_mul(n, c, "x size"), h, "x size"), w, "x size");
  const std::size_t y_elems = checked_mul(checked_mul(checked_mul(n, k, "y size"), P, "y size"), Q, "y size");
  const std::size_t w_elems = checked_mul(checked_mul(checked_mul(k, c / groups, "w size"), r, "w size"), s, "w size");
  for (std::size_t e : {x_elems, y_elems, w_elems}) checked_mul(e, sizeof(float), "tensor bytes");
  if (c * h * w > 0x7fffffff || k * P * Q > 0x7fffffff || (c / groups) * r * s > 0x7fffffff)
    invalid("one image's tensors must have fewer than 2^31 elements");
  // The direct kernels number (image, channel) pairs and the filter packer filter elements in int.
  if (w_elems > 0x7fffffff) invalid("the filter must have fewer than 2^31 elements");
  if (n * c > 0x7fffffff || n * k > 0x7fffffff) invalid("n * c and n * k must be below 2^31");
}

std::size_t Conv2d::p() const { return out_extent(h, pad_top, pad_bottom, r, dilation_h, stride_h, "height"); }
std::size_t Conv2d::q() const { return out_extent(w, pad_left, pad_right, s, dilation_w, stride_w, "width"); }

const char* to_string(ConvAlgo algo) noexcept {
  switch (algo) {
    case ConvAlgo::Auto: return "auto";
    case ConvAlgo::Im2col: return "im2col";
    case ConvAlgo::Gemm1x1: return "gemm1x1";
    case ConvAlgo::Direct: return "direct";
    case ConvAlgo::Winograd: return "winograd";
    case ConvAlgo::ImplicitGemm: return "implicit_gemm";
  }
  return "unknown";
}

const char* to_string(ConvLayout layout) noexcept {
  switch (layout) {
    case ConvLayout::Nchw: return "nchw";
    case ConvLayout::Nhwc: return "nhwc";
  }
  return "unknown";
}

}  // namespace anycl
