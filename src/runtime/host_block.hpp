// Copies between a piece's dense device buffer and its block of the caller's memory: the rows of
// a C block, the images of a batch slice, the channels of an output-channel slice.
#pragma once

#include <cstddef>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// `rows` runs of `row_bytes` in host memory, `pitch` bytes apart from `host` on. On the device the
// runs are packed, from byte `device_offset` of the buffer.
struct HostBlock {
  void* host;
  std::size_t row_bytes, rows, pitch;
  std::size_t device_offset = 0;
};

// Both enqueue without blocking on the slot's queue: `host` must stay valid until it finished.
void enqueue_block_write(const DeviceSlot& slot, cl_mem buffer, const HostBlock& block);
void enqueue_block_read(const DeviceSlot& slot, cl_mem buffer, const HostBlock& block);

// Waits for the slot's queue and reports the first error of its commands.
void finish_queue(const DeviceSlot& slot);

}  // namespace anycl::detail
