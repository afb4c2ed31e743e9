// One Winograd convolution shared by devices of one context (README, "Multi-device").
#pragma once

#include <optional>
#include <vector>

#include "ops/conv2d_dispatch.hpp"

namespace anycl::detail {

// The devices that share a pass, their weights (the shares follow them), and whether they claim
// the tile panels' work-groups from each other (sched/claims.hpp).
struct SharedPass {
  std::vector<std::size_t> devices;
  std::vector<double> weights;
  bool claimed = false;
};

// The devices that run this pass as one shared Winograd pass, or none when it does not apply:
// Auto mode, a forward or backward-data pass that runs Winograd and is worth splitting, every
// device with a share (weight > 0) in one context with the same packed-panel layout, the
// transformed filters within one workspace. With `home` (the device of the caller's buffers), only devices
// that share its memory take part, home among them and listed first.
SharedPass plan_shared_winograd(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, ConvAlgo algo,
                                std::optional<std::size_t> home = std::nullopt);

// Runs it, each device taking a share of every stage by its weight (the tile panels by claiming,
// when the devices can). The output is written only after every device finished.
void run_conv_shared(RuntimeImpl& rt, const SharedPass& shared, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& host);

// The same on device buffers of the first device (tensors in dispatch_conv's roles), without the
// uploads and reads: the devices write their panels of the caller's output in place, and the
// call stays asynchronous (see run_gemm_buffers for the ordering).
Event run_conv_shared_buffers(RuntimeImpl& rt, const SharedPass& shared, ConvPass pass, const Conv2d& d,
                              const ConvTensors& t);

}  // namespace anycl::detail
