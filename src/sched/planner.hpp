// The planner: the one place that decides how a call runs on a runtime's devices.
#pragma once

#include <vector>

#include "sched/calls.hpp"
#include "sched/engine.hpp"
#include "sched/split.hpp"

namespace anycl::detail {

enum class PlanKind {
  OneDevice,  // the whole call on `device`
  Pieces,     // each piece a call of its own on its device, shares by weight
  Shared,     // one pass over devices of one memory, stage by stage (GEMM: claimed tiles)
};

// Devices that share one pass: the first lends the scratch and orders the call; the shares of
// unclaimed stages follow the weights.
struct SharedDevices {
  std::vector<std::size_t> devices;
  std::vector<double> weights;
  bool claimed = false;  // they take work-groups from common counters (claims.hpp)
};

struct Plan {
  PlanKind kind = PlanKind::OneDevice;
  std::size_t device = 0;  // OneDevice: where it runs
  std::vector<Piece> pieces;
  SharedDevices shared;
  // The settings the call runs with, each read once.
  GemmProvider provider = GemmProvider::Anycl;
  std::size_t workspace_limit = 0;  // convolution workspace cap before the device's own limit
  ConvAlgo algo = ConvAlgo::Auto;   // a convolution's algorithm (OneDevice, Shared), resolved
  // A public device-buffer call: held back until all of it is queued, so that a failure while
  // queueing leaves the caller's outputs as they were (gate.hpp).
  bool guard_outputs = false;
};

// In this order: a shared pass where the devices of one memory can share one (Auto mode, anycl's
// kernels, worth splitting), else pieces by weight where the split mode and the shape allow,
// else one device (the buffers' own, or the fastest). The convolution algorithm is resolved
// here, once for the call or once per piece: Auto's pick, or the find step's winner when find is
// on (one device, or the buffers' device).
Plan plan_call(Engine& rt, const Call& call);

}  // namespace anycl::detail
