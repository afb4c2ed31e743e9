// libFuzzer target: the device spec string (RuntimeOptions::device_spec, ANYCL_DEVICE, anycl-query
// --device), parsed against a synthetic set of devices (README, "Fuzzing"). A spec that matches
// nothing or is malformed is an anycl::Error; any other exception, crash or sanitizer report, or
// a selection naming a device that does not exist, is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../fake_device.hpp"
#include "runtime/spec.hpp"

namespace {

anycl::detail::FoundDevice fake(std::size_t p, std::size_t d, const char* name, const char* platform, const char* type,
                                unsigned max_sub) {
  anycl::detail::FoundDevice f = anycl_test::fake_device(p, d, name, platform, type, max_sub);
  f.info.max_sub_devices = max_sub;
  f.info.partition_types = {"equally"};
  return f;
}

const anycl::detail::Discovery& devices() {
  static const anycl::detail::Discovery d = [] {
    anycl::detail::Discovery out;
    out.devices.push_back(fake(0, 0, "pthread-znver4", "Portable Computing Language", "cpu", 2));
    out.devices.push_back(fake(0, 1, "basic-x86", "Portable Computing Language", "cpu", 2));
    out.devices.push_back(fake(1, 0, "Oclgrind Simulator", "Oclgrind", "accelerator", 0));
    return out;
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& s : anycl::detail::select_devices(spec, devices()))
      if (s.device >= devices().devices.size()) __builtin_trap();
  } catch (const anycl::Error&) {
    // no match or a malformed item: the documented, clean failure
  }
  return 0;
}
