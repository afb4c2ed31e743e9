#include "runtime/device.hpp"

#include <string>

#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace anycl::detail {
namespace {

std::string device_string(cl_device_id d, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetDeviceInfo(d, what, size, s.data(), nullptr) != CL_SUCCESS) return {};
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

std::string platform_string(cl_platform_id p, cl_platform_info what) {
  size_t size = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetPlatformInfo(p, what, size, s.data(), nullptr) != CL_SUCCESS) return {};
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

// A missing or failing query leaves the default: drivers differ in what they answer.
template <typename T>
T device_value(cl_device_id d, cl_device_info what, T fallback = T{}) {
  T v = fallback;
  if (clGetDeviceInfo(d, what, sizeof(T), &v, nullptr) != CL_SUCCESS) return fallback;
  return v;
}

std::string type_name(cl_device_type t) {
  if (t & CL_DEVICE_TYPE_GPU) return "gpu";
  if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  if (t & CL_DEVICE_TYPE_CPU) return "cpu";
  return "custom";
}

std::vector<std::string> partition_types(cl_device_id d) {
  size_t size = 0;
  std::vector<std::string> out;
  if (clGetDeviceInfo(d, CL_DEVICE_PARTITION_PROPERTIES, 0, nullptr, &size) != CL_SUCCESS) return out;
  std::vector<cl_device_partition_property> props(size / sizeof(cl_device_partition_property));
  if (props.empty() ||
      clGetDeviceInfo(d, CL_DEVICE_PARTITION_PROPERTIES, size, props.data(), nullptr) != CL_SUCCESS)
    return out;
  for (auto p : props) {
    if (p == CL_DEVICE_PARTITION_EQUALLY) out.push_back("equally");
    if (p == CL_DEVICE_PARTITION_BY_COUNTS) out.push_back("by_counts");
    if (p == CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN) out.push_back("by_affinity_domain");
  }
  return out;
}

bool has_extension(const std::string& extensions, const char* name) {
  return (" " + extensions + " ").find(std::string(" ") + name + " ") != std::string::npos;
}

}  // namespace

std::string device_label(const DeviceInfo& d) { return "device " + d.id + " '" + d.name + "'"; }

unsigned root_compute_units(cl_device_id device) {
  cl_device_id parent = nullptr;
  while (clGetDeviceInfo(device, CL_DEVICE_PARENT_DEVICE, sizeof parent, &parent, nullptr) == CL_SUCCESS && parent)
    device = parent;
  return device_value<cl_uint>(device, CL_DEVICE_MAX_COMPUTE_UNITS);
}

DeviceInfo query_device(cl_device_id d, cl_platform_id p) {
  DeviceInfo info;
  info.name = device_string(d, CL_DEVICE_NAME);
  info.vendor = device_string(d, CL_DEVICE_VENDOR);
  info.version = device_string(d, CL_DEVICE_VERSION);
  info.driver_version = device_string(d, CL_DRIVER_VERSION);
  info.opencl_c_version = device_string(d, CL_DEVICE_OPENCL_C_VERSION);
  info.platform_name = platform_string(p, CL_PLATFORM_NAME);
  info.platform_vendor = platform_string(p, CL_PLATFORM_VENDOR);
  info.platform_version = platform_string(p, CL_PLATFORM_VERSION);
  info.type = type_name(device_value<cl_device_type>(d, CL_DEVICE_TYPE));
  info.compute_units = device_value<cl_uint>(d, CL_DEVICE_MAX_COMPUTE_UNITS);
  info.clock_mhz = device_value<cl_uint>(d, CL_DEVICE_MAX_CLOCK_FREQUENCY);
  info.global_mem = device_value<cl_ulong>(d, CL_DEVICE_GLOBAL_MEM_SIZE);
  info.local_mem = device_value<cl_ulong>(d, CL_DEVICE_LOCAL_MEM_SIZE);
  info.global_mem_cache = device_value<cl_ulong>(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE);
  info.global_mem_cacheline = device_value<cl_uint>(d, CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE);
  info.local_mem_dedicated = device_value<cl_device_local_mem_type>(d, CL_DEVICE_LOCAL_MEM_TYPE) == CL_LOCAL;
  info.max_alloc = device_value<cl_ulong>(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  info.max_work_group_size = device_value<size_t>(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, 1);
  info.mem_base_addr_align_bytes = device_value<cl_uint>(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN, 1024) / 8;
  const std::string ext = device_string(d, CL_DEVICE_EXTENSIONS);
  info.fp64 = device_value<cl_device_fp_config>(d, CL_DEVICE_DOUBLE_FP_CONFIG) != 0 ||
              has_extension(ext, "cl_khr_fp64");
  info.fp16 = has_extension(ext, "cl_khr_fp16");
  info.unified_memory = device_value<cl_bool>(d, CL_DEVICE_HOST_UNIFIED_MEMORY) == CL_TRUE;
  info.compiler_available = device_value<cl_bool>(d, CL_DEVICE_COMPILER_AVAILABLE) == CL_TRUE;
  info.vector_width_float = device_value<cl_uint>(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, 1);
  info.vector_width_double = device_value<cl_uint>(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE);
  info.vector_width_half = device_value<cl_uint>(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF);
  info.max_sub_devices = device_value<cl_uint>(d, CL_DEVICE_PARTITION_MAX_SUB_DEVICES);
  info.partition_types = partition_types(d);
  return info;
}

Discovery discover_devices() {
  Discovery out;
  cl_uint count = 0;
  cl_int err = clGetPlatformIDs(0, nullptr, &count);
  if (err != CL_SUCCESS || count == 0) {
    // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no ICD is registered.
    if (err != CL_SUCCESS && err != -1001)
      out.warnings.push_back("clGetPlatformIDs failed: " + cl_error_name(err));
    return out;
  }
  std::vector<cl_platform_id> ids(count);
  if ((err = clGetPlatformIDs(count, ids.data(), nullptr)) != CL_SUCCESS) {
    out.warnings.push_back("clGetPlatformIDs failed: " + cl_error_name(err));
    return out;
  }
  for (cl_platform_id p : ids) {
    PlatformInfo plat{platform_string(p, CL_PLATFORM_NAME), platform_string(p, CL_PLATFORM_VENDOR),
                      platform_string(p, CL_PLATFORM_VERSION), {}};
    cl_uint ndev = 0;
    err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &ndev);
    std::vector<cl_device_id> devs(ndev);
    if (err == CL_SUCCESS && ndev > 0)
      err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ndev, devs.data(), nullptr);
    if (err != CL_SUCCESS || ndev == 0) {
      // A broken platform must never hide the working ones: skip it and say so.
      std::string why = err != CL_SUCCESS ? cl_error_name(err) : "no devices";
      out.warnings.push_back("skipping platform '" + plat.name + "': clGetDeviceIDs: " + why);
      log_warn(out.warnings.back());
      continue;
    }
    const size_t pi = out.platforms.size();
    for (size_t di = 0; di < devs.size(); ++di) {
      FoundDevice fd{p, devs[di], pi, di, query_device(devs[di], p)};
      fd.info.id = std::to_string(pi) + ":" + std::to_string(di);
      plat.devices.push_back(fd.info);
      out.devices.push_back(std::move(fd));
    }
    out.platforms.push_back(std::move(plat));
  }
  return out;
}

}  // namespace anycl::detail

namespace anycl {

std::vector<PlatformInfo> discover(std::vector<std::string>* warnings) {
  detail::Discovery d = detail::discover_devices();
  if (warnings) *warnings = d.warnings;
  return d.platforms;
}

}  // namespace anycl
