// Running one convolution pass on one device: the algorithm switch shared by the buffer API,
// the host-pointer wrappers and the multi-device scheduler.
#pragma once

#include "ops/conv2d_geometry.hpp"
#include "ops/conv2d_select.hpp"
#include "runtime/host_buffer.hpp"

#include <memory>

namespace anycl::detail {

const char* pass_name(ConvPass pass);  // "conv2d_forward", ...

// The most one convolution workspace may take on the slot: the runtime's limit, and no more than
// one allocation on the device can be (bigger problems run in chunks of images).
std::size_t conv_workspace_cap(const RuntimeImpl& rt, const DeviceSlot& slot);

// Elements of the pass's main output: y (forward), dx (backward-data) or dw (backward-weights).
std::size_t output_elems(ConvPass pass, const Conv2d& d);

// Auto's choice, or the forced algorithm when it applies (else ANYCL_ERROR_UNSUPPORTED).
ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo);

// One pass of a validated problem on device buffers of `device`. In `t`, x/w/bias/y play the
// pass's roles: backward-data writes t.x (dx) from t.y (dy); backward-weights writes t.w (dw)
// and t.bias (dbias).
Event dispatch_conv(RuntimeImpl& rt, std::size_t device, ConvPass pass, const Conv2d& d, const ConvTensors& t,
                    ConvAlgo algo);

// One pass's host tensors in the API's roles: forward (x, w, bias) -> y; backward-data (dy, w)
// -> dx; backward-weights (x, dy) -> dw, dbias. bias and out2 may be null.
struct ConvHostTensors {
  const float* in_a;
  const float* in_b;
  const float* bias;
  float* out;
  float* out2;
};

// Device views (zero-copy where possible) of those tensors on one device, for one call.
class ConvHostViews {
 public:
  // async_upload: inputs a device must copy are written without blocking (see HostBuffer).
  ConvHostViews(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, const ConvHostTensors& host,
                bool async_upload = false);
  const ConvTensors& tensors() const noexcept { return t_; }
  // Makes the outputs visible in host memory; blocks until the device is done.
  void download(const DeviceSlot& slot);

 private:
  ConvPass pass_;
  std::unique_ptr<HostBuffer> a_, b_, o_, extra_;
  ConvTensors t_{};
};

}  // namespace anycl::detail
