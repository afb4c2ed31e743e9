// Device buffers for anycl's own use: big ones on CPU devices backed by 2 MiB pages.
#pragma once

#include <boost/compute/buffer.hpp>

#include "anycl/runtime.hpp"

namespace anycl::detail {

// A read-write buffer of `bytes` (workspaces, Runtime::alloc), checked like create_buffer; `what`
// names it in errors. On a CPU device a big one lives in host memory allocated 2 MiB-aligned and
// advised for transparent huge pages (MADV_HUGEPAGE; the kernel gives 4 KiB pages when it has none
// or THP is off), freed when OpenCL destroys the buffer. Why: POCL computes in memory it gets from
// malloc, in 4 KiB pages, and the Winograd buffers of a 64-channel 56x56 layer span 70 MB; with
// huge pages that layer ran about 5% faster on POCL, on one core and on two. Not on GPUs: an
// integrated GPU may reach host-pointer buffers more slowly than its own memory.
boost::compute::buffer allocate_buffer(cl_context ctx, const DeviceInfo& device, std::size_t bytes, const char* what);

}  // namespace anycl::detail
