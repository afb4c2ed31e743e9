#include "runtime/huge_page_buffer.hpp"

#include <sys/mman.h>

#include <cstdlib>

#include "runtime/buffer_impl.hpp"
#include "runtime/device.hpp"
#include "runtime/error.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

namespace {

constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kMinBytes = 2 * kHugePage;  // below this, rounding up to whole pages wastes too much

void CL_CALLBACK free_host_memory(cl_mem, void* memory) { std::free(memory); }

boost::compute::buffer create_huge_page_buffer(cl_context ctx, const DeviceInfo& device, std::size_t bytes,
                                               const char* what) {
  const std::size_t rounded = ceil_div(bytes, kHugePage) * kHugePage;
  void* memory = std::aligned_alloc(kHugePage, rounded);
  if (!memory)
    fail(ANYCL_ERROR_OUT_OF_MEMORY, std::string(what) + ": host allocation of " + std::to_string(rounded) +
                                        " bytes for " + device_label(device) + " failed");
  madvise(memory, rounded, MADV_HUGEPAGE);  // advice only: without THP the pages stay 4 KiB
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, memory, &err);
  if (err == CL_SUCCESS) err = clSetMemObjectDestructorCallback(mem, free_host_memory, memory);
  if (err != CL_SUCCESS) {
    if (mem) clReleaseMemObject(mem);  // a destructor callback that failed to register never runs
    std::free(memory);
  }
  check(err, ("clCreateBuffer(" + std::string(what) + ", " + std::to_string(bytes) + " bytes, huge pages)").c_str(),
        device_label(device));
  return boost::compute::buffer(mem, false);
}

}  // namespace

boost::compute::buffer allocate_buffer(cl_context ctx, const DeviceInfo& device, std::size_t bytes, const char* what) {
  if (device.type != "cpu" || !device.unified_memory || bytes < kMinBytes)
    return create_buffer(ctx, device, bytes, CL_MEM_READ_WRITE, nullptr, what);
  check_allocation(device, bytes, what);
  return create_huge_page_buffer(ctx, device, bytes, what);
}

}  // namespace anycl::detail
