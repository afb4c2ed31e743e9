// The counters of a split call's claimed stages (runtime/launch.hpp, Claim): devices that share
// one memory take a stage's work-groups from one counter, so a device slowed down during the
// call (another process on its core, a busy memory channel) takes fewer of them instead of the
// others waiting for its fixed share.
#pragma once

#include <string>
#include <vector>

#include "runtime/launch.hpp"
#include "runtime/workspace.hpp"

namespace anycl::detail {

// Devices may claim each other's work-groups when they are sub-devices of one device (OpenCL
// atomics hold within one device), share its memory (same_memory.hpp) and launch the same
// work-groups: the same build of every program the stages use, and the same work-group limit
// (enqueue() shrinks groups by it).
bool can_claim(const DeviceSlot& a, const DeviceSlot& b, const std::vector<std::string>& variants);

// One zeroed counter per stage, from home's workspace pool. The zeroing is queued on home: the
// call's other devices start after home's fork or first meeting, which follow it.
class Claims {
 public:
  Claims(const DeviceSlot& home, std::size_t stages);
  Claim stage(std::size_t i) const { return {counters_.mem(), cl_int(i)}; }

 private:
  Workspace counters_;
};

}  // namespace anycl::detail
