// libFuzzer target: a cl_kernels/params/*.json file and the `#ifndef X / #define X n` defaults
// block of a .cl file, both as the runtime reads them (README, "Fuzzing"). Malformed input must be
// logged and skipped; any other exception, crash or sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/params.hpp"

namespace {

anycl::DeviceInfo fuzz_device() {
  anycl::DeviceInfo d;
  d.name = "pthread-znver4";
  d.driver_version = "3.1";
  d.type = "cpu";
  d.fp64 = true;
  d.vector_width_float = 16;
  d.local_mem = 512 * 1024;
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The same bytes as a .cl file: its defaults feed resolve() below, as at runtime creation.
  const anycl::detail::ParamSet defaults = anycl::detail::cl_defaults(text);
  const anycl::detail::ParamTable table(text, "fuzz.json");
  const anycl::DeviceInfo device = fuzz_device();
  table.matching_entries(device);
  for (const char* family : {"gemm_packed", "gemm_direct", "conv_im2col"}) {
    const anycl::detail::ParamSet got = table.resolve(device, family, std::string(family) + "_f32", defaults);
    // resolve() only ever overrides documented tunables, within the table's 0..4096 range, and
    // sets 0 only where the default is 0.
    for (const auto& [name, value] : got) {
      if (!defaults.count(name)) __builtin_trap();
      const long def = defaults.at(name);
      if (value != def && (value < 0 || value > 4096 || (value == 0 && def != 0))) __builtin_trap();
    }
  }
  return 0;
}
