#include "runtime/launch.hpp"

#include <atomic>

namespace anycl::detail {

namespace {
std::atomic<cl_command_queue> failing_queue{nullptr};
}

void fail_next_enqueue(const DeviceSlot& slot) { failing_queue = slot.queue.get(); }

cl_event enqueue(const DeviceSlot& slot, const boost::compute::kernel& k, Range3 global, Range3 local,
                 const char* kernel_name, Range3 offset) {
  for (auto& l : local) l = std::max<std::size_t>(l, 1);
  while (local[0] * local[1] * local[2] > slot.info.max_work_group_size) {
    auto& biggest = local[0] >= local[1] ? (local[0] >= local[2] ? local[0] : local[2])
                                         : (local[1] >= local[2] ? local[1] : local[2]);
    biggest = (biggest + 1) / 2;
  }
  cl_command_queue armed = slot.queue.get();
  if (failing_queue.compare_exchange_strong(armed, nullptr))
    check(CL_OUT_OF_RESOURCES, (std::string("clEnqueueNDRangeKernel(") + kernel_name + ") [injected]").c_str(),
          slot.where());
  // No work-items: OpenCL 1.2 refuses a zero extent, and one stray work-item at an offset would
  // touch a part of the index space another device owns.
  if (global[0] == 0 || global[1] == 0 || global[2] == 0) return enqueue_marker(slot);
  for (int d = 0; d < 3; ++d) global[d] = ceil_div(global[d], local[d]) * local[d];
  cl_event ev = nullptr;
  check(clEnqueueNDRangeKernel(slot.queue.get(), k.get(), 3, offset.data(), global.data(), local.data(), 0, nullptr, &ev),
        (std::string("clEnqueueNDRangeKernel(") + kernel_name + ")").c_str(), slot.where());
  slot.profile->record(kernel_name, ev);
  return ev;
}

cl_event enqueue_marker(const DeviceSlot& slot) {
  cl_event ev = nullptr;
  check(clEnqueueMarkerWithWaitList(slot.queue.get(), 0, nullptr, &ev), "clEnqueueMarkerWithWaitList", slot.where());
  return ev;
}

void enqueue_wait(const DeviceSlot& slot, const std::vector<cl_event>& events) {
  if (events.empty()) return;
  check(clEnqueueBarrierWithWaitList(slot.queue.get(), cl_uint(events.size()), events.data(), nullptr),
        "clEnqueueBarrierWithWaitList", slot.where());
}

}  // namespace anycl::detail
