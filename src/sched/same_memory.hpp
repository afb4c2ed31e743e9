// Whether two devices work on one physical copy of their context's buffers.
#pragma once

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// True for devices of one context that are sub-devices of one device, or that both use the
// host's memory (CL_DEVICE_HOST_UNIFIED_MEMORY: POCL's CPU devices). Such devices may write
// disjoint parts of one buffer at once. Two discrete GPUs of one context may each hold a copy
// that the runtime migrates, and concurrent writes to one buffer could undo each other there.
bool same_memory(const DeviceSlot& a, const DeviceSlot& b);

}  // namespace anycl::detail
