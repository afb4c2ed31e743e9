// Device discovery through the ICD loader, and the properties anycl needs of each device.
#pragma once

#include <string>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl::detail {

// A discovered device with its OpenCL handle (platform-owned, never released).
struct FoundDevice {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  std::size_t platform_index = 0, device_index = 0;
  DeviceInfo info;
};

struct Discovery {
  std::vector<PlatformInfo> platforms;
  std::vector<FoundDevice> devices;  // flattened, in platform order
  std::vector<std::string> warnings;
};

Discovery discover_devices();

// "device 0:0 'pthread-...'": how every message names a device.
std::string device_label(const DeviceInfo& d);

// Reads every DeviceInfo field of `device` (also used for sub-devices).
DeviceInfo query_device(cl_device_id device, cl_platform_id platform);

// The compute units of the root device `device` was cut from (its own for a whole device).
unsigned root_compute_units(cl_device_id device);

}  // namespace anycl::detail
