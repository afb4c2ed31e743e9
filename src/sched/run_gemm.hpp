// Running a GEMM plan (planner.hpp) on host pointers or on device buffers.
#pragma once

#include "sched/planner.hpp"

namespace anycl::detail {

// On device buffers of the plan's home (a and b in the caller's order, offsets in the call):
// asynchronous; a split call's devices start after the work queued on home so far, and the
// returned event (on home's queue) ends when every device has.
template <typename T>
Event run_gemm(Engine& rt, const Plan& plan, const GemmCall& g, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c);

// On host pointers, synchronous: C changes only once every device finished.
template <typename T>
void run_gemm(Engine& rt, const Plan& plan, const GemmCall& g, const GemmExtents& e, T alpha, const T* a, const T* b,
              T beta, T* c);

}  // namespace anycl::detail
