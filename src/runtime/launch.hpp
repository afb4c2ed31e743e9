// Setting kernel arguments and enqueueing NDRanges with anycl's errors.
#pragma once

#include <array>
#include <boost/compute/kernel.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// A __local kernel argument: `bytes` of local memory for each work-group, no value.
struct LocalBytes {
  std::size_t bytes;
};

// Arguments are passed by exact type: cl_int, cl_ulong, float/double, cl_mem, LocalBytes.
template <typename... Args>
void set_args(boost::compute::kernel& k, const std::string& where, const Args&... args) {
  cl_uint index = 0;
  auto one = [&](const auto& value) {
    const cl_int err = [&] {
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, LocalBytes>)
        return clSetKernelArg(k.get(), index, value.bytes, nullptr);
      else
        return clSetKernelArg(k.get(), index, sizeof(value), &value);
    }();
    check(err, "clSetKernelArg", where + ", argument " + std::to_string(index));
    ++index;
  };
  (one(args), ...);
}

using Range3 = std::array<std::size_t, 3>;

// Rounds each global extent up to a multiple of the local one (the kernels ignore the excess),
// shrinking the local size when the device's work-group limit asks for it; a zero extent
// launches nothing (the event is a marker). `offset` starts the global ids there: a part of a
// kernel's index space (devices sharing one pass). Returns the event.
[[nodiscard]] cl_event enqueue(const DeviceSlot& slot, const boost::compute::kernel& k, Range3 global, Range3 local,
                               const char* kernel_name, Range3 offset = {0, 0, 0});

// An event that completes when everything queued so far on the slot has (for no-op calls).
[[nodiscard]] cl_event enqueue_marker(const DeviceSlot& slot);

// Nothing queued on the slot after this runs before every event completed: how devices that
// share a context (and its buffers) meet between the stages of one call.
void enqueue_wait(const DeviceSlot& slot, const std::vector<cl_event>& events);

// Test hook: the next enqueue() on this slot's queue fails with CL_OUT_OF_RESOURCES, as if the
// driver had refused it (used to check that a device failing mid-call is handled).
void fail_next_enqueue(const DeviceSlot& slot);

inline std::size_t ceil_div(std::size_t a, std::size_t b) { return a / b + (a % b != 0); }  // no a + b overflow

}  // namespace anycl::detail

namespace anycl::detail {

// A launch whose work-groups devices sharing one memory take from a common counter
// (cl_kernels/claim.h): the kernel's "_claimed" twin, with counters[index] appended to its
// arguments. Every device of the stage launches the whole index space with the same counter.
struct Claim {
  cl_mem counters;
  cl_int index;
};

// One kernel of `variant` with its arguments (or its claimed twin when `claim` is given),
// enqueued over global ids [offset, offset + global); returns its event.
template <typename... Args>
[[nodiscard]] cl_event enqueue_kernel(const DeviceSlot& slot, const std::string& variant, const std::string& name,
                                      const Claim* claim, Range3 offset, Range3 global, Range3 local,
                                      const Args&... args) {
  const std::string kernel = claim ? name + "_claimed" : name;
  auto k = slot.kernel(variant, kernel);
  if (claim)
    set_args(k, slot.where() + ", " + kernel, args..., claim->counters, claim->index);
  else
    set_args(k, slot.where() + ", " + kernel, args...);
  return enqueue(slot, k, global, local, kernel.c_str(), offset);
}

template <typename... Args>
Event run_kernel_part(const DeviceSlot& slot, const std::string& variant, const char* name, Range3 offset,
                      Range3 global, Range3 local, const Args&... args) {
  return Event(enqueue_kernel(slot, variant, name, nullptr, offset, global, local, args...));
}

// The same over the whole index space.
template <typename... Args>
Event run_kernel(const DeviceSlot& slot, const std::string& variant, const char* name, Range3 global, Range3 local,
                 const Args&... args) {
  return run_kernel_part(slot, variant, name, {0, 0, 0}, global, local, args...);
}

}  // namespace anycl::detail
