#include "runtime/host_buffer.hpp"

#include <cstdint>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"

namespace anycl::detail {

HostBuffer::HostBuffer(const DeviceSlot& slot, const void* host, std::size_t bytes, bool upload, bool async_upload)
    : host_(const_cast<void*>(host)), bytes_(bytes) {
  const std::size_t align = slot.info.mem_base_addr_align_bytes ? slot.info.mem_base_addr_align_bytes : 128;
  zero_copy_ = slot.info.unified_memory && reinterpret_cast<std::uintptr_t>(host) % align == 0;
  const bool copy_at_creation = upload && !zero_copy_ && !async_upload;
  cl_mem_flags flags = CL_MEM_READ_WRITE;
  if (zero_copy_) flags |= CL_MEM_USE_HOST_PTR;
  else if (copy_at_creation) flags |= CL_MEM_COPY_HOST_PTR;
  buffer_ = create_buffer(slot.context->get(), slot.info, bytes, flags,
                          (zero_copy_ || copy_at_creation) ? host_ : nullptr, "host view");
  if (upload && !zero_copy_ && async_upload) {
    cl_event ev = nullptr;
    check(clEnqueueWriteBuffer(slot.queue.get(), mem(), CL_FALSE, 0, bytes, host_, 0, nullptr, &ev),
          "clEnqueueWriteBuffer", slot.where());
    upload_ = Event(ev);
  }
}

void HostBuffer::download(const DeviceSlot& slot) {
  cl_command_queue q = slot.queue.get();
  if (!zero_copy_) {
    check(clEnqueueReadBuffer(q, mem(), CL_TRUE, 0, bytes_, host_, 0, nullptr, nullptr), "clEnqueueReadBuffer",
          slot.where());
    return;
  }
  // Mapping is how OpenCL promises a USE_HOST_PTR buffer's contents are in host memory.
  cl_int err = CL_SUCCESS;
  void* p = clEnqueueMapBuffer(q, mem(), CL_TRUE, CL_MAP_READ, 0, bytes_, 0, nullptr, nullptr, &err);
  check(err, "clEnqueueMapBuffer", slot.where());
  check(clEnqueueUnmapMemObject(q, mem(), p, 0, nullptr, nullptr), "clEnqueueUnmapMemObject", slot.where());
  check(clFinish(q), "clFinish", slot.where());
}

}  // namespace anycl::detail
