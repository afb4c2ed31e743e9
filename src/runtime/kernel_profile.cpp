#include "runtime/kernel_profile.hpp"

#include <algorithm>

namespace anycl::detail {
namespace {

bool completed(cl_event ev) {
  cl_int status = CL_QUEUED;
  return clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, nullptr) == CL_SUCCESS &&
         status == CL_COMPLETE;
}

// The launch's device time; negative when the driver reports none (a failed launch).
double device_ms(cl_event ev) {
  cl_ulong start = 0, end = 0;
  if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, nullptr) != CL_SUCCESS ||
      clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, nullptr) != CL_SUCCESS || end < start)
    return -1;
  return double(end - start) * 1e-6;
}

}  // namespace

void KernelProfile::record(const char* kernel, cl_event ev) noexcept {
  if (!enabled() || !ev) return;
  // Retained before it is shared: a concurrent read() may release the profile's reference at once.
  if (clRetainEvent(ev) != CL_SUCCESS) return;
  Pending p{{}, decltype(Pending::event)(ev)};
  try {
    p.kernel = kernel;
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= fold_at_) {
      fold_completed_locked();
      fold_at_ = std::max(kFoldAt, 2 * pending_.size());  // many still running: fold less often
    }
    pending_.push_back(std::move(p));
  } catch (...) {
    // Out of memory: the sample is lost (p releases its reference), the launch is not.
  }
}

void KernelProfile::add_locked(const std::string& kernel, double ms) {
  auto it = std::find_if(done_.begin(), done_.end(), [&](const auto& s) { return s.first == kernel; });
  if (it == done_.end()) it = done_.insert(done_.end(), {kernel, {}});
  it->second.push_back(ms);
}

// Reads the completed launches now; running ones stay pending. Should adding a time fail (out of
// memory), that launch and the rest stay pending for the next read.
void KernelProfile::fold_completed_locked() noexcept {
  std::size_t keep = 0;
  bool folding = true;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (folding && completed(pending_[i].event.get())) {
      try {
        const double ms = device_ms(pending_[i].event.get());
        if (ms >= 0) add_locked(pending_[i].kernel, ms);
        continue;  // its event is released with the tail below
      } catch (...) {
        folding = false;
      }
    }
    if (keep != i) std::swap(pending_[keep], pending_[i]);
    ++keep;
  }
  pending_.erase(pending_.begin() + std::ptrdiff_t(keep), pending_.end());
}

KernelProfile::Series KernelProfile::read() {
  // Waiting happens outside the lock: a launch may wait on a user event that another thread
  // opens only after enqueueing (and recording) more launches.
  std::vector<Pending> taken;
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(pending_);
    generation = generation_;
  }
  std::vector<double> ms(taken.size(), -1);
  for (std::size_t i = 0; i < taken.size(); ++i) {
    cl_event ev = taken[i].event.get();
    if (clWaitForEvents(1, &ev) == CL_SUCCESS && completed(ev)) ms[i] = device_ms(ev);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (generation == generation_)  // else a clear() came in between: these launches are gone
    for (std::size_t i = 0; i < taken.size(); ++i)
      if (ms[i] >= 0) add_locked(taken[i].kernel, ms[i]);
  return done_;
}

void KernelProfile::clear() {
  std::vector<Pending> dropped;  // released after the lock
  std::lock_guard<std::mutex> lock(mu_);
  dropped.swap(pending_);
  done_.clear();
  ++generation_;
}

}  // namespace anycl::detail
