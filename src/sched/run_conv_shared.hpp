// One Winograd convolution shared by devices of one memory (docs/multi-device.md).
#pragma once

#include "sched/conv_host_views.hpp"
#include "sched/planner.hpp"

namespace anycl::detail {

// Runs it, each device taking a share of every stage by its weight (the tile panels by claiming,
// when the devices can). The output is written only after every device finished.
void run_conv_shared(Engine& rt, const SharedDevices& shared, ConvPass pass, const Conv2d& d, const ConvHostSet& h);

// The same on device buffers of the first device, without the uploads and reads: the devices
// write their panels of the caller's output in place, and the call stays asynchronous (ordered
// as a split call on buffers is).
Event run_conv_shared_buffers(Engine& rt, const SharedDevices& shared, ConvPass pass, const Conv2d& d,
                              const ConvTensorSet& t);

}  // namespace anycl::detail
