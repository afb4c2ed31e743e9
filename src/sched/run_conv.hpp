// Running a convolution plan (planner.hpp) on host pointers or on device buffers.
#pragma once

#include "sched/conv_host_views.hpp"
#include "sched/planner.hpp"

namespace anycl::detail {

// On device buffers of the plan's home, asynchronous (ordered as run_gemm on buffers is).
Event run_conv(Engine& rt, const Plan& plan, const ConvCall& c, const ConvTensorSet& t);

// On host pointers, synchronous: the outputs change only once every device finished.
void run_conv(Engine& rt, const Plan& plan, const ConvCall& c, const ConvHostSet& h);

}  // namespace anycl::detail
