#include "train/processes.hpp"

#include <algorithm>
#include <vector>

namespace anycl::detail {

void exchange(ProcessGroup& group, float* data, std::size_t count) {
  on_group([&] { group.allreduce_sum(data, count, false); });
}

void put_double(float* two, double value) {
  two[0] = float(value);
  two[1] = float(value - double(two[0]));
}

double take_double(const float* two) { return double(two[0]) + double(two[1]); }

// Counts as floats are exact: a batch is far below 2^24 samples.
ProcessShare share_across_processes(ProcessGroup& group, std::size_t count, std::size_t parts) {
  const std::size_t ranks = group.size(), me = group.rank();
  std::vector<float> both(2 * ranks, 0.f);
  both[me] = float(count), both[ranks + me] = float(parts);
  exchange(group, both.data(), both.size());
  ProcessShare share;
  share.group = &group;
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto samples = std::size_t(both[r]), slots = std::size_t(both[ranks + r]);
    share.global += samples, share.slots += slots;
    if (r < me) share.first += samples, share.first_slot += slots;
  }
  return share;
}

std::vector<float> gather_rows(std::vector<float> rows, std::size_t row, const ProcessShare& share) {
  if (!share.group) return rows;
  std::vector<float> all(share.slots * row, -0.f);
  std::copy(rows.begin(), rows.end(), all.begin() + std::ptrdiff_t(share.first_slot * row));
  exchange(*share.group, all.data(), all.size());
  return all;
}

double allreduce_across_processes(Runtime& rt, const std::vector<Buffer>& grads, ProcessGroup& group, double loss_sum) {
  std::vector<float> message;
  for (const Buffer& g : grads) {
    const std::size_t at = message.size();
    message.resize(at + g.bytes() / sizeof(float));
    rt.read(g, message.data() + at, g.bytes());
  }
  message.resize(message.size() + 2);
  put_double(message.data() + message.size() - 2, loss_sum);
  group.allreduce_sum(message.data(), message.size(), false);
  for (std::size_t t = 0, at = 0; t < grads.size(); ++t) {
    const Buffer& g = grads[t];
    rt.write(g, message.data() + at, g.bytes());
    at += g.bytes() / sizeof(float);
  }
  return take_double(message.data() + message.size() - 2);
}

void report_failure(ProcessGroup& group, std::size_t count) noexcept {
  try {
    std::vector<float> ignored(count, 0.f);
    group.allreduce_sum(ignored.data(), count, true);
  } catch (...) {
  }
}

}  // namespace anycl::detail

namespace anycl {

ProcessGroup::~ProcessGroup() = default;
void ProcessGroup::start_sum(float* data, std::size_t count) { allreduce_sum(data, count, false); }
void ProcessGroup::progress() {}
void ProcessGroup::finish_sums() {}

}  // namespace anycl
