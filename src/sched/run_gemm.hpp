// GEMM on host pointers over several devices (README, "Multi-device").
#pragma once

#include <vector>

#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"
#include "sched/plan.hpp"

namespace anycl::detail {

// How a validated host-pointer GEMM splits over the runtime's devices; empty for a one-device
// runtime. One piece: run on that device alone.
template <typename T>
std::vector<Piece> plan_gemm(RuntimeImpl& rt, const GemmShape& shape);

// Runs the pieces at once (one queue each); C is written only after every device finished.
template <typename T>
void run_gemm_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, const GemmShape& shape, const GemmExtents& e,
                     T alpha, const T* a, const T* b, T beta, T* c);

}  // namespace anycl::detail
