// anycl C++ API: errors, device discovery, the runtime, buffers and events.
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "anycl/anycl.h"
#include "anycl/export.h"

namespace anycl {

using Status = anycl_status;

// Every failure the library reports is an Error: a status plus a message that names the call,
// the device and (for OpenCL failures) the OpenCL error name.
class ANYCL_API Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message);
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

// A kernel build failure; build_log() is the compiler's full output (also part of what()).
class ANYCL_API BuildError : public Error {
 public:
  BuildError(const std::string& message, std::string build_log);
  const std::string& build_log() const noexcept { return log_; }

 private:
  std::string log_;
};

// What anycl knows about one device; filled once at discovery.
struct DeviceInfo {
  std::string id;  // "P:D" as anycl-query numbers devices; sub-devices add ".S"
  std::string name, vendor, version, driver_version, opencl_c_version;
  std::string platform_name, platform_vendor, platform_version;
  std::string type;  // "gpu", "cpu", "accelerator", "custom"
  unsigned compute_units = 0, clock_mhz = 0;
  std::uint64_t global_mem = 0, local_mem = 0, max_alloc = 0;
  std::uint64_t global_mem_cache = 0;  // CL_DEVICE_GLOBAL_MEM_CACHE_SIZE (0: none or not reported)
  unsigned global_mem_cacheline = 0;   // CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE, bytes
  std::size_t max_work_group_size = 0;
  unsigned mem_base_addr_align_bytes = 0;
  bool fp64 = false, fp16 = false, unified_memory = false, compiler_available = false;
  unsigned vector_width_float = 0, vector_width_double = 0, vector_width_half = 0;
  unsigned max_sub_devices = 0;
  std::vector<std::string> partition_types;  // "equally", "by_counts", "by_affinity_domain"
  bool is_sub_device = false;
  unsigned partition_index = 0, partition_count = 0;  // this is sub-device index of count
  bool local_mem_dedicated = false;  // CL_DEVICE_LOCAL_MEM_TYPE is CL_LOCAL (on-chip, not global)
};

struct PlatformInfo {
  std::string name, vendor, version;
  std::vector<DeviceInfo> devices;
};

// Every platform the ICD loader offers, with devices; platforms that fail are skipped and a
// warning is appended to `warnings` (if given).
ANYCL_API std::vector<PlatformInfo> discover(std::vector<std::string>* warnings = nullptr);

// The devices a device spec selects, without opening them (no contexts, no kernel builds); a
// device that the spec splits (`/N`) is listed once, whole. Throws Error(ANYCL_ERROR_NO_DEVICE)
// listing every device when an item matches nothing.
ANYCL_API std::vector<DeviceInfo> match_devices(const std::string& spec);

// One kernel family built (or loaded) for one device at runtime creation.
struct BuildReport {
  std::size_t device = 0;
  std::string family;
  bool ok = false;
  bool cache_hit = false;    // loaded from the on-disk binary cache
  bool prebuilt = false;     // loaded from a shipped binary (compiler-less device)
  double milliseconds = 0;   // wall time to build or load
  std::string options;
  std::string message;       // on failure: the error (with build log)
};

struct ANYCL_API RuntimeOptions {
  std::string device_spec;            // "" = default (ANYCL_DEVICE overrides); see README
  std::string kernel_path;            // "" = ANYCL_KERNEL_PATH, build tree, install prefix
  std::string cache_dir;              // "" = ANYCL_CACHE_DIR or $XDG_CACHE_HOME/anycl
  bool cache = true;                  // false also when ANYCL_CACHE=off
  bool binary_only = false;           // true also when ANYCL_BINARY_ONLY=1: never compile
  std::string binary_path;            // "" = ANYCL_BINARY_PATH, then <kernel dir>/binaries
  bool fail_on_build_error = true;    // false: record failures in build_reports() instead
  static RuntimeOptions from_env(const std::string& device_spec = "");
};

namespace detail {
class Engine;
struct EngineAccess;
class BufferImpl;
}  // namespace detail

// A finished-or-pending piece of device work.
class ANYCL_API Event {
 public:
  Event() = default;
  explicit Event(cl_event e);  // takes ownership
  Event(const Event&);
  Event& operator=(Event);
  ~Event();
  void wait() const;
  cl_event native() const noexcept { return ev_; }
  bool valid() const noexcept { return ev_ != nullptr; }

 private:
  cl_event ev_ = nullptr;
};

// Device memory on one device of a runtime.
class ANYCL_API Buffer {
 public:
  Buffer() = default;
  std::size_t bytes() const noexcept;
  std::size_t device() const noexcept;
  cl_mem native() const noexcept;
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  friend class Runtime;
  explicit Buffer(std::shared_ptr<detail::BufferImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<detail::BufferImpl> impl_;
};

class ANYCL_API Runtime {
 public:
  explicit Runtime(const std::string& device_spec = "");
  explicit Runtime(const RuntimeOptions& options);
  // On the caller's own OpenCL objects (docs/interop.md): one in-order or out-of-order queue per
  // device, all of `context`; device i is queues[i]'s device. anycl retains what it keeps and
  // releases only that. Options other than device_spec apply (kernels, cache, binaries).
  ANYCL_API Runtime(cl_context context, const std::vector<cl_command_queue>& queues,
                    const RuntimeOptions& options = RuntimeOptions::from_env());
  ~Runtime();
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::size_t device_count() const noexcept;
  const DeviceInfo& device(std::size_t i) const;
  const std::vector<BuildReport>& build_reports() const noexcept;
  const std::string& kernel_dir() const noexcept;

  // Refused with ANYCL_ERROR_OUT_OF_MEMORY above the device's max allocation or memory.
  Buffer alloc(std::size_t bytes, std::size_t device = 0);
  // The caller's buffer `mem` (of device i's context) as a Buffer on device i, without a copy:
  // `bytes` from byte `offset` (bytes 0: up to its end). A nonzero offset must be a multiple of
  // the device's mem_base_addr_align_bytes. The Buffer retains mem while it (or a copy) lives.
  ANYCL_API Buffer wrap(cl_mem mem, std::size_t offset = 0, std::size_t bytes = 0, std::size_t device = 0);
  // The caller's host memory as a Buffer on device i, without a copy (CL_MEM_USE_HOST_PTR): the
  // calls read and write the `bytes` bytes at `host` in place, so a call's results are there once
  // it finished. Only where the device shares host memory (DeviceInfo::unified_memory) and `host`
  // is a multiple of mem_base_addr_align_bytes; otherwise Error(ANYCL_ERROR_UNSUPPORTED) saying
  // which (use alloc and write: one copy). The memory must outlive the Buffer and its calls.
  ANYCL_API Buffer wrap_host(void* host, std::size_t bytes, std::size_t device = 0);
  void write(const Buffer& dst, const void* src, std::size_t bytes, std::size_t offset = 0);
  void read(const Buffer& src, void* dst, std::size_t bytes, std::size_t offset = 0);
  void finish();  // waits for all queued work on every device
  // Frees the device memory kept for reuse between calls (scratch buffers, device copies of
  // host-pointer operands; up to 512 MiB per device). Later calls allocate it again.
  void release_workspace();

  // The OpenCL objects of device i, for callers that enqueue their own work beside anycl's
  // (anycl keeps ownership; retain them to keep them past the runtime). queue() is the in-order
  // queue anycl enqueues on: a caller's in-order queue, or anycl's own beside a caller's
  // out-of-order one.
  cl_context context(std::size_t device = 0) const;
  cl_command_queue queue(std::size_t device = 0) const;

 private:
  friend struct detail::EngineAccess;
  std::unique_ptr<detail::Engine> impl_;
};

// Writes the program binary of every kernel family built for each device of `rt` to
// DIR/<device name>/<family>.bin, the layout compiler-less devices load at start-up
// (ANYCL_BINARY_PATH). Returns the paths written; throws Error naming the device and file.
ANYCL_API std::vector<std::string> write_program_binaries(const Runtime& rt, const std::string& dir);

// The library's version string, e.g. "0.1.0".
ANYCL_API const char* version() noexcept;

}  // namespace anycl
