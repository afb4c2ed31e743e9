// The pieces of a split convolution (planner.hpp, PlanKind::Pieces).
#pragma once

#include <vector>

#include "sched/conv_host_views.hpp"
#include "sched/gate.hpp"
#include "sched/planner.hpp"

namespace anycl::detail {

// What the pass writes of the caller's buffers, for a gate: y, dx, or dw (and dbias).
std::vector<Region> output_regions(ConvPass pass, const Conv2d& d, const ConvTensorSet& t);

// Host pointers: each piece runs on its own queue, then the outputs are written: blocks of the
// caller's tensors, or, where pieces share an output slice (dx under a channel split, dw under a
// batch split), partial sums added on the host. Nothing is written before every device finished.
void run_conv_pieces(Engine& rt, const Plan& plan, const ConvCall& c, const ConvHostSet& h);

// Device buffers of the plan's home: a batch split over devices of one memory, reading and
// writing sub-buffers of the caller's tensors. Backward-weights: each piece's dw and dbias are
// partial sums, added into the caller's on home.
Event run_conv_buffer_pieces(Engine& rt, const Plan& plan, const ConvCall& c, const ConvTensorSet& t);

}  // namespace anycl::detail
