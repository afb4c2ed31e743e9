// The caller's side of an asynchronous device-buffer call (docs/interop.md): the OpenCL events it
// waits for, and the one event that ends it.
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// Refuses an empty event, or one of another context than home's, naming it "<function>: wait[i]".
void check_wait_list(const DeviceSlot& home, const std::vector<Event>& wait, const std::string& function);

// Nothing the call queues on home after this starts before every event completed. A split call's
// other devices start after home's earlier work (gate.hpp), so they wait for the events too.
void enqueue_wait_list(const DeviceSlot& home, const std::vector<Event>& wait);

// ANYCL_CHECK_NUMERICS reads the operands on the host before the call is queued: it waits for
// the caller's events there first.
void wait_on_host(const std::vector<Event>& wait);

// The event the caller gets for a call that ends with `done`: `done` itself, or where the caller
// gave an out-of-order queue, a marker there waiting for it (so that the caller's clFinish and
// barriers on that queue cover anycl's work).
Event caller_event(const DeviceSlot& home, Event done);

}  // namespace anycl::detail
