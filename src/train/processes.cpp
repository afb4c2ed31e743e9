#include "train/processes.hpp"

#include <vector>

namespace anycl::detail {

double allreduce_across_processes(Runtime& rt, const std::vector<Buffer>& grads, ProcessGroup& group, double loss_sum) {
  std::vector<float> message;
  for (const Buffer& g : grads) {
    const std::size_t at = message.size();
    message.resize(at + g.bytes() / sizeof(float));
    rt.read(g, message.data() + at, g.bytes());
  }
  // The loss sum as two floats, head and rounding error, keeps ~48 of the double's bits.
  const float head = float(loss_sum);
  message.push_back(head);
  message.push_back(float(loss_sum - double(head)));
  group.allreduce_sum(message.data(), message.size(), false);
  for (std::size_t t = 0, at = 0; t < grads.size(); ++t) {
    const Buffer& g = grads[t];
    rt.write(g, message.data() + at, g.bytes());
    at += g.bytes() / sizeof(float);
  }
  return double(message[message.size() - 2]) + double(message.back());
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

}  // namespace anycl
