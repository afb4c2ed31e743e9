// Waiting for queues when a call throws part-way.
#pragma once

#include <exception>
#include <vector>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// Declared after the memory a call's queues use (host staging, the caller's tensors under
// non-blocking copies, buffers other devices share): when the call throws part-way, the other
// queues still have work on that memory, so the unwinding waits for every added queue first.
// A call that returns normally has finished its queues itself, so nothing waits twice.
class FinishOnUnwind {
 public:
  FinishOnUnwind() : exceptions_(std::uncaught_exceptions()) {}
  FinishOnUnwind(const FinishOnUnwind&) = delete;
  FinishOnUnwind& operator=(const FinishOnUnwind&) = delete;
  ~FinishOnUnwind() {
    if (std::uncaught_exceptions() > exceptions_)
      for (const DeviceSlot* s : slots_) clFinish(s->queue.get());  // errors were reported already
  }
  void add(const DeviceSlot& slot) { slots_.push_back(&slot); }
  void add(const std::vector<const DeviceSlot*>& slots) { slots_.insert(slots_.end(), slots.begin(), slots.end()); }

 private:
  int exceptions_;
  std::vector<const DeviceSlot*> slots_;
};

}  // namespace anycl::detail
