#include "train/buckets.hpp"

#include <chrono>
#include <string>
#include <thread>

#include "runtime/error.hpp"
#include "sched/engine.hpp"
#include "train/allreduce.hpp"
#include "train/processes.hpp"

namespace anycl::detail {

// Buckets close at a node boundary once they hold bucket_bytes, so a layer is never cut.
GradientBuckets::GradientBuckets(Runtime& rt, const ModelPlan& plan, std::vector<Part> parts, ProcessGroup& group,
                                 std::size_t bucket_bytes)
    : rt_(rt), plan_(plan), parts_(std::move(parts)), group_(group), of_node_(plan.layers.size()),
      offset_(plan.tensor_sizes.size() + 1) {
  for (std::size_t t = 0; t < plan.tensor_sizes.size(); ++t) offset_[t + 1] = offset_[t] + plan.tensor_sizes[t];
  const std::size_t limit = bucket_bytes / sizeof(float);
  for (std::size_t i = plan.layers.size(); i-- > 0;) {
    const std::size_t a = plan.layer_tensors[i], b = plan.layer_tensors[i + 1];
    if (a == b) continue;
    if (buckets_.empty() || offset_[buckets_.back().last] - offset_[buckets_.back().first] >= limit)
      buckets_.push_back({b, b, {}, {}, false});
    buckets_.back().first = a;
    of_node_[i] = buckets_.size() - 1;
  }
  for (std::size_t k = 0; k < buckets_.size(); ++k) {
    Bucket& b = buckets_[k];
    // The last bucket carries the loss's two floats too.
    const std::size_t floats = offset_[b.last] - offset_[b.first] + (k + 1 == buckets_.size() ? 2 : 0);
    b.host.assign(parts_.size(), std::vector<float>(floats));
    b.read.resize(parts_.size());
  }
}

void GradientBuckets::node_done(std::size_t i) {
  const std::size_t a = plan_.layer_tensors[i], b = plan_.layer_tensors[i + 1];
  if (a == b) return;
  Bucket& bucket = buckets_[of_node_[i]];
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    const DeviceSlot& slot = engine(rt_).slot(parts_[p].replica->device());
    for (std::size_t t = a; t < b; ++t) {
      cl_event ev = nullptr;
      check(clEnqueueReadBuffer(slot.queue.get(), parts_[p].replica->grads()[t].native(), CL_FALSE, 0,
                                plan_.tensor_sizes[t] * sizeof(float),
                                bucket.host[p].data() + offset_[t] - offset_[bucket.first], 0, nullptr, &ev),
            "clEnqueueReadBuffer", slot.where());
      bucket.read[p] = Event(ev);  // the queue is in order: the last read done means all are
    }
    if (a == bucket.first) check(clFlush(slot.queue.get()), "clFlush", slot.where());
  }
  bucket.enqueued = a == bucket.first;
  while (started_ + 1 < buckets_.size() && reads_done(buckets_[started_])) start_next({});
  group_.progress();
}

bool GradientBuckets::reads_done(const Bucket& b) const {
  if (!b.enqueued) return false;
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    cl_int status = CL_QUEUED;
    const std::string where = engine(rt_).slot(parts_[p].replica->device()).where();
    check(clGetEventInfo(b.read[p].native(), CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, nullptr),
          "clGetEventInfo", where);
    if (status < 0) check(status, "clEnqueueReadBuffer (gradients)", where);
    if (status != CL_COMPLETE) return false;
  }
  return true;
}

void GradientBuckets::start_next(const std::function<double()>& loss_sum) {
  Bucket& b = buckets_[started_++];
  std::vector<float*> of_parts;
  for (std::vector<float>& h : b.host) of_parts.push_back(h.data());
  add_in_tree_order(of_parts, offset_[b.last] - offset_[b.first]);
  std::vector<float>& sum = b.host.front();
  if (started_ == buckets_.size()) put_double(sum.data() + sum.size() - 2, loss_sum());
  on_group([&] { group_.start_sum(sum.data(), sum.size()); });
}

// Polls rather than blocks, so the sums already started advance meanwhile.
double GradientBuckets::exchange(const std::function<double()>& loss_sum) {
  while (started_ < buckets_.size()) {
    while (!reads_done(buckets_[started_])) {
      group_.progress();
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    start_next(loss_sum);
  }
  on_group([&] { group_.finish_sums(); });
  const Replica& root = *parts_.front().replica;
  for (const Bucket& b : buckets_)
    for (std::size_t t = b.first; t < b.last; ++t)
      rt_.write(root.grads()[t], b.host.front().data() + offset_[t] - offset_[b.first],
                plan_.tensor_sizes[t] * sizeof(float));
  const std::vector<float>& last = buckets_.back().host.front();
  return take_double(last.data() + last.size() - 2);
}

}  // namespace anycl::detail
