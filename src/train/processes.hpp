// The trainer's exchanges with the other processes of a ProcessGroup.
#pragma once

#include "train/replica.hpp"

namespace anycl::detail {

// `grads` (this process's sum over its devices, every tensor in plan order) become the sum over
// every process; returns the sum over the processes of `loss_sum`.
double allreduce_across_processes(Runtime& rt, const std::vector<Buffer>& grads, ProcessGroup& group, double loss_sum);

// Joins an exchange of `count` floats as a failed process, so the others stop instead of waiting;
// what the exchange throws back is dropped (the caller rethrows its own error).
void report_failure(ProcessGroup& group, std::size_t count) noexcept;

}  // namespace anycl::detail
