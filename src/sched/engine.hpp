// A runtime's whole state, as the public Runtime holds it: its devices and programs (the runtime
// layer), the ops' settings, and the scheduler's state. Each part belongs to its layer; the
// engine only keeps them together.
#pragma once

#include "anycl/runtime.hpp"
#include "ops/op_settings.hpp"
#include "runtime/runtime_impl.hpp"
#include "sched/sched_state.hpp"

namespace anycl::detail {

class Engine {
 public:
  explicit Engine(const RuntimeOptions& options) : devices(options) {}
  Engine(cl_context context, const std::vector<cl_command_queue>& queues, const RuntimeOptions& options)
      : devices(context, queues, options) {}

  std::size_t size() const noexcept { return devices.size(); }
  DeviceSlot& slot(std::size_t i) { return devices.slot(i); }
  const DeviceSlot& slot(std::size_t i) const { return devices.slot(i); }
  const BinaryCache& binary_cache() const noexcept { return devices.binary_cache(); }

  RuntimeImpl devices;
  OpSettings ops;
  SchedState sched;
};

// The engine behind a public Runtime (the library's own code and its tests use this; the
// public header only names the friend).
struct EngineAccess {
  static Engine& of(Runtime& rt) { return *rt.impl_; }
  static const Engine& of(const Runtime& rt) { return *rt.impl_; }
};
inline Engine& engine(Runtime& rt) { return EngineAccess::of(rt); }
inline const Engine& engine(const Runtime& rt) { return EngineAccess::of(rt); }

}  // namespace anycl::detail
