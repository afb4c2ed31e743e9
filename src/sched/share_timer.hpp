// How long each device took for its share of a split call, read from its queue's profiling
// timestamps once the call finished, so the next call's shares can follow (balance.hpp,
// learn_weights). Markers bound each interval: no host waits, nothing serialized.
#pragma once

#include <cstddef>
#include <vector>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

struct ShareTime {
  std::size_t device;
  double fraction;  // of the call's work (or of the stage timed)
  double seconds;
};

class ShareTimer {
 public:
  // Opens an interval on the slot: it starts once everything queued there so far completed.
  // Returns its index for end().
  std::size_t begin(const DeviceSlot& slot, std::size_t device, double fraction);
  // Closes interval `index` after the commands queued since begin().
  void end(const DeviceSlot& slot, std::size_t index);
  // After the queues finished: the closed intervals whose devices report timestamps.
  std::vector<ShareTime> times() const;

 private:
  struct Interval {
    std::size_t device;
    double fraction;
    Event begin, end;
  };
  std::vector<Interval> intervals_;
};

}  // namespace anycl::detail
