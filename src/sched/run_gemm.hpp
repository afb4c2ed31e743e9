// GEMM on host pointers over several devices (README, "Multi-device").
#pragma once

#include <vector>

#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"
#include "sched/plan.hpp"

namespace anycl::detail {

// How a validated GEMM splits over the runtime's devices; empty for a one-device runtime. One
// piece: run on that device alone. With `home` (device buffers), only devices that share home's
// memory take part.
template <typename T>
std::vector<Piece> plan_gemm(RuntimeImpl& rt, const GemmShape& shape, const DeviceSlot* home = nullptr);

// Runs the pieces at once (one queue each); C is written only after every device finished.
template <typename T>
void run_gemm_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, const GemmShape& shape, const GemmExtents& e,
                     T alpha, const T* a, const T* b, T beta, T* c);

// On device buffers of `home` (p normalized, with the caller's offsets; a and b in p's order):
// each piece's kernels write its block of c in place, and the call stays asynchronous. The
// devices start after the work queued on home so far, and the returned event (on home's queue,
// which waits for them) ends when every piece has.
template <typename T>
Event run_gemm_buffers(RuntimeImpl& rt, const std::vector<Piece>& pieces, const DeviceSlot& home, const GemmProblem& p,
                       bool col, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c);

}  // namespace anycl::detail
