#include <utility>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/huge_page_buffer.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

void check_allocation(const DeviceInfo& device, std::size_t bytes, const char* what) {
  const std::string where = device_label(device), prefix = what ? std::string(what) + ": " : std::string();
  if (bytes == 0) fail(ANYCL_ERROR_INVALID_ARGUMENT, prefix + "cannot allocate 0 bytes on " + where);
  if (bytes > device.max_alloc)
    fail(ANYCL_ERROR_OUT_OF_MEMORY, prefix + "allocation of " + std::to_string(bytes) + " bytes on " + where +
                                        " exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE (" + std::to_string(device.max_alloc) +
                                        " bytes)");
  if (bytes > device.global_mem)
    fail(ANYCL_ERROR_OUT_OF_MEMORY, prefix + "allocation of " + std::to_string(bytes) + " bytes on " + where +
                                        " exceeds CL_DEVICE_GLOBAL_MEM_SIZE (" + std::to_string(device.global_mem) +
                                        " bytes)");
}

boost::compute::buffer create_buffer(cl_context ctx, const DeviceInfo& device, std::size_t bytes, cl_mem_flags flags,
                                     void* host, const char* what) {
  check_allocation(device, bytes, what);
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(ctx, flags, bytes, host, &err);
  check(err, ("clCreateBuffer(" + std::string(what) + ", " + std::to_string(bytes) + " bytes)").c_str(),
        device_label(device));
  return boost::compute::buffer(mem, false);
}

void check_operand(const Buffer* buffer, std::size_t offset, std::size_t elems, std::size_t elem_size,
                   std::size_t device, const std::string& function, const char* name) {
  if (elems == 0) return;
  const std::string what = function + ": buffer " + name;
  if (!buffer || !*buffer) fail(ANYCL_ERROR_INVALID_ARGUMENT, what + " is empty");
  if (buffer->device() != device)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, what + " lives on device " + std::to_string(buffer->device()) +
                                           ", the output on device " + std::to_string(device));
  const std::size_t have = buffer->bytes() / elem_size;
  if (offset > have || elems > have - offset)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, what + " holds " + std::to_string(have) + " elements; offset " +
                                           std::to_string(offset) + " + extent " + std::to_string(elems) +
                                           " does not fit");
}

}  // namespace anycl::detail

namespace anycl {

Event::Event(cl_event e) : ev_(e) {}
Event::Event(const Event& other) : ev_(other.ev_) {
  if (ev_) clRetainEvent(ev_);
}
Event& Event::operator=(Event other) {
  std::swap(ev_, other.ev_);
  return *this;
}
Event::~Event() {
  if (ev_) clReleaseEvent(ev_);
}
void Event::wait() const {
  if (ev_) detail::check(clWaitForEvents(1, &ev_), "clWaitForEvents", "an anycl event");
}

std::size_t Buffer::bytes() const noexcept { return impl_ ? impl_->bytes : 0; }
std::size_t Buffer::device() const noexcept { return impl_ ? impl_->device : 0; }
cl_mem Buffer::native() const noexcept { return impl_ ? impl_->buffer.get() : nullptr; }

}  // namespace anycl
