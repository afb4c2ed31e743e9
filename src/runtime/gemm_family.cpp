#include "runtime/gemm_family.hpp"

#include <cstdlib>
#include <string>

#include "runtime/device.hpp"
#include "runtime/error.hpp"

namespace anycl::detail {

GemmFamily gemm_family(const DeviceInfo& device) {
  const char* env = std::getenv("ANYCL_GEMM_FAMILY");
  const std::string forced = env ? env : "";
  if (forced == "tiled") return GemmFamily::Tiled;
  if (forced == "cpu") return GemmFamily::Cpu;
  if (!forced.empty() && forced != "auto")
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "ANYCL_GEMM_FAMILY='" + forced + "' for " + device_label(device) +
                                           ": expected auto, tiled or cpu");
  // Many lanes sharing on-chip memory is what the tiled family's local tiles pay off on; a CPU's
  // "local" memory is ordinary cache-backed memory, where the packed panels win.
  const bool many_lanes = device.type == "gpu" || device.type == "accelerator";
  return many_lanes && device.local_mem_dedicated ? GemmFamily::Tiled : GemmFamily::Cpu;
}

}  // namespace anycl::detail
