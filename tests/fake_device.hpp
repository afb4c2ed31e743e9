// A discovered device with no OpenCL behind it, for the device-spec parser's tests and fuzzer.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/spec.hpp"

namespace anycl_test {

inline anycl::detail::FoundDevice fake_device(std::size_t platform, std::size_t device, const std::string& name,
                                              const std::string& platform_name, const std::string& type,
                                              unsigned compute_units) {
  anycl::detail::FoundDevice f;
  f.platform_index = platform;
  f.device_index = device;
  f.info.id = std::to_string(platform) + ":" + std::to_string(device);
  f.info.name = name;
  f.info.platform_name = platform_name;
  f.info.type = type;
  f.info.compute_units = compute_units;
  return f;
}

}  // namespace anycl_test
