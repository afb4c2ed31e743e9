// OpenCL's own answers about a device, for tests that compare anycl's device information with them.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "anycl/runtime.hpp"

namespace anycl_test {

template <typename T>
T raw(cl_device_id d, cl_device_info what) {
  T v{};
  REQUIRE(clGetDeviceInfo(d, what, sizeof v, &v, nullptr) == CL_SUCCESS);
  return v;
}

inline std::string raw_string(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  REQUIRE(clGetDeviceInfo(d, what, 0, nullptr, &n) == CL_SUCCESS);
  std::string s(n, '\0');
  REQUIRE(clGetDeviceInfo(d, what, n, s.data(), nullptr) == CL_SUCCESS);
  return s.c_str();
}

}  // namespace anycl_test
