// What a Buffer holds.
#pragma once

#include <boost/compute/buffer.hpp>

#include <memory>
#include <string>

#include "anycl/runtime.hpp"

namespace anycl::detail {

struct DeviceSlot;

class BufferImpl {
 public:
  BufferImpl(boost::compute::buffer buffer, std::size_t device, std::size_t bytes)
      : buffer(std::move(buffer)), device(device), bytes(bytes) {}
  boost::compute::buffer buffer;
  std::size_t device;
  std::size_t bytes;
  boost::compute::buffer caller;  // the caller's cl_mem a wrapped sub-buffer was cut from, retained
};

// A caller's cl_mem as `bytes` bytes from byte `offset` (bytes 0: up to its end), without a copy:
// the memory object itself at offset 0, else a sub-buffer (offsets a multiple of the device's
// CL_DEVICE_MEM_BASE_ADDR_ALIGN). It must belong to the slot's context; `function` names the call
// in errors, which leave the caller's object untouched.
std::shared_ptr<BufferImpl> wrap_buffer(const DeviceSlot& slot, std::size_t device, cl_mem mem, std::size_t offset,
                                        std::size_t bytes, const std::string& function);

// The caller's host memory as a buffer used in place (CL_MEM_USE_HOST_PTR), refused with
// ANYCL_ERROR_UNSUPPORTED unless the slot's device shares host memory and `host` meets its
// CL_DEVICE_MEM_BASE_ADDR_ALIGN (elsewhere the driver would keep a copy of its own).
std::shared_ptr<BufferImpl> wrap_host_memory(const DeviceSlot& slot, std::size_t device, void* host, std::size_t bytes,
                                             const std::string& function);

// Refuses (ANYCL_ERROR_OUT_OF_MEMORY) what the device cannot hold, before the driver sees it;
// `what` (if given) names the buffer in the message.
void check_allocation(const DeviceInfo& device, std::size_t bytes, const char* what = nullptr);

// check_allocation, then clCreateBuffer; `what` names the buffer in error messages.
boost::compute::buffer create_buffer(cl_context ctx, const DeviceInfo& device, std::size_t bytes, cl_mem_flags flags,
                                     void* host, const char* what);

// A caller's buffer must be on `device` and hold `elems` elements of `elem_size` bytes from
// element `offset`; otherwise ANYCL_ERROR_INVALID_ARGUMENT "<function>: buffer <name> ...".
// Nothing is required when elems is 0 (the operand is not touched).
void check_operand(const Buffer* buffer, std::size_t offset, std::size_t elems, std::size_t elem_size,
                   std::size_t device, const std::string& function, const char* name);

}  // namespace anycl::detail
