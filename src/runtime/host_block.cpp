#include "runtime/host_block.hpp"

#include "runtime/error.hpp"

namespace anycl::detail {

namespace {

bool contiguous(const HostBlock& b) { return b.rows <= 1 || b.pitch == b.row_bytes; }

// The rect origins and region of a block (OpenCL 1.1 rect copies; 2-D, so slice pitches are 0).
struct Rect {
  std::size_t buffer_origin[3], host_origin[3], region[3];
  explicit Rect(const HostBlock& b)
      : buffer_origin{b.device_offset, 0, 0}, host_origin{0, 0, 0}, region{b.row_bytes, b.rows, 1} {}
};

// Both directions: the same block, only the copy's direction differs.
void enqueue_block(const DeviceSlot& slot, cl_mem buffer, const HostBlock& b, bool to_device) {
  if (b.rows == 0 || b.row_bytes == 0) return;
  const cl_command_queue q = slot.queue.get();
  if (contiguous(b)) {
    const std::size_t bytes = b.row_bytes * b.rows;
    check(to_device ? clEnqueueWriteBuffer(q, buffer, CL_FALSE, b.device_offset, bytes, b.host, 0, nullptr, nullptr)
                    : clEnqueueReadBuffer(q, buffer, CL_FALSE, b.device_offset, bytes, b.host, 0, nullptr, nullptr),
          to_device ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer", slot.where());
    return;
  }
  const Rect r(b);
  check(to_device ? clEnqueueWriteBufferRect(q, buffer, CL_FALSE, r.buffer_origin, r.host_origin, r.region,
                                             b.row_bytes, 0, b.pitch, 0, b.host, 0, nullptr, nullptr)
                  : clEnqueueReadBufferRect(q, buffer, CL_FALSE, r.buffer_origin, r.host_origin, r.region,
                                            b.row_bytes, 0, b.pitch, 0, b.host, 0, nullptr, nullptr),
        to_device ? "clEnqueueWriteBufferRect" : "clEnqueueReadBufferRect", slot.where());
}

}  // namespace

void enqueue_block_write(const DeviceSlot& slot, cl_mem buffer, const HostBlock& block) {
  enqueue_block(slot, buffer, block, true);
}

void enqueue_block_read(const DeviceSlot& slot, cl_mem buffer, const HostBlock& block) {
  enqueue_block(slot, buffer, block, false);
}

void finish_queue(const DeviceSlot& slot) { check(clFinish(slot.queue.get()), "clFinish", slot.where()); }

}  // namespace anycl::detail
