// The device spec: which discovered devices a runtime uses.
#pragma once

#include <string>
#include <vector>

#include "runtime/device.hpp"

namespace anycl::detail {

struct Selection {
  std::size_t device = 0;      // index into Discovery::devices
  unsigned sub_devices = 0;    // 0 = the whole device, N = partition equally into N
};

// Throws Error(ANYCL_ERROR_NO_DEVICE) listing the devices when an item matches nothing, and
// ANYCL_ERROR_INVALID_ARGUMENT for a malformed item. "" means "default".
std::vector<Selection> select_devices(const std::string& spec, const Discovery& found);

// Index of the best single device: GPU, then accelerator, then CPU; ties by units x clock.
std::size_t best_device(const Discovery& found);

// "0:0 pthread-... [Portable Computing Language, cpu]" lines, for error messages.
std::string describe_devices(const Discovery& found);

}  // namespace anycl::detail
