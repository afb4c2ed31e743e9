// Holding a split device-buffer call's devices back until all of its work is queued, so that a
// failure while queueing leaves the caller's outputs as they were (docs/multi-device.md).
#pragma once

#include <vector>

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// Bytes of a caller's buffer that a call writes.
struct Region {
  cl_mem mem;
  std::size_t offset, bytes;
};

// Takes the place of fork (meet.hpp): every slot starts its part after what is queued on home so
// far and after a user event that open() sets once the call is queued. If the call throws before
// that, the destructor reads `outputs` through a queue of its own (after home's earlier work),
// lets the devices run what they were given, and writes the outputs back. POCL 3.1 aborts the
// process when a user event is set to an error status, so a gate cannot cancel the work instead.
// Nothing may wait for these queues on the host between construction and open().
class Gate {
 public:
  Gate(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots, std::vector<Region> outputs);
  ~Gate();
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  // Lets the devices run the call. Throws when the driver refuses to set the gate's event; the
  // destructor then tries once more, drains the queues and restores the outputs.
  void open();

 private:
  void restore_outputs() noexcept;
  void release_gate() noexcept;
  bool release_devices() noexcept;  // false: the event stays unset and the queues blocked

  const DeviceSlot& home_;
  std::vector<const DeviceSlot*> slots_;
  std::vector<Region> outputs_;
  cl_event before_ = nullptr;  // home's work queued before the call
  cl_event gate_ = nullptr;
};

}  // namespace anycl::detail
