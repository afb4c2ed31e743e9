// Reusable scratch buffers of one device (packing panels, im2col columns).
#pragma once

#include <boost/compute/buffer.hpp>
#include <boost/compute/context.hpp>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl::detail {

// A buffer may go back to the pool as soon as the work using it is *enqueued*: the device's
// queue is in-order, so the next user's commands run after the previous user's.
class WorkspacePool {
 public:
  // `what` names the buffer in the error when a new one cannot be allocated. `exact`: only a
  // buffer of exactly `bytes` will do (see HostBuffer).
  boost::compute::buffer acquire(const boost::compute::context& ctx, const DeviceInfo& device, std::size_t bytes,
                                 const char* what = "workspace", bool exact = false);
  void release(boost::compute::buffer buffer);
  // Drops every pooled buffer. Commands still queued on one keep it alive until they finish.
  void clear();

 private:
  static constexpr std::size_t kKeepBytes = std::size_t(512) << 20;  // beyond this, let buffers go
  std::mutex mu_;
  std::vector<boost::compute::buffer> free_;
};

// The product of `factors`, saturating at SIZE_MAX: a workspace too big for size_t is then refused
// by the allocation check (ANYCL_ERROR_OUT_OF_MEMORY) instead of wrapping around to a small size.
inline std::size_t workspace_bytes(std::initializer_list<std::size_t> factors) {
  std::size_t r = 1;
  for (std::size_t f : factors)
    if (__builtin_mul_overflow(r, f, &r)) return SIZE_MAX;
  return r;
}

// Holds a workspace buffer for one call and hands it back to the pool on scope exit.
class Workspace {
 public:
  Workspace(WorkspacePool& pool, const boost::compute::context& ctx, const DeviceInfo& device, std::size_t bytes)
      : pool_(pool), buffer_(pool.acquire(ctx, device, bytes)) {}
  ~Workspace() { pool_.release(std::move(buffer_)); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  cl_mem mem() const { return buffer_.get(); }

 private:
  WorkspacePool& pool_;
  boost::compute::buffer buffer_;
};

}  // namespace anycl::detail
