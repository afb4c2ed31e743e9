#include "train/allreduce.hpp"

#include <utility>

#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "ops/nn_layers.hpp"

namespace anycl::detail {
namespace {

// (destination, source) index pairs: log2(m) rounds, pairing neighbours at doubling distance.
std::vector<std::pair<std::size_t, std::size_t>> tree_pairs(std::size_t m) {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t stride = 1; stride < m; stride *= 2)
    for (std::size_t i = 0; i + stride < m; i += 2 * stride) pairs.emplace_back(i, i + stride);
  return pairs;
}

// Work enqueued after this call starts after everything queued so far on `producer`'s queue.
// The host waits rather than the consumer's queue (clEnqueueBarrierWithWaitList on the producer's
// event): with that barrier, examples/train_cnn on cpu/2 (POCL sub-devices) trained at 3.7k
// images/s, with the host wait at 12k (noisy shared cores, but the gap held).
void wait_for_queue(const DeviceSlot& producer) { Event(enqueue_marker(producer)).wait(); }

// Empty tensors (those of layers outside a pipeline stage) are skipped by every function here.
std::vector<float> read_floats(Runtime& rt, const Buffer& b) {
  std::vector<float> v(b.bytes() / sizeof(float));
  if (b) rt.read(b, v.data(), b.bytes());
  return v;
}

}  // namespace

bool share_context(const Runtime& rt, const std::vector<Replica>& replicas) {
  for (const Replica& r : replicas)
    if (engine(rt).slot(r.device()).context->get() != engine(rt).slot(replicas.front().device()).context->get())
      return false;
  return true;
}

void allreduce_on_device(Runtime& rt, const std::vector<Replica*>& parts) {
  for (const auto& [d, s] : tree_pairs(parts.size())) {
    const DeviceSlot& dst = engine(rt).slot(parts[d]->device());
    wait_for_queue(engine(rt).slot(parts[s]->device()));
    for (std::size_t t = 0; t < parts[d]->grads().size(); ++t) {
      const Buffer& g = parts[d]->grads()[t];
      if (g) accumulate(dst, g.native(), parts[s]->grads()[t].native(), g.bytes() / sizeof(float));
    }
  }
}

void add_in_tree_order(const std::vector<float*>& parts, std::size_t count) {
  for (const auto& [d, s] : tree_pairs(parts.size()))
    for (std::size_t i = 0; i < count; ++i) parts[d][i] += parts[s][i];
}

void allreduce_host_staged(Runtime& rt, const std::vector<Replica*>& parts) {
  if (parts.size() < 2) return;
  const std::size_t tensors = parts.front()->grads().size();
  std::vector<std::vector<std::vector<float>>> host(parts.size());
  for (std::size_t p = 0; p < parts.size(); ++p)
    for (std::size_t t = 0; t < tensors; ++t) host[p].push_back(read_floats(rt, parts[p]->grads()[t]));
  for (std::size_t t = 0; t < tensors; ++t) {
    std::vector<float*> of_parts;
    for (auto& part : host) of_parts.push_back(part[t].data());
    add_in_tree_order(of_parts, host.front()[t].size());
  }
  for (std::size_t t = 0; t < tensors; ++t)
    if (parts.front()->grads()[t]) rt.write(parts.front()->grads()[t], host.front()[t].data(), host.front()[t].size() * sizeof(float));
}

// The root's queue does the copies (any queue of the context may copy between its buffers), so
// they follow the update without a cross-device wait; callers finish() before the replicas run.
void broadcast_on_device(Runtime& rt, const std::vector<Replica>& replicas) {
  const DeviceSlot& root = engine(rt).slot(replicas.front().device());
  for (std::size_t r = 1; r < replicas.size(); ++r)
    for (std::size_t t = 0; t < replicas[r].params().size(); ++t) {
      const Buffer& to = replicas[r].params()[t];
      if (to) check(clEnqueueCopyBuffer(root.queue.get(), replicas.front().params()[t].native(), to.native(), 0, 0,
                                to.bytes(), 0, nullptr, nullptr),
            "clEnqueueCopyBuffer", root.where());
    }
}

void broadcast_host_staged(Runtime& rt, const std::vector<Replica>& replicas) {
  for (std::size_t t = 0; t < replicas.front().params().size(); ++t) {
    const std::vector<float> w = read_floats(rt, replicas.front().params()[t]);
    for (std::size_t r = 1; r < replicas.size() && !w.empty(); ++r) rt.write(replicas[r].params()[t], w.data(), w.size() * sizeof(float));
  }
}

}  // namespace anycl::detail
