#include <utility>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

void check_allocation(const DeviceInfo& device, std::size_t bytes) {
  const std::string where = "device " + device.id + " '" + device.name + "'";
  if (bytes == 0) fail(ANYCL_ERROR_INVALID_ARGUMENT, "cannot allocate 0 bytes on " + where);
  if (bytes > device.max_alloc)
    fail(ANYCL_ERROR_OUT_OF_MEMORY, "allocation of " + std::to_string(bytes) + " bytes on " + where +
                                        " exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE (" + std::to_string(device.max_alloc) +
                                        " bytes)");
  if (bytes > device.global_mem)
    fail(ANYCL_ERROR_OUT_OF_MEMORY, "allocation of " + std::to_string(bytes) + " bytes on " + where +
                                        " exceeds CL_DEVICE_GLOBAL_MEM_SIZE (" + std::to_string(device.global_mem) +
                                        " bytes)");
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

Buffer Runtime::alloc(std::size_t bytes, std::size_t device) {
  detail::DeviceSlot& s = impl_->slot(device);
  detail::check_allocation(s.info, bytes);
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(s.context->get(), CL_MEM_READ_WRITE, bytes, nullptr, &err);
  detail::check(err, ("clCreateBuffer(" + std::to_string(bytes) + " bytes)").c_str(), s.where());
  return Buffer(std::make_shared<detail::BufferImpl>(boost::compute::buffer(mem, false), device, bytes));
}

namespace {
void check_range(const Buffer& b, std::size_t bytes, std::size_t offset, const char* what) {
  if (!b) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(what) + ": empty buffer");
  if (offset > b.bytes() || bytes > b.bytes() - offset)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(what) + ": range [" + std::to_string(offset) + ", +" +
                                                   std::to_string(bytes) + ") exceeds the buffer's " +
                                                   std::to_string(b.bytes()) + " bytes");
}
}  // namespace

void Runtime::write(const Buffer& dst, const void* src, std::size_t bytes, std::size_t offset) {
  check_range(dst, bytes, offset, "Runtime::write");
  if (bytes == 0) return;
  if (!src) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "Runtime::write: null source pointer");
  detail::DeviceSlot& s = impl_->slot(dst.device());
  detail::check(clEnqueueWriteBuffer(s.queue.get(), dst.native(), CL_TRUE, offset, bytes, src, 0, nullptr, nullptr),
                "clEnqueueWriteBuffer", s.where());
}

void Runtime::read(const Buffer& src, void* dst, std::size_t bytes, std::size_t offset) {
  check_range(src, bytes, offset, "Runtime::read");
  if (bytes == 0) return;
  if (!dst) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "Runtime::read: null destination pointer");
  detail::DeviceSlot& s = impl_->slot(src.device());
  detail::check(clEnqueueReadBuffer(s.queue.get(), src.native(), CL_TRUE, offset, bytes, dst, 0, nullptr, nullptr),
                "clEnqueueReadBuffer", s.where());
}

}  // namespace anycl
