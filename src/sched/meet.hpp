// Ordering several devices' queues against each other without the host waiting: the points where
// a split call's devices meet.
#pragma once

#include <vector>

#include "sched/engine.hpp"

namespace anycl::detail {

// The slots of these devices, in order: the lists the functions below take.
std::vector<const DeviceSlot*> slots_of(Engine& rt, const std::vector<std::size_t>& devices);

// Nothing queued after this on any slot starts before everything queued so far on every slot
// ended: the end of a stage on all devices.
void meet(const std::vector<const DeviceSlot*>& slots);

// The end of an asynchronous split call on device buffers (its start is a Gate, gate.hpp). The
// caller's buffers belong to `home`, whose in-order queue orders the caller's work: `gather`
// makes home's later commands wait until every slot has finished its part; `join` gathers and
// returns the event of the whole call (a marker on home).
void gather(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots);
Event join(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots);

}  // namespace anycl::detail
