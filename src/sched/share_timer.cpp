#include "sched/share_timer.hpp"

#include "runtime/launch.hpp"

namespace anycl::detail {
namespace {

// When the command finished on its device, in the device's nanoseconds; 0 if not reported.
cl_ulong ended_at(const Event& e) {
  cl_ulong ns = 0;
  if (!e.valid() || clGetEventProfilingInfo(e.native(), CL_PROFILING_COMMAND_END, sizeof ns, &ns, nullptr) != CL_SUCCESS)
    return 0;
  return ns;
}

}  // namespace

std::size_t ShareTimer::begin(const DeviceSlot& slot, std::size_t device, double fraction) {
  intervals_.push_back({device, fraction, Event(enqueue_marker(slot)), Event()});
  return intervals_.size() - 1;
}

void ShareTimer::end(const DeviceSlot& slot, std::size_t index) { intervals_.at(index).end = Event(enqueue_marker(slot)); }

std::vector<ShareTime> ShareTimer::times() const {
  std::vector<ShareTime> out;
  for (const Interval& i : intervals_) {
    const cl_ulong t0 = ended_at(i.begin), t1 = ended_at(i.end);
    if (t0 > 0 && t1 > t0) out.push_back({i.device, i.fraction, double(t1 - t0) * 1e-9});
  }
  return out;
}

}  // namespace anycl::detail
