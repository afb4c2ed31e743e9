// Convolution on device buffers over the devices that share their memory, when the pass is not a
// shared Winograd pass (README, "Multi-device"): a batch split, in place.
#pragma once

#include <vector>

#include "ops/conv2d_dispatch.hpp"
#include "sched/gate.hpp"
#include "sched/plan.hpp"

namespace anycl::detail {

// What the pass writes of its tensors (t in dispatch_conv's roles): y, dx, or dw and dbias.
std::vector<Region> conv_outputs(ConvPass pass, const Conv2d& d, const ConvTensors& t);

// A batch split of a pass on buffers of `home`, over the devices that share home's memory (every
// mode: a channel split's output blocks are not contiguous), when it is worth splitting. Each
// device's images of x and y (dx, dy) start on every device's base-address alignment, so the
// slices can be sub-buffers. Empty: run on home.
std::vector<Piece> plan_conv_buffers(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, std::size_t home);

// Runs each piece's images through `algo` on its device, reading and writing sub-buffers of the
// caller's tensors (t in dispatch_conv's roles), asynchronously: ordered as run_gemm_buffers.
// Backward-weights: each piece's dw and dbias are partial sums, added into the caller's on home.
Event run_conv_buffers(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                       const ConvTensors& t, ConvAlgo algo, std::size_t home);

}  // namespace anycl::detail
