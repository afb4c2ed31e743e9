// Summing the replicas' gradients onto the root replica, and copying the root's parameters back
// to every replica. The sum runs as a binomial tree in a fixed order (independent of timing), on
// device buffers or through the host: both paths add the same floats in the same order, so they
// give bitwise the same sum.
#pragma once

#include <vector>

#include "train/replica.hpp"

namespace anycl::detail {

// Whether every replica's device shares one OpenCL context (a buffer of one is usable by all).
bool share_context(const Runtime& rt, const std::vector<Replica>& replicas);

// grads() of parts[0] becomes the sum over `parts` (replicas whose backward pass is enqueued).
// On device: asynchronous, ordered across the queues by barriers.
void allreduce_on_device(Runtime& rt, const std::vector<Replica*>& parts);
void allreduce_host_staged(Runtime& rt, const std::vector<Replica*>& parts);
// parts[0][0, count) becomes the sum over the parts' host arrays, in the order of both all-reduces.
void add_in_tree_order(const std::vector<float*>& parts, std::size_t count);

// params() of every replica become those of replicas[0] (after what is queued on it). On device:
// enqueued on replicas[0]'s queue; finish it before the other replicas run.
void broadcast_on_device(Runtime& rt, const std::vector<Replica>& replicas);
void broadcast_host_staged(Runtime& rt, const std::vector<Replica>& replicas);

}  // namespace anycl::detail
