// The runtime layer's state: the devices a runtime opened, their queues and built programs. The
// ops' settings and the scheduler's state live with their owners (sched/engine.hpp).
#pragma once

#include <boost/compute/command_queue.hpp>
#include <boost/compute/context.hpp>
#include <boost/compute/device.hpp>
#include <boost/compute/kernel.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "anycl/runtime.hpp"
#include "runtime/binary_cache.hpp"
#include "runtime/device.hpp"
#include "runtime/kernel_library.hpp"
#include "runtime/kernel_profile.hpp"
#include "runtime/params.hpp"
#include "runtime/workspace.hpp"

namespace anycl::detail {

struct DeviceSlot {
  DeviceInfo info;
  boost::compute::device device;
  std::shared_ptr<boost::compute::context> context;  // shared by the slots of one platform
  boost::compute::command_queue queue;  // in-order: every anycl call's steps follow each other
  std::map<std::string, BuiltProgram> programs;  // by variant name
  std::unique_ptr<WorkspacePool> workspace = std::make_unique<WorkspacePool>();
  std::unique_ptr<KernelProfile> profile = std::make_unique<KernelProfile>();  // launches, while on
  // A caller's out-of-order queue: anycl runs on its own in-order `queue` beside it and marks
  // the end of each device-buffer call here (docs/interop.md).
  boost::compute::command_queue caller_queue = {};
  // The compute units of the whole device a sub-device was cut from: work split by it (and so
  // the order of a sum) is the same on the device and on each of its sub-devices.
  unsigned root_compute_units = 0;

  const BuiltProgram& program(const std::string& variant) const;
  bool has_program(const std::string& variant) const { return programs.count(variant) > 0; }
  // A fresh kernel object per call: clSetKernelArg is not thread-safe on a shared kernel.
  boost::compute::kernel kernel(const std::string& variant, const std::string& name) const;
  // The same from a program the slot does not keep (built for one measurement or a tuner trial).
  boost::compute::kernel kernel_of(const BuiltProgram& built, const std::string& name) const;
  std::string where() const { return device_label(info); }
};

// Rebuilds the slot's `variant` with `fixed` over the tunables the tables give it and puts it in
// place of the program the slot had (a tuner's candidate, a test's configuration). Throws
// BuildError / Error like the runtime's own builds.
void rebuild_program(const BuildContext& ctx, DeviceSlot& slot, const std::string& variant, const ParamSet& fixed);

class RuntimeImpl {
 public:
  explicit RuntimeImpl(const RuntimeOptions& options);
  // On the caller's context, one queue per device (caller_queues.cpp); options.device_spec is
  // not used.
  RuntimeImpl(cl_context context, const std::vector<cl_command_queue>& queues, const RuntimeOptions& options);

  std::size_t size() const noexcept { return slots_.size(); }
  DeviceSlot& slot(std::size_t i);
  const DeviceSlot& slot(std::size_t i) const;
  const std::vector<BuildReport>& reports() const noexcept { return reports_; }
  const std::string& kernel_dir() const noexcept { return kernel_dir_; }
  const BuildContext& build_context() const noexcept { return build_ctx_; }

  const BinaryCache& binary_cache() const noexcept { return cache_; }

 private:
  // The members both public constructors set before they find their devices.
  RuntimeImpl(const RuntimeOptions& options, std::nullptr_t);
  void open_devices(const std::string& spec);
  void adopt_queues(cl_context context, const std::vector<cl_command_queue>& queues);
  void build_programs(bool fail_on_error);

  RuntimeOptions options_;
  std::string kernel_dir_;
  BinaryCache cache_;  // before params_: the tuned parameter files live in its folder
  ParamTable params_;
  BuildContext build_ctx_;
  std::vector<DeviceSlot> slots_;
  std::vector<BuildReport> reports_;
};

}  // namespace anycl::detail
