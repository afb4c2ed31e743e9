// A caller's cl_mem or host memory as an anycl Buffer (docs/interop.md): checked before anything
// is retained or created.
#include <cstdint>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/host_buffer.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {
namespace {

template <typename T>
T mem_info(cl_mem mem, cl_mem_info what, const std::string& function) {
  T value{};
  const cl_int err = clGetMemObjectInfo(mem, what, sizeof(T), &value, nullptr);
  if (err != CL_SUCCESS)
    fail(ANYCL_ERROR_INVALID_ARGUMENT,
         function + ": mem: clGetMemObjectInfo failed: " + cl_error_name(err) + " (not a live buffer?)");
  return value;
}

// The buffer a sub-buffer is cut from, with its offset there: OpenCL makes no sub-buffer of a
// sub-buffer, so a wrapped sub-buffer at an offset is cut from its parent.
struct Base {
  cl_mem mem;
  std::size_t offset;
};

Base base_of(cl_mem mem, std::size_t offset, const std::string& function) {
  const auto parent = mem_info<cl_mem>(mem, CL_MEM_ASSOCIATED_MEMOBJECT, function);
  if (!parent) return {mem, offset};
  return {parent, mem_info<std::size_t>(mem, CL_MEM_OFFSET, function) + offset};
}

cl_mem sub_buffer(const DeviceSlot& slot, cl_mem mem, std::size_t offset, std::size_t bytes,
                  const std::string& function) {
  const Base base = base_of(mem, offset, function);
  const std::size_t align = std::max(1u, slot.info.mem_base_addr_align_bytes);
  if (base.offset % align != 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT,
         function + ": offset " + std::to_string(offset) + " is not a multiple of " + slot.where() +
             "'s CL_DEVICE_MEM_BASE_ADDR_ALIGN (" + std::to_string(align) +
             " bytes); wrap at an aligned offset and pass the rest as the call's element offset (GEMM)");
  const cl_buffer_region region{base.offset, bytes};
  cl_int err = CL_SUCCESS;
  cl_mem sub = clCreateSubBuffer(base.mem, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
  check(err, ("clCreateSubBuffer(mem, offset " + std::to_string(offset) + ", " + std::to_string(bytes) + " bytes)").c_str(),
        slot.where());
  return sub;
}

}  // namespace

std::shared_ptr<BufferImpl> wrap_buffer(const DeviceSlot& slot, std::size_t device, cl_mem mem, std::size_t offset,
                                        std::size_t bytes, const std::string& function) {
  if (!mem) fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": mem is NULL");
  if (mem_info<cl_mem_object_type>(mem, CL_MEM_TYPE, function) != CL_MEM_OBJECT_BUFFER)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": mem is not a buffer (an image?)");
  if (mem_info<cl_context>(mem, CL_MEM_CONTEXT, function) != slot.context->get())
    fail(ANYCL_ERROR_INVALID_ARGUMENT,
         function + ": mem belongs to another OpenCL context than the runtime's " + slot.where());
  const auto size = mem_info<std::size_t>(mem, CL_MEM_SIZE, function);
  if (offset > size || bytes > size - offset)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": mem holds " + std::to_string(size) + " bytes; offset " +
                                           std::to_string(offset) + " + " + std::to_string(bytes) +
                                           " bytes does not fit");
  if (bytes == 0) bytes = size - offset;
  if (bytes == 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": offset " + std::to_string(offset) + " leaves no bytes of mem");
  if (offset == 0) return std::make_shared<BufferImpl>(boost::compute::buffer(mem, true), device, bytes);
  auto impl = std::make_shared<BufferImpl>(
      boost::compute::buffer(sub_buffer(slot, mem, offset, bytes, function), false), device, bytes);
  impl->caller = boost::compute::buffer(mem, true);
  return impl;
}

std::shared_ptr<BufferImpl> wrap_host_memory(const DeviceSlot& slot, std::size_t device, void* host, std::size_t bytes,
                                             const std::string& function) {
  if (!host) fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": host is NULL");
  if (bytes == 0) fail(ANYCL_ERROR_INVALID_ARGUMENT, function + ": bytes is 0");
  if (!slot.info.unified_memory)
    fail(ANYCL_ERROR_UNSUPPORTED, function + ": " + slot.where() +
                                      " does not share host memory (CL_DEVICE_HOST_UNIFIED_MEMORY is false): "
                                      "copy the data into an alloc()ed Buffer instead");
  if (!host_view_possible(slot, host))
    fail(ANYCL_ERROR_UNSUPPORTED,
         function + ": host address is " + std::to_string(reinterpret_cast<std::uintptr_t>(host) % host_base_align(slot)) +
             " bytes past a multiple of " + slot.where() + "'s CL_DEVICE_MEM_BASE_ADDR_ALIGN (" +
             std::to_string(host_base_align(slot)) + " bytes), so the driver would not use it in place");
  return std::make_shared<BufferImpl>(
      create_buffer(slot.context->get(), slot.info, bytes, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, host, "host memory"),
      device, bytes);
}

}  // namespace anycl::detail
