// One Winograd convolution shared by devices of one context (README, "Multi-device").
#pragma once

#include <vector>

#include "ops/conv2d_dispatch.hpp"

namespace anycl::detail {

// The devices that share a pass, and their weights (the shares follow them).
struct SharedPass {
  std::vector<std::size_t> devices;
  std::vector<double> weights;
};

// The devices that run this host-pointer pass as one shared Winograd pass, or none when it does
// not apply: Auto mode, a forward or backward-data pass that runs Winograd and is worth
// splitting, every device with a share (weight > 0) in one context with the same packed-panel
// layout, the whole batch within one workspace.
SharedPass plan_shared_winograd(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, ConvAlgo algo);

// Runs it, each device taking a share of every stage by its weight. The output is written only
// after every device finished.
void run_conv_shared(RuntimeImpl& rt, const SharedPass& shared, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& host);

}  // namespace anycl::detail
