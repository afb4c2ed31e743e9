// What a Buffer holds.
#pragma once

#include <boost/compute/buffer.hpp>

#include "anycl/runtime.hpp"

namespace anycl::detail {

class BufferImpl {
 public:
  BufferImpl(boost::compute::buffer buffer, std::size_t device, std::size_t bytes)
      : buffer(std::move(buffer)), device(device), bytes(bytes) {}
  boost::compute::buffer buffer;
  std::size_t device;
  std::size_t bytes;
};

// Refuses (ANYCL_ERROR_OUT_OF_MEMORY) what the device cannot hold, before the driver sees it.
void check_allocation(const DeviceInfo& device, std::size_t bytes);

}  // namespace anycl::detail
