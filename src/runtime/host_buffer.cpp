#include "runtime/host_buffer.hpp"

#include <cstdint>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"

namespace anycl::detail {

HostBuffer::HostBuffer(const DeviceSlot& slot, const void* host, std::size_t bytes, HostAccess access,
                       bool async_upload)
    : queue_(slot.queue.get()), host_(const_cast<void*>(host)), bytes_(bytes), access_(access) {
  const std::size_t align = slot.info.mem_base_addr_align_bytes ? slot.info.mem_base_addr_align_bytes : 128;
  zero_copy_ = access == HostAccess::Read && slot.info.unified_memory &&
               reinterpret_cast<std::uintptr_t>(host) % align == 0;
  const bool upload = access != HostAccess::Write && !zero_copy_;
  const bool copy_at_creation = upload && !async_upload;
  cl_mem_flags flags = CL_MEM_READ_WRITE;
  if (zero_copy_) flags |= CL_MEM_USE_HOST_PTR;
  else if (copy_at_creation) flags |= CL_MEM_COPY_HOST_PTR;
  buffer_ = create_buffer(slot.context->get(), slot.info, bytes, flags, (zero_copy_ || copy_at_creation) ? host_ : nullptr,
                          access == HostAccess::Read ? "host input view" : "host output copy");
  if (upload && async_upload) {
    cl_event ev = nullptr;
    check(clEnqueueWriteBuffer(queue_, mem(), CL_FALSE, 0, bytes, host_, 0, nullptr, &ev), "clEnqueueWriteBuffer",
          slot.where());
    upload_ = Event(ev);
  }
}

HostBuffer::~HostBuffer() {
  clFinish(queue_);  // nothing to report from a destructor: the call already failed or finished
}

void HostBuffer::download(const DeviceSlot& slot, void* elsewhere) {
  if (access_ == HostAccess::Read) fail(ANYCL_ERROR_INTERNAL, "HostBuffer::download of an input view");
  check(clEnqueueReadBuffer(slot.queue.get(), mem(), CL_TRUE, 0, bytes_, elsewhere ? elsewhere : host_, 0, nullptr,
                            nullptr),
        "clEnqueueReadBuffer", slot.where());
}

}  // namespace anycl::detail
