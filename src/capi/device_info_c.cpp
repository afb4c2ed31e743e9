// The library version and what the runtime knows about each device (anycl::DeviceInfo).
#include <cstddef>
#include <cstring>
#include <string>

#include "capi/guard.hpp"

namespace {

// The size of the first anycl_device_info, which ended at is_sub_device: a caller built against
// that header gets its fields and nothing past them.
constexpr std::size_t kFirstInfoSize = offsetof(anycl_device_info, global_mem_cache_bytes);

anycl_device_type type_of(const std::string& type) {
  if (type == "gpu") return ANYCL_DEVICE_GPU;
  if (type == "cpu") return ANYCL_DEVICE_CPU;
  if (type == "accelerator") return ANYCL_DEVICE_ACCELERATOR;
  return ANYCL_DEVICE_CUSTOM;
}

}  // namespace

extern "C" {

const char* anycl_version(void) { return anycl::version(); }

anycl_status anycl_runtime_device_info(const anycl_runtime* rt, size_t device, anycl_device_info* info) {
  return anycl::capi::guard([&] {
    static const char* const fn = "anycl_runtime_device_info";
    const anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, fn);
    if (!info) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": info is NULL");
    const std::size_t size = info->struct_size;
    anycl::capi::check_struct_size(std::string(fn) + ": info->struct_size", size, kFirstInfoSize,
                                   sizeof(anycl_device_info), "anycl_device_info", nullptr);
    if (size != sizeof(anycl_device_info) && size != kFirstInfoSize)
      throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": info->struct_size " +
                                                           std::to_string(size) + " is not sizeof(anycl_device_info) " +
                                                           std::to_string(sizeof(anycl_device_info)) +
                                                           " nor the first version's " +
                                                           std::to_string(kFirstInfoSize));
    if (device >= r.device_count())
      throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": device " + std::to_string(device) +
                                                           " is out of range (the runtime has " +
                                                           std::to_string(r.device_count()) + ")");
    const anycl::DeviceInfo& d = r.device(device);
    anycl_device_info out{};
    out.struct_size = size;
    out.id = d.id.c_str(), out.name = d.name.c_str(), out.vendor = d.vendor.c_str();
    out.version = d.version.c_str(), out.driver_version = d.driver_version.c_str();
    out.platform_name = d.platform_name.c_str();
    out.type = type_of(d.type);
    out.compute_units = d.compute_units, out.clock_mhz = d.clock_mhz;
    out.global_mem_bytes = d.global_mem, out.local_mem_bytes = d.local_mem, out.max_alloc_bytes = d.max_alloc;
    out.fp64 = d.fp64, out.fp16 = d.fp16, out.unified_memory = d.unified_memory;
    out.is_sub_device = d.is_sub_device;
    out.global_mem_cache_bytes = d.global_mem_cache, out.global_mem_cacheline_bytes = d.global_mem_cacheline;
    std::memcpy(info, &out, size);
  });
}

}  // extern "C"
