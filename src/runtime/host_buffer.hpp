// A device view of caller memory for the duration of one host-pointer call.
#pragma once

#include <boost/compute/buffer.hpp>
#include <cstddef>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// What a call does with the caller's memory.
enum class HostAccess {
  Read,       // an input: the device only reads it
  Write,      // an output: written completely, its old contents are not needed
  ReadWrite,  // an output whose old contents the device reads (C with beta != 0, gaps)
};

// The alignment a zero-copy view of host memory needs: CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes.
std::size_t host_base_align(const DeviceSlot& slot);

// Whether the device can read `host` in place (a zero-copy view): it shares host memory and the
// pointer meets CL_DEVICE_MEM_BASE_ADDR_ALIGN.
bool host_view_possible(const DeviceSlot& slot, const void* host);

// Bytes a zero-copy view of `host` starts before it so that the view meets the device's base
// alignment, or -1 where no view is possible: the device does not share host memory, or the
// view would have to begin on an earlier page (which need not be mapped) or mid-element.
long host_view_lead(const DeviceSlot& slot, const void* host, std::size_t elem_size);

class HostBuffer {
 public:
  // Inputs are zero-copy (CL_MEM_USE_HOST_PTR) where the device shares host memory and the
  // pointer meets CL_DEVICE_MEM_BASE_ADDR_ALIGN; otherwise, and for every output, a device copy.
  // Device copies come from the slot's workspace pool: a fresh multi-megabyte buffer per call
  // cost POCL a page fault per 4 KiB (3-5 ms on a 6 MB convolution, a fifth of the call).
  // Outputs are never zero-copy: the caller's memory changes only in download(), after every
  // kernel of the call was enqueued and ran, so a call that fails leaves its outputs untouched.
  // With `async_upload`, a device copy is filled by a non-blocking write on the slot's queue
  // instead of at creation (uploads to several devices then overlap); the caller keeps `host`
  // alive until that queue is finished, and other queues reading the buffer wait for
  // upload_event().
  // With `elem_size`, an input view may also start up to the base alignment before `host`
  // (malloc returns 16-byte aligned blocks, so NumPy's large arrays sit 16 bytes past a page);
  // kernels then read the operand from element offset(), and never the bytes before it.
  HostBuffer(const DeviceSlot& slot, const void* host, std::size_t bytes, HostAccess access,
             bool async_upload = false, std::size_t elem_size = 0);
  // Waits for the device before the view goes away: a failed host-pointer call returns with
  // nothing of it still running, so no queued kernel reads a zero-copy input after the caller got
  // the error back. After a successful call the queue is already idle (download() blocks).
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  cl_mem mem() const noexcept { return buffer_.get(); }
  bool zero_copy() const noexcept { return zero_copy_; }
  std::size_t offset() const noexcept { return offset_; }  // elements from mem() to `host`
  cl_event upload_event() const noexcept { return upload_.native(); }  // null unless async
  void* host() const noexcept { return host_; }
  std::size_t bytes() const noexcept { return bytes_; }

  // Copies the device's result into the caller's memory, or into `elsewhere` when given (outputs
  // only); blocks until done.
  void download(const DeviceSlot& slot, void* elsewhere = nullptr);

 private:
  WorkspacePool* pool_;  // where a device copy goes back to; null for a zero-copy view
  boost::compute::buffer buffer_;
  cl_command_queue queue_;
  void* host_;
  std::size_t bytes_;
  HostAccess access_;
  bool zero_copy_;
  std::size_t offset_ = 0;
  Event upload_;
};

}  // namespace anycl::detail
