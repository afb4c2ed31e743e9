// Device views of one convolution pass's host tensors on one device, for one call.
#pragma once

#include <memory>

#include "ops/conv2d_passes.hpp"
#include "runtime/host_buffer.hpp"

namespace anycl::detail {

// A pass's host tensors by their shape, as ConvTensorSet names them; the pass's inputs are only
// read. kvec may be null (no bias, no dbias).
struct ConvHostSet {
  float* nchw;
  float* kcrs;
  float* nkpq;
  float* kvec;
};

class ConvHostViews {
 public:
  // Inputs are zero-copy where the device can view them, outputs device copies (host_buffer.hpp).
  // async_upload: inputs a device must copy are written without blocking.
  ConvHostViews(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, const ConvHostSet& host,
                bool async_upload = false);
  const ConvTensorSet& tensors() const noexcept { return set_; }
  // Makes the outputs visible in host memory; blocks until the device is done. With two outputs
  // (dw and dbias) a failing read changes neither.
  void download(const DeviceSlot& slot);

 private:
  std::unique_ptr<HostBuffer> main_out_, kvec_out_;
  std::unique_ptr<HostBuffer> inputs_[3];
  ConvTensorSet set_{};
};

}  // namespace anycl::detail
