// anycl C++ API: 2-D convolution, float32, NCHW or channels-last (NHWC), forward and both
// backward passes.
#pragma once

#include <cstddef>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl {

// The tensors' memory order (docs/layouts.md). Nchw: x[n][c][h][w], w[k][c/groups][r][s],
// y[n][k][p][q]. Nhwc (channels-last, TensorFlow's and PyTorch's channels_last):
// x[n][h][w][c], w[k][r][s][c/groups] (OHWI, PyTorch's channels_last weight), y[n][p][q][k].
// Bias and dbias are per output channel in both.
enum class ConvLayout { Nchw = 0, Nhwc = 1 };
ANYCL_API const char* to_string(ConvLayout layout) noexcept;

struct ANYCL_API Conv2d {
  std::size_t n = 1, c = 1, h = 1, w = 1, k = 1, r = 1, s = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t dilation_h = 1, dilation_w = 1, groups = 1;
  bool relu = false;  // forward only: y = max(0, conv + bias)
  ConvLayout layout = ConvLayout::Nchw;

  // Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the offending field.
  void validate() const;
  std::size_t p() const;  // output height (validate() first)
  std::size_t q() const;  // output width
  std::size_t x_size() const { return n * c * h * w; }
  std::size_t w_size() const { return k * (c / groups) * r * s; }
  std::size_t y_size() const { return n * k * p() * q(); }
};

// ImplicitGemm: forward and backward-weights, for few input channels and large or strided filters
// (the stem).
enum class ConvAlgo { Auto, Im2col, Gemm1x1, Direct, Winograd, ImplicitGemm };
ANYCL_API const char* to_string(ConvAlgo algo) noexcept;

// Device buffers, asynchronous: none of the call's work starts before every event of `wait`
// completed; the event returned ends it (docs/interop.md). bias may be null. A runtime of
// several devices that share the buffers' memory splits forward and backward-data
// (docs/multi-device.md).
ANYCL_API Event conv2d_forward(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& w,
                     const Buffer* bias, const Buffer& y, ConvAlgo algo = ConvAlgo::Auto,
                     const std::vector<Event>& wait = {});
ANYCL_API Event conv2d_backward_data(Runtime& rt, const Conv2d& d, const Buffer& dy, const Buffer& w,
                           const Buffer& dx, ConvAlgo algo = ConvAlgo::Auto,
                           const std::vector<Event>& wait = {});
ANYCL_API Event conv2d_backward_weights(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& dy,
                              const Buffer& dw, const Buffer* dbias,
                              ConvAlgo algo = ConvAlgo::Auto, const std::vector<Event>& wait = {});

// Host pointers, synchronous.
ANYCL_API void conv2d_forward(Runtime& rt, const Conv2d& d, const float* x, const float* w,
                    const float* bias, float* y, ConvAlgo algo = ConvAlgo::Auto);
ANYCL_API void conv2d_backward_data(Runtime& rt, const Conv2d& d, const float* dy, const float* w,
                          float* dx, ConvAlgo algo = ConvAlgo::Auto);
ANYCL_API void conv2d_backward_weights(Runtime& rt, const Conv2d& d, const float* x, const float* dy,
                             float* dw, float* dbias, ConvAlgo algo = ConvAlgo::Auto);

// The algorithm the shape selector picks for the forward pass (what Auto runs without find).
ANYCL_API ConvAlgo conv2d_select(const Runtime& rt, const Conv2d& d);

// The find step (like cudnnFind): times every algorithm that applies to (device, d, pass) on
// scratch tensors, once, and keeps the winner in memory and in the on-disk cache beside the
// program binaries (README, Convolution).
enum class ConvPass { Forward, BackwardData, BackwardWeights };
struct ConvAlgoTime {
  ConvAlgo algo;
  double ms;         // median wall time of one call, kernels included
  bool cut = false;  // stopped after one timed run: already far slower than the best
};
struct ConvFindResult {
  ConvAlgo algo = ConvAlgo::Auto;   // the fastest candidate
  bool timed = false;               // false: answered from memory or the on-disk cache
  std::vector<ConvAlgoTime> times;  // every candidate, fastest first
};
ANYCL_API ConvFindResult conv2d_find(Runtime& rt, const Conv2d& d, ConvPass pass, std::size_t device = 0);

// With find on, Auto runs conv2d_find's winner (timing a new problem on its first call) instead of
// the selector's pick. Default off; ANYCL_CONV_FIND=1 turns it on for new runtimes.
ANYCL_API void set_conv_find(Runtime& rt, bool on);

// Workspace cap for im2col-style algorithms (default 256 MiB, ANYCL_CONV_WORKSPACE_MB); larger
// problems run in batch chunks.
ANYCL_API void set_conv_workspace_limit(Runtime& rt, std::size_t bytes);

}  // namespace anycl
