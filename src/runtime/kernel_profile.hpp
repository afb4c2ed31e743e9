// Per-kernel device times of one device's launches, kept while profiling is on
// (anycl/profile.hpp). Queues are created with CL_QUEUE_PROFILING_ENABLE, so every launch's event
// carries its device start and end.
#pragma once

#include <CL/cl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace anycl::detail {

class KernelProfile {
 public:
  // Per kernel name, in the order first launched: each launch's device time in milliseconds.
  using Series = std::vector<std::pair<std::string, std::vector<double>>>;

  KernelProfile() = default;
  KernelProfile(const KernelProfile&) = delete;
  KernelProfile& operator=(const KernelProfile&) = delete;

  void set_enabled(bool on) noexcept { enabled_.store(on, std::memory_order_relaxed); }
  bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }

  // Keeps `ev` (retained until read) under `kernel` when profiling is on. Never throws: the
  // launch has been enqueued already, and a sample that cannot be kept is only a lost sample.
  void record(const char* kernel, cl_event ev) noexcept;

  // Every launch recorded since the last clear; waits for launches still running.
  Series read();
  void clear();

 private:
  struct ReleaseEvent {
    void operator()(cl_event ev) const noexcept { clReleaseEvent(ev); }
  };
  struct Pending {
    std::string kernel;
    std::unique_ptr<std::remove_pointer_t<cl_event>, ReleaseEvent> event;  // one retained reference
  };

  // Launches kept before the completed ones are folded into times: a long profiled run then
  // holds a few thousand events, not one per launch (more only while that many are running).
  static constexpr std::size_t kFoldAt = 4096;

  void add_locked(const std::string& kernel, double ms);
  void fold_completed_locked() noexcept;

  std::atomic<bool> enabled_{false};
  std::mutex mu_;                  // guards everything below
  std::vector<Pending> pending_;   // retained events not read yet
  Series done_;                    // times of the events read already
  std::size_t fold_at_ = kFoldAt;  // pending events that make record() fold the completed ones
  std::uint64_t generation_ = 0;   // bumped by clear(): a read in flight then drops its events
};

}  // namespace anycl::detail
