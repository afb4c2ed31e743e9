#include "runtime/kernel_library.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>

#include "runtime/device.hpp"
#include "runtime/error.hpp"
#include "runtime/gemm_family.hpp"
#include "runtime/hash.hpp"
#include "runtime/kernel_source.hpp"
#include "runtime/log.hpp"
#include "runtime/version.hpp"

namespace anycl::detail {

const std::vector<FamilySpec>& kernel_families() {
  static const std::vector<FamilySpec> families = {
      {"gemm_packed_f32", "gemm_packed", "gemm_packed.cl", "float", false, ""},
      {"gemm_packed_f64", "gemm_packed", "gemm_packed.cl", "double", true, ""},
      {"gemm_direct_f32", "gemm_direct", "gemm_direct.cl", "float", false, ""},
      {"gemm_direct_f64", "gemm_direct", "gemm_direct.cl", "double", true, ""},
      {"gemm_tiled_f32", "gemm_tiled", "gemm_tiled.cl", "float", false, "", true},
      {"gemm_tiled_f64", "gemm_tiled", "gemm_tiled.cl", "double", true, "", true},
      {"conv_im2col", "conv_im2col", "conv_im2col.cl", "float", false, "gemm_packed_f32"},
      {"conv_im2col_gemm", "conv_im2col_gemm", "conv_im2col_gemm.cl", "float", false, "gemm_packed_f32"},
      {"conv_direct", "conv_direct", "conv_direct.cl", "float", false, ""},
      {"conv_direct_wg", "conv_direct_wg", "conv_direct_wg.cl", "float", false, "", true},
      {"conv_depthwise", "conv_depthwise", "conv_depthwise.cl", "float", false, ""},
      {"conv_depthwise_nhwc", "conv_depthwise_nhwc", "conv_depthwise_nhwc.cl", "float", false, ""},
      {"conv_implicit", "conv_implicit", "conv_implicit.cl", "float", false, ""},
      {"conv_implicit_weights", "conv_implicit_weights", "conv_implicit_weights.cl", "float", false, ""},
      {"conv_winograd", "conv_winograd", "conv_winograd.cl", "float", false, "gemm_packed_f32"},
      {"conv_winograd_tiled", "conv_winograd_tiled", "conv_winograd_tiled.cl", "float", false, "", true},
      {"conv_winograd_weights", "conv_winograd_weights", "conv_winograd_weights.cl", "float", false, "gemm_packed_f32"},
      {"conv_layout", "conv_layout", "conv_layout.cl", "float", false, ""},
      {"nn_layers", "nn_layers", "nn_layers.cl", "float", false, ""},
      {"nn_batchnorm", "nn_batchnorm", "nn_batchnorm.cl", "float", false, ""},
  };
  return families;
}

bool builds_on(const FamilySpec& spec, const DeviceInfo& device) {
  if (spec.needs_fp64 && !device.fp64) return false;
  return !spec.tiled_gemm || gemm_family(device) == GemmFamily::Tiled;
}

long BuiltProgram::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) fail(ANYCL_ERROR_INTERNAL, "kernel parameter " + name + " was not set");
  return it->second;
}

namespace {

// "OpenCL C 1.2 PoCL" -> "CL1.2". anycl's kernels are OpenCL C 1.2, so newer devices get 1.2 too.
std::string cl_std(const DeviceInfo& device) {
  const std::string prefix = "OpenCL C ";
  const std::string v = device.opencl_c_version.substr(0, prefix.size()) == prefix
                            ? device.opencl_c_version.substr(prefix.size(), 3)
                            : "1.2";
  return v == "1.0" || v == "1.1" ? "CL" + v : "CL1.2";
}

std::string build_log(cl_program program, cl_device_id id) {
  size_t size = 0;
  clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
  std::string log(size, '\0');
  if (size) clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  return log;
}

cl_program create_from_binary(cl_context context, cl_device_id id, const ProgramBinary& bin, cl_int* err) {
  const unsigned char* data = bin.payload.data();
  const size_t size = bin.payload.size();
  cl_int status = CL_SUCCESS;
  cl_program p = clCreateProgramWithBinary(context, 1, &id, &size, &data, &status, err);
  if (*err == CL_SUCCESS && status != CL_SUCCESS) *err = status;
  return p;
}

// Builds `program`; on failure releases it and throws BuildError with the full log.
void build_or_throw(cl_program program, cl_device_id id, const std::string& options, const std::string& what,
                    const DeviceInfo& device) {
  const cl_int err = clBuildProgram(program, 1, &id, options.c_str(), nullptr, nullptr);
  if (err == CL_SUCCESS) return;
  std::string log = build_log(program, id);
  clReleaseProgram(program);
  throw BuildError("clBuildProgram of " + what + " failed on " + device_label(device) + ": " +
                       cl_error_name(err) + "\noptions: " + options + "\nbuild log:\n" + log,
                   log);
}

BuiltProgram load_prebuilt(const BuildContext& ctx, const FamilySpec& spec, const BuildPlan& plan,
                           const DeviceInfo& device, cl_context context, cl_device_id id) {
  const std::string path = prebuilt_path(resolve_binary_dir(ctx), device, spec.variant);
  const std::string hint = "; produce it with: anycl-compile --device '" + device.id + "' --out DIR";
  auto bytes = read_file(path);
  if (!bytes)
    fail(ANYCL_ERROR_KERNEL_NOT_FOUND, "no prebuilt binary of " + spec.variant + " for " + device_label(device) +
                                           " (this device compiles nothing): missing " + path + hint);
  std::string why;
  auto bin = parse_program_binary(*bytes, &why);
  if (!bin) fail(ANYCL_ERROR_BUILD_FAILED, "prebuilt binary " + path + " is unusable: " + why + hint);
  if (bin->device_name != device.name)
    fail(ANYCL_ERROR_BUILD_FAILED, "prebuilt binary " + path + " was built for '" + bin->device_name +
                                       "', this device is '" + device.name + "'" + hint);
  if (bin->options != plan.options || bin->source_hash != plan.source_hash)
    fail(ANYCL_ERROR_BUILD_FAILED, "prebuilt binary " + path + " was built from other kernel sources or options ('" +
                                       bin->options + "'; this runtime needs '" + plan.options + "')" + hint);
  cl_int err = CL_SUCCESS;
  cl_program p = create_from_binary(context, id, *bin, &err);
  check(err, "clCreateProgramWithBinary", device_label(device) + " for " + path);
  build_or_throw(p, id, plan.options, "prebuilt " + path, device);
  return {boost::compute::program(p, false), plan.params, plan.options, plan.source_hash};
}

// A cache entry the driver rejects is rebuilt from source; that is the point of the cache being
// a cache.
std::optional<BuiltProgram> load_cached(const BuildContext& ctx, const BuildPlan& plan, const std::string& key,
                                        const DeviceInfo& device, cl_context context, cl_device_id id) {
  auto bin = ctx.cache->load(key, device.name);
  if (!bin) return std::nullopt;
  cl_int err = CL_SUCCESS;
  cl_program p = create_from_binary(context, id, *bin, &err);
  if (err == CL_SUCCESS) err = clBuildProgram(p, 1, &id, plan.options.c_str(), nullptr, nullptr);
  if (err == CL_SUCCESS) return BuiltProgram{boost::compute::program(p, false), plan.params, plan.options, plan.source_hash};
  if (p) clReleaseProgram(p);
  log_warn("binary cache: entry " + key + " rejected by the driver (" + cl_error_name(err) + "); rebuilding");
  return std::nullopt;
}

}  // namespace

std::string resolve_binary_dir(const BuildContext& ctx) {
  if (!ctx.binary_dir.empty()) return ctx.binary_dir;
  if (const char* env = std::getenv("ANYCL_BINARY_PATH"); env && *env) return env;
  return ctx.kernel_dir + "/binaries";
}

std::string prebuilt_path(const std::string& binary_dir, const DeviceInfo& device, const std::string& variant) {
  return binary_dir + "/" + file_slug(device.name) + "/" + variant + ".bin";
}

BuildPlan plan_build(const BuildContext& ctx, const FamilySpec& spec, const DeviceInfo& device,
                     const BuiltProgram* shared) {
  BuildPlan plan;
  plan.source = read_kernel_file(ctx.kernel_dir, spec.file);
  plan.expanded = expand_includes(ctx.kernel_dir, plan.source);
  plan.source_hash = hash128_hex(plan.expanded);
  plan.params = ctx.params->resolve(device, spec.family, spec.variant, cl_defaults(plan.source));
  // The shared program's layout wins unless the table sets the key for this family itself (a
  // family whose kernels never read the shared program's panels may keep a tile of its own).
  if (shared)
    for (auto& [k, v] : plan.params)
      if (shared->params.count(k) && !ctx.params->sets(device, spec.family, spec.variant, k)) v = shared->params.at(k);
  if (ctx.fixed)
    for (const auto& [k, v] : *ctx.fixed) {
      if (!plan.params.count(k))
        fail(ANYCL_ERROR_INVALID_ARGUMENT, spec.file + " has no tunable " + k + " (building for " +
                                               device_label(device) + ")");
      plan.params[k] = v;
    }
  plan.options = "-cl-std=" + cl_std(device) + " -DREAL=" + spec.real;
  for (const auto& [k, v] : plan.params) plan.options += " -D" + k + "=" + std::to_string(v);
  return plan;
}

ProgramBinary extract_binary(const BuiltProgram& built, const BuildPlan& plan, const DeviceInfo& device,
                             cl_device_id id) {
  cl_program p = built.program.get();
  cl_uint ndev = 0;
  check(clGetProgramInfo(p, CL_PROGRAM_NUM_DEVICES, sizeof ndev, &ndev, nullptr), "clGetProgramInfo", device.name);
  std::vector<cl_device_id> devs(ndev);
  std::vector<size_t> sizes(ndev);
  clGetProgramInfo(p, CL_PROGRAM_DEVICES, ndev * sizeof(cl_device_id), devs.data(), nullptr);
  clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, ndev * sizeof(size_t), sizes.data(), nullptr);
  std::vector<std::vector<unsigned char>> bins(ndev);
  std::vector<unsigned char*> ptrs(ndev);
  for (cl_uint i = 0; i < ndev; ++i) ptrs[i] = (bins[i].resize(sizes[i]), bins[i].data());
  check(clGetProgramInfo(p, CL_PROGRAM_BINARIES, ndev * sizeof(unsigned char*), ptrs.data(), nullptr),
        "clGetProgramInfo(CL_PROGRAM_BINARIES)", device.name);
  ProgramBinary out{device.name, device.driver_version, plan.options, plan.source_hash, version_string(), {}};
  for (cl_uint i = 0; i < ndev; ++i)
    if (devs[i] == id) out.payload = std::move(bins[i]);
  return out;
}

BuiltProgram build_family(const BuildContext& ctx, const FamilySpec& spec, const DeviceInfo& device,
                          cl_context context, cl_device_id id, const BuiltProgram* shared, BuildReport& report) {
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](BuiltProgram built) {
    report.ok = true;
    report.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return built;
  };
  report.family = spec.variant;
  const BuildPlan plan = plan_build(ctx, spec, device, shared);
  report.options = plan.options;
  if (ctx.binary_only || !device.compiler_available) {
    report.prebuilt = true;
    return finish(load_prebuilt(ctx, spec, plan, device, context, id));
  }
  const std::string key = hash128_hex(plan.expanded + '\0' + plan.options + '\0' + device.name + '\0' +
                                      device.driver_version + '\0' + device.platform_version + '\0' +
                                      version_string());
  if (auto cached = load_cached(ctx, plan, key, device, context, id)) {
    report.cache_hit = true;
    return finish(std::move(*cached));
  }
  // The expanded source, not `-I <kernel dir>`: POCL splits build options at spaces and keeps
  // quotes literally, so no include path with a space reaches its compiler. It is also exactly
  // the text the cache key hashes.
  const char* text = plan.expanded.c_str();
  cl_int err = CL_SUCCESS;
  cl_program p = clCreateProgramWithSource(context, 1, &text, nullptr, &err);
  check(err, "clCreateProgramWithSource", device_label(device));
  build_or_throw(p, id, plan.options, spec.file, device);
  BuiltProgram built{boost::compute::program(p, false), plan.params, plan.options, plan.source_hash};
  if (ctx.cache->enabled()) {
    ProgramBinary bin = extract_binary(built, plan, device, id);
    if (!bin.payload.empty()) ctx.cache->store(key, bin);
  }
  return finish(std::move(built));
}

}  // namespace anycl::detail
