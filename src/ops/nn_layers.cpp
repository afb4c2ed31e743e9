#include "ops/nn_layers.hpp"

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

const char* const kFamily = "nn_layers";
const char* const kNormFamily = "nn_batchnorm";

// One work-item per element of an n-element range.
template <typename... Args>
Event run_family(const DeviceSlot& slot, const char* family, const char* name, std::size_t n, const Args&... args) {
  const std::size_t lws = std::size_t(slot.program(family).param("NN_LWS"));
  return run_kernel(slot, family, name, {n, 1, 1}, {lws, 1, 1}, args...);
}

template <typename... Args>
Event run_1d(const DeviceSlot& slot, const char* name, std::size_t n, const Args&... args) {
  return run_family(slot, kFamily, name, n, args...);
}

template <typename... Args>
Event run_norm(const DeviceSlot& slot, const char* name, std::size_t n, const Args&... args) {
  return run_family(slot, kNormFamily, name, n, args...);
}

cl_int avg_width(const PoolGeom& g) { return cl_int(g.size_w ? g.size_w : g.size); }

}  // namespace

Event bias_add_rows(const DeviceSlot& slot, cl_mem y, cl_mem bias, std::size_t rows, std::size_t cols, bool relu) {
  return run_1d(slot, "bias_add_rows", rows * cols, y, bias, cl_int(rows), cl_int(cols), cl_int(relu));
}

Event relu_backward(const DeviceSlot& slot, cl_mem dy, cl_mem y, std::size_t n) {
  return run_1d(slot, "relu_backward", n, dy, y, cl_int(n));
}

Event maxpool_forward(const DeviceSlot& slot, const PoolGeom& g, cl_mem x, cl_mem y, cl_mem arg) {
  return run_1d(slot, "maxpool_forward", g.planes * g.p * g.q, x, y, arg, cl_int(g.planes), cl_int(g.h), cl_int(g.w),
                cl_int(g.p), cl_int(g.q), cl_int(g.size));
}

Event maxpool_backward(const DeviceSlot& slot, const PoolGeom& g, cl_mem dy, cl_mem arg, cl_mem dx) {
  const std::size_t windows = g.planes * ceil_div(g.h, g.size) * ceil_div(g.w, g.size);
  return run_1d(slot, "maxpool_backward", windows, dy, arg, dx, cl_int(g.planes), cl_int(g.h),
                cl_int(g.w), cl_int(g.p), cl_int(g.q), cl_int(g.size));
}

Event softmax_xent(const DeviceSlot& slot, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz, std::size_t rows,
                   std::size_t classes, float scale) {
  return run_1d(slot, "softmax_xent", rows, z, labels, loss, dz, cl_int(rows), cl_int(classes), scale);
}

Event sum_rows(const DeviceSlot& slot, cl_mem g, cl_mem db, std::size_t rows, std::size_t cols) {
  return run_1d(slot, "sum_rows", cols, g, db, cl_int(rows), cl_int(cols));
}

Event accumulate(const DeviceSlot& slot, cl_mem dst, cl_mem src, std::size_t n) {
  return run_1d(slot, "accumulate", n, dst, src, cl_int(n));
}

Event sgd_momentum(const DeviceSlot& slot, cl_mem w, cl_mem v, cl_mem g, std::size_t n, float lr, float momentum,
                   float decay) {
  return run_1d(slot, "sgd_momentum", n, w, v, g, cl_int(n), lr, momentum, decay);
}

Event adam(const DeviceSlot& slot, cl_mem w, cl_mem m, cl_mem v, cl_mem g, std::size_t n, const AdamStep& s) {
  return run_1d(slot, "adam", n, w, m, v, g, cl_int(n), s.lr, s.b1, s.b2, s.eps, s.decay, cl_int(s.decoupled), s.step,
                s.root_bc2);
}

Event avgpool_forward(const DeviceSlot& slot, const PoolGeom& g, cl_mem x, cl_mem y) {
  return run_1d(slot, "avgpool_forward", g.planes * g.p * g.q, x, y, cl_int(g.planes), cl_int(g.h), cl_int(g.w),
                cl_int(g.p), cl_int(g.q), cl_int(g.size), avg_width(g));
}

Event avgpool_backward(const DeviceSlot& slot, const PoolGeom& g, cl_mem dy, cl_mem dx) {
  return run_1d(slot, "avgpool_backward", g.planes * g.h * g.w, dy, dx, cl_int(g.planes), cl_int(g.h), cl_int(g.w),
                cl_int(g.p), cl_int(g.q), cl_int(g.size), avg_width(g));
}

cl_uint mix32(cl_uint h) {
  h ^= h >> 16, h *= 0x7feb352dU;
  h ^= h >> 15, h *= 0x846ca68bU;
  h ^= h >> 16;
  return h;
}

Event dropout_forward(const DeviceSlot& slot, const DropoutMask& m, cl_mem x, cl_mem y) {
  return run_1d(slot, "dropout_forward", m.n, x, y, cl_int(m.n), cl_int(m.per_sample), cl_int(m.first), m.seed,
                m.threshold, m.scale);
}

Event dropout_backward(const DeviceSlot& slot, const DropoutMask& m, cl_mem dy, cl_mem dx) {
  return run_1d(slot, "dropout_backward", m.n, dy, dx, cl_int(m.n), cl_int(m.per_sample), cl_int(m.first), m.seed,
                m.threshold, m.scale);
}

Event add_forward(const DeviceSlot& slot, cl_mem a, cl_mem b, cl_mem y, std::size_t n, bool relu) {
  return run_1d(slot, "add_forward", n, a, b, y, cl_int(n), cl_int(relu));
}

Event add_backward(const DeviceSlot& slot, cl_mem dy, cl_mem y, cl_mem da, cl_mem db, std::size_t n, bool relu,
                   GradWrite a, GradWrite b) {
  return run_1d(slot, "add_backward", n, dy, y, da, db, cl_int(n), cl_int(relu), cl_int(a), cl_int(b));
}

Event copy_floats(const DeviceSlot& slot, cl_mem dst, cl_mem src, std::size_t n) {
  cl_event ev = nullptr;
  check(clEnqueueCopyBuffer(slot.queue.get(), src, dst, 0, 0, n * sizeof(float), 0, nullptr, &ev),
        "clEnqueueCopyBuffer", slot.where());
  return Event(ev);
}

Event bn_stats(const DeviceSlot& slot, const NormGeom& g, cl_mem x, cl_mem part, cl_mem stats, bool whole, float eps) {
  return run_norm(slot, "bn_stats", g.c, x, part, stats, cl_int(g.n), cl_int(g.c), cl_int(g.hw), cl_int(whole), eps);
}

Event bn_forward(const DeviceSlot& slot, const NormGeom& g, cl_mem x, cl_mem y, cl_mem stats, cl_mem gamma,
                 cl_mem beta, bool relu) {
  return run_norm(slot, "bn_forward", g.n * g.c * g.hw, x, y, stats, gamma, beta, cl_int(g.n), cl_int(g.c),
                  cl_int(g.hw), cl_int(relu));
}

Event bn_backward_sums(const DeviceSlot& slot, const NormGeom& g, cl_mem dy, cl_mem y, cl_mem x, cl_mem stats,
                       cl_mem dgamma, cl_mem dbeta, cl_mem sums, bool relu, bool whole) {
  return run_norm(slot, "bn_backward_sums", g.c, dy, y, x, stats, dgamma, dbeta, sums, cl_int(g.n), cl_int(g.c),
                  cl_int(g.hw), cl_int(relu), cl_int(whole));
}

Event bn_backward_data(const DeviceSlot& slot, const NormGeom& g, cl_mem dy, cl_mem x, cl_mem stats, cl_mem gamma,
                       cl_mem sums, cl_mem dx, std::size_t count) {
  return run_norm(slot, "bn_backward_data", g.n * g.c * g.hw, dy, x, stats, gamma, sums, dx, cl_int(g.n), cl_int(g.c),
                  cl_int(g.hw), float(count));
}

}  // namespace anycl::detail
