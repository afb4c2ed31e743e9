#include "runtime/host_buffer.hpp"

#include <cstdint>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"

namespace anycl::detail {

std::size_t host_base_align(const DeviceSlot& slot) {
  return slot.info.mem_base_addr_align_bytes ? slot.info.mem_base_addr_align_bytes : 128;
}

bool host_view_possible(const DeviceSlot& slot, const void* host) {
  return slot.info.unified_memory && reinterpret_cast<std::uintptr_t>(host) % host_base_align(slot) == 0;
}

long host_view_lead(const DeviceSlot& slot, const void* host, std::size_t elem_size) {
  constexpr std::size_t page = 4096;  // the smallest page size of the hosts anycl runs on
  const std::size_t align = host_base_align(slot);
  const std::size_t lead = reinterpret_cast<std::uintptr_t>(host) % align;
  if (!slot.info.unified_memory || align > page || elem_size == 0 || lead % elem_size != 0) return -1;
  return static_cast<long>(lead);
}

HostBuffer::HostBuffer(const DeviceSlot& slot, const void* host, std::size_t bytes, HostAccess access,
                       bool async_upload, std::size_t elem_size)
    : pool_(nullptr), queue_(slot.queue.get()), host_(const_cast<void*>(host)), bytes_(bytes), access_(access) {
  const long lead = access != HostAccess::Read    ? -1
                    : elem_size                   ? host_view_lead(slot, host, elem_size)
                    : host_view_possible(slot, host) ? 0
                                                  : -1;
  zero_copy_ = lead >= 0;
  const char* what = access == HostAccess::Read ? "host input view" : "host output copy";
  if (zero_copy_) {
    // Read-only: the caller's input may live in read-only memory, and the driver must not treat
    // the view as something to write back.
    buffer_ = create_buffer(slot.context->get(), slot.info, bytes + lead, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR,
                            static_cast<char*>(host_) - lead, what);
    offset_ = elem_size ? static_cast<std::size_t>(lead) / elem_size : 0;
    return;
  }
  // Exactly `bytes`, so an upload covers the whole buffer: Oclgrind 21.10 shrinks a buffer's
  // shadow to the size of a partial host copy and then reports its device-written rest as
  // uninitialised when the buffer serves as scratch later (tests/oclgrind/stale_shadow.cpp).
  buffer_ = slot.workspace->acquire(*slot.context, slot.info, bytes, what, /*exact=*/true);
  pool_ = slot.workspace.get();
  if (access == HostAccess::Write || bytes == 0) return;
  cl_event ev = nullptr;
  check(clEnqueueWriteBuffer(queue_, mem(), async_upload ? CL_FALSE : CL_TRUE, 0, bytes, host_, 0, nullptr,
                             async_upload ? &ev : nullptr),
        "clEnqueueWriteBuffer", slot.where());
  upload_ = Event(ev);
}

HostBuffer::~HostBuffer() {
  clFinish(queue_);  // nothing to report from a destructor: the call already failed or finished
  if (pool_) pool_->release(std::move(buffer_));
}

void HostBuffer::download(const DeviceSlot& slot, void* elsewhere) {
  if (access_ == HostAccess::Read) fail(ANYCL_ERROR_INTERNAL, "HostBuffer::download of an input view");
  check(clEnqueueReadBuffer(slot.queue.get(), mem(), CL_TRUE, 0, bytes_, elsewhere ? elsewhere : host_, 0, nullptr,
                            nullptr),
        "clEnqueueReadBuffer", slot.where());
}

}  // namespace anycl::detail
