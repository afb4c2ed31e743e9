#include "sched/host_block.hpp"

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

}  // namespace

void enqueue_block_write(const DeviceSlot& slot, cl_mem buffer, const HostBlock& b) {
  if (b.rows == 0 || b.row_bytes == 0) return;
  const cl_command_queue q = slot.queue.get();
  if (contiguous(b)) {
    check(clEnqueueWriteBuffer(q, buffer, CL_FALSE, b.device_offset, b.row_bytes * b.rows, b.host, 0, nullptr, nullptr),
          "clEnqueueWriteBuffer", slot.where());
    return;
  }
  const Rect r(b);
  check(clEnqueueWriteBufferRect(q, buffer, CL_FALSE, r.buffer_origin, r.host_origin, r.region, b.row_bytes, 0,
                                 b.pitch, 0, b.host, 0, nullptr, nullptr),
        "clEnqueueWriteBufferRect", slot.where());
}

void enqueue_block_read(const DeviceSlot& slot, cl_mem buffer, const HostBlock& b) {
  if (b.rows == 0 || b.row_bytes == 0) return;
  const cl_command_queue q = slot.queue.get();
  if (contiguous(b)) {
    check(clEnqueueReadBuffer(q, buffer, CL_FALSE, b.device_offset, b.row_bytes * b.rows, b.host, 0, nullptr, nullptr),
          "clEnqueueReadBuffer", slot.where());
    return;
  }
  const Rect r(b);
  check(clEnqueueReadBufferRect(q, buffer, CL_FALSE, r.buffer_origin, r.host_origin, r.region, b.row_bytes, 0,
                                b.pitch, 0, b.host, 0, nullptr, nullptr),
        "clEnqueueReadBufferRect", slot.where());
}

void finish_queue(const DeviceSlot& slot) { check(clFinish(slot.queue.get()), "clFinish", slot.where()); }

}  // namespace anycl::detail
