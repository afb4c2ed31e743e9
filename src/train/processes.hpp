// The trainer's exchanges with the other processes of a ProcessGroup.
#pragma once

#include "runtime/error.hpp"
#include "train/passes.hpp"
#include "train/replica.hpp"

namespace anycl::detail {

// An exchange the group ended with an error: every process heard the verdict in it, so none
// reports its own failure on top (the others would wait for that exchange in vain).
class ExchangeFailed : public Error {
 public:
  using Error::Error;
};

// Runs `call` on the group, its Error rethrown as ExchangeFailed.
template <class Call>
void on_group(Call call) {
  try {
    call();
  } catch (const Error& e) {
    throw ExchangeFailed(e.status(), e.what());
  }
}

// group.allreduce_sum of a healthy process, its Error rethrown as ExchangeFailed.
void exchange(ProcessGroup& group, float* data, std::size_t count);

// A double sent through float sums as two floats, head and rounding error (~48 of its bits).
void put_double(float* two, double value);
double take_double(const float* two);

// The step's first exchange: every process's sample count (their sum is the global batch, those of
// the lower ranks this process's offset in it) and its most parts per pass (`parts`: the
// batch-norm merge slots it fills).
ProcessShare share_across_processes(ProcessGroup& group, std::size_t count, std::size_t parts);

// Every process's merge rows (`row` floats each) in slot order: this process's `rows` at its
// slots; a slot no process filled stays zeros. Without a group, `rows` itself. Exact: every other
// process adds -0 to each float.
std::vector<float> gather_rows(std::vector<float> rows, std::size_t row, const ProcessShare& share);

// `grads` (this process's sum over its devices, every tensor in plan order) become the sum over
// every process; returns the sum over the processes of `loss_sum`.
double allreduce_across_processes(Runtime& rt, const std::vector<Buffer>& grads, ProcessGroup& group, double loss_sum);

// Joins an exchange of `count` floats as a failed process, so the others stop instead of waiting;
// what the exchange throws back is dropped (the caller rethrows its own error).
void report_failure(ProcessGroup& group, std::size_t count) noexcept;

}  // namespace anycl::detail
