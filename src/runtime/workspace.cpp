#include "runtime/workspace.hpp"

#include <algorithm>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/huge_page_buffer.hpp"

namespace anycl::detail {

boost::compute::buffer WorkspacePool::acquire(const boost::compute::context& ctx, const DeviceInfo& device,
                                              std::size_t bytes, const char* what, bool exact) {
  bytes = std::max<std::size_t>(bytes, exact ? 1 : 64);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if ((exact ? it->size() == bytes : it->size() >= bytes) && (best == free_.end() || it->size() < best->size()))
        best = it;
    if (best != free_.end()) {
      boost::compute::buffer b = std::move(*best);
      free_.erase(best);
      return b;
    }
  }
  return allocate_buffer(ctx.get(), device, bytes, what);
}

void WorkspacePool::release(boost::compute::buffer buffer) {
  if (!buffer.get()) return;
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(buffer));
  std::size_t total = 0;
  for (const auto& b : free_) total += b.size();
  // Drop the largest first: they are the rarest to be reused exactly.
  while (total > kKeepBytes && !free_.empty()) {
    auto largest = std::max_element(free_.begin(), free_.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    total -= largest->size();
    free_.erase(largest);
  }
}

void WorkspacePool::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  free_.clear();
}

}  // namespace anycl::detail
