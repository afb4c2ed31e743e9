// A device view of caller memory for the duration of one host-pointer call.
#pragma once

#include <boost/compute/buffer.hpp>
#include <cstddef>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

class HostBuffer {
 public:
  // Zero-copy (CL_MEM_USE_HOST_PTR) where the device shares host memory and the pointer meets
  // CL_DEVICE_MEM_BASE_ADDR_ALIGN; otherwise a device copy, filled when `upload` is true.
  // With `async_upload`, a device copy is filled by a non-blocking write on the slot's queue
  // instead (uploads to several devices then overlap); the caller keeps `host` alive until that
  // queue is finished, and other queues reading the buffer wait for upload_event().
  HostBuffer(const DeviceSlot& slot, const void* host, std::size_t bytes, bool upload, bool async_upload = false);

  cl_mem mem() const noexcept { return buffer_.get(); }
  bool zero_copy() const noexcept { return zero_copy_; }
  cl_event upload_event() const noexcept { return upload_.native(); }  // null unless async

  // Makes device writes visible in the caller's memory; blocks until done.
  void download(const DeviceSlot& slot);

 private:
  boost::compute::buffer buffer_;
  void* host_;
  std::size_t bytes_;
  bool zero_copy_;
  Event upload_;
};

}  // namespace anycl::detail
