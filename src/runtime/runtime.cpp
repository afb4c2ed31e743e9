#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "runtime/device.hpp"
#include "runtime/env.hpp"
#include "runtime/error.hpp"
#include "runtime/kernel_source.hpp"
#include "runtime/log.hpp"
#include "runtime/runtime_impl.hpp"
#include "runtime/spec.hpp"

namespace anycl::detail {
namespace {

namespace bc = boost::compute;

std::vector<cl_device_id> partition(const FoundDevice& parent, unsigned parts) {
  const DeviceInfo& info = parent.info;
  const bool equally = std::find(info.partition_types.begin(), info.partition_types.end(), "equally") !=
                       info.partition_types.end();
  if (!equally)
    fail(ANYCL_ERROR_UNSUPPORTED, device_label(info) + " cannot be partitioned equally into sub-devices");
  if (parts > info.compute_units || parts > info.max_sub_devices)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, device_label(info) + " has " +
                                           std::to_string(info.compute_units) + " compute units; cannot make " +
                                           std::to_string(parts) + " sub-devices");
  const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY,
                                                cl_device_partition_property(info.compute_units / parts), 0};
  cl_uint n = 0;
  check(clCreateSubDevices(parent.id, props, 0, nullptr, &n), "clCreateSubDevices", device_label(info));
  std::vector<cl_device_id> subs(n);
  check(clCreateSubDevices(parent.id, props, n, subs.data(), nullptr), "clCreateSubDevices", device_label(info));
  // Uneven unit counts leave spare sub-devices: release them, keep exactly `parts`.
  for (size_t i = parts; i < subs.size(); ++i) clReleaseDevice(subs[i]);
  subs.resize(std::min<size_t>(parts, subs.size()));
  return subs;
}

}  // namespace

const BuiltProgram& DeviceSlot::program(const std::string& variant) const {
  auto it = programs.find(variant);
  if (it == programs.end())
    fail(variant.size() > 4 && variant.substr(variant.size() - 4) == "_f64" ? ANYCL_ERROR_UNSUPPORTED
                                                                             : ANYCL_ERROR_KERNEL_NOT_FOUND,
         "kernel family " + variant + " is not available on " + where() +
             (info.fp64 ? "" : " (the device has no fp64 support)"));
  return it->second;
}

bc::kernel DeviceSlot::kernel(const std::string& variant, const std::string& name) const {
  return kernel_of(program(variant), name);
}

bc::kernel DeviceSlot::kernel_of(const BuiltProgram& built, const std::string& name) const {
  cl_int err = CL_SUCCESS;
  cl_kernel k = clCreateKernel(built.program.get(), name.c_str(), &err);
  check(err, ("clCreateKernel(" + name + ")").c_str(), where());
  return bc::kernel(k, false);
}

void rebuild_program(const BuildContext& ctx, DeviceSlot& slot, const std::string& variant, const ParamSet& fixed) {
  const auto& families = kernel_families();
  const auto spec = std::find_if(families.begin(), families.end(), [&](const FamilySpec& f) { return f.variant == variant; });
  if (spec == families.end()) fail(ANYCL_ERROR_INVALID_ARGUMENT, "no kernel family " + variant);
  BuildContext with = ctx;
  with.fixed = &fixed;
  const BuiltProgram* shared = spec->layout_from.empty() ? nullptr : &slot.program(spec->layout_from);
  BuildReport report;
  BuiltProgram built = build_family(with, *spec, slot.info, slot.context->get(), slot.device.id(), shared, report);
  slot.programs.erase(variant);
  slot.programs.emplace(variant, std::move(built));
}

RuntimeImpl::RuntimeImpl(const RuntimeOptions& options, std::nullptr_t)
    : options_(options),
      kernel_dir_(find_kernel_dir(options.kernel_path)),
      cache_(options.cache_dir, options.cache),
      params_(ParamSources{kernel_dir_, cache_.dir() + "/params"}) {
  build_ctx_ = {kernel_dir_, &params_, &cache_, options.binary_only, options.binary_path};
}

RuntimeImpl::RuntimeImpl(const RuntimeOptions& options) : RuntimeImpl(options, nullptr) {
  open_devices(options.device_spec);
  build_programs(options.fail_on_build_error);
}

RuntimeImpl::RuntimeImpl(cl_context context, const std::vector<cl_command_queue>& queues,
                         const RuntimeOptions& options)
    : RuntimeImpl(options, nullptr) {
  adopt_queues(context, queues);
  build_programs(options.fail_on_build_error);
}

DeviceSlot& RuntimeImpl::slot(std::size_t i) {
  if (i >= slots_.size())
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "device index " + std::to_string(i) + " is out of range (runtime has " +
                                           std::to_string(slots_.size()) + " devices)");
  return slots_[i];
}

const DeviceSlot& RuntimeImpl::slot(std::size_t i) const { return const_cast<RuntimeImpl*>(this)->slot(i); }

void RuntimeImpl::open_devices(const std::string& spec) {
  Discovery found = discover_devices();
  std::map<cl_platform_id, std::vector<size_t>> by_platform;  // slot indices sharing a context
  std::vector<cl_platform_id> slot_platform;
  for (const Selection& sel : select_devices(spec, found)) {
    const FoundDevice& fd = found.devices[sel.device];
    if (sel.sub_devices == 0) {
      slots_.push_back({fd.info, bc::device(fd.id), nullptr, {}, {}, std::make_unique<WorkspacePool>()});
      slots_.back().root_compute_units = fd.info.compute_units;
    } else {
      const auto subs = partition(fd, sel.sub_devices);
      for (size_t s = 0; s < subs.size(); ++s) {
        DeviceInfo info = query_device(subs[s], fd.platform);
        info.id = fd.info.id + "." + std::to_string(s);
        info.is_sub_device = true;
        info.partition_index = unsigned(s);
        info.partition_count = unsigned(subs.size());
        slots_.push_back({info, bc::device(subs[s], false), nullptr, {}, {}, std::make_unique<WorkspacePool>()});
        slots_.back().root_compute_units = fd.info.compute_units;
      }
    }
    while (slot_platform.size() < slots_.size()) {
      by_platform[fd.platform].push_back(slot_platform.size());
      slot_platform.push_back(fd.platform);
    }
  }
  for (auto& [platform, indices] : by_platform) {
    std::vector<cl_device_id> ids;
    for (size_t i : indices) ids.push_back(slots_[i].device.id());
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, cl_context_properties(platform), 0};
    cl_int err = CL_SUCCESS;
    cl_context ctx = clCreateContext(props, cl_uint(ids.size()), ids.data(), nullptr, nullptr, &err);
    if (err != CL_SUCCESS) {
      std::string devices;
      for (size_t i : indices) devices += (devices.empty() ? "" : ", ") + slots_[i].where();
      check(err, "clCreateContext", devices + " (platform '" + slots_[indices[0]].info.platform_name + "')");
    }
    auto shared = std::make_shared<bc::context>(ctx, false);
    for (size_t i : indices) {
      DeviceSlot& s = slots_[i];
      s.context = shared;
      cl_command_queue q = clCreateCommandQueue(ctx, s.device.id(), CL_QUEUE_PROFILING_ENABLE, &err);
      check(err, "clCreateCommandQueue", s.where());
      s.queue = bc::command_queue(q, false);
    }
  }
}

void RuntimeImpl::build_programs(bool fail_on_error) {
  for (size_t d = 0; d < slots_.size(); ++d) {
    DeviceSlot& s = slots_[d];
    for (const FamilySpec& spec : kernel_families()) {
      if (!builds_on(spec, s.info)) continue;
      BuildReport report;
      report.device = d;
      report.family = spec.variant;
      try {
        // A family sharing another's tile layout cannot be built without it (the lookup throws).
        const BuiltProgram* shared = spec.layout_from.empty() ? nullptr : &s.program(spec.layout_from);
        s.programs.emplace(spec.variant,
                           build_family(build_ctx_, spec, s.info, s.context->get(), s.device.id(), shared, report));
      } catch (const Error& e) {
        report.message = e.what();
        reports_.push_back(report);
        if (fail_on_error) throw;
        log_warn(e.what());
        continue;
      }
      reports_.push_back(report);
    }
  }
}

}  // namespace anycl::detail

namespace anycl {

RuntimeOptions RuntimeOptions::from_env(const std::string& device_spec) {
  RuntimeOptions o;
  o.device_spec = device_spec;
  if (device_spec.empty() || device_spec == "default")
    if (const char* env = std::getenv("ANYCL_DEVICE"); env && *env) o.device_spec = env;
  o.cache = !detail::env_is("ANYCL_CACHE", "off") && !detail::env_is("ANYCL_CACHE", "0");
  o.binary_only = detail::env_is("ANYCL_BINARY_ONLY", "1");
  return o;
}

}  // namespace anycl
