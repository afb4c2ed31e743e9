// The device-buffer calls behind the public API, with the one choice it leaves to the runtime:
// whether a call on a runtime of several devices may spread over the devices that share its
// buffers' memory.
#pragma once

#include "anycl/conv2d.hpp"
#include "anycl/gemm.hpp"
#include "ops/conv2d_select.hpp"

namespace anycl::detail {

// Devices: what the public functions do (README, Multi-device). Home: stay on the buffers'
// device, for a caller that keeps every device busy itself (a training replica per device).
enum class Spread { Devices, Home };

template <typename T>
Event gemm_on_buffers(Runtime& rt, const GemmShape& shape, T alpha, const Buffer& a, std::size_t a_offset,
                      const Buffer& b, std::size_t b_offset, T beta, const Buffer& c, std::size_t c_offset,
                      Spread spread);

// A pass's tensors in the API's roles (as ConvHostTensors): forward (x, w, bias) -> y;
// backward-data (dy, w) -> dx; backward-weights (x, dy) -> dw, dbias. bias and out2 may be null.
struct ConvBuffers {
  const Buffer* in_a;
  const Buffer* in_b;
  const Buffer* bias;
  const Buffer* out;
  const Buffer* out2;
};

Event conv_on_buffers(Runtime& rt, ConvPass pass, const Conv2d& d, const ConvBuffers& b, ConvAlgo algo,
                      Spread spread);

}  // namespace anycl::detail
