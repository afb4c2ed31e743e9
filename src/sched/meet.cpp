#include "sched/meet.hpp"

#include "runtime/launch.hpp"

namespace anycl::detail {

std::vector<const DeviceSlot*> slots_of(Engine& rt, const std::vector<std::size_t>& devices) {
  std::vector<const DeviceSlot*> slots;
  for (std::size_t i : devices) slots.push_back(&rt.slot(i));
  return slots;
}

void meet(const std::vector<const DeviceSlot*>& slots) {
  std::vector<Event> markers;
  std::vector<cl_event> all;
  for (const DeviceSlot* s : slots) all.push_back(markers.emplace_back(enqueue_marker(*s)).native());
  for (const DeviceSlot* s : slots) enqueue_wait(*s, all);
}

void gather(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots) {
  std::vector<Event> ends;
  std::vector<cl_event> natives;
  for (const DeviceSlot* s : slots)
    if (s != &home) natives.push_back(ends.emplace_back(enqueue_marker(*s)).native());
  enqueue_wait(home, natives);
}

Event join(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots) {
  gather(home, slots);
  return Event(enqueue_marker(home));
}

}  // namespace anycl::detail
