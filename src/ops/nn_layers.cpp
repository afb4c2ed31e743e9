#include "ops/nn_layers.hpp"

namespace anycl::detail {
namespace {

const char* const kFamily = "nn_layers";

// One work-item per element of an n-element range.
template <typename... Args>
Event run_1d(const DeviceSlot& slot, const char* name, std::size_t n, const Args&... args) {
  const std::size_t lws = std::size_t(slot.program(kFamily).param("NN_LWS"));
  return run_kernel(slot, kFamily, name, {n, 1, 1}, {lws, 1, 1}, args...);
}

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

Event sgd_momentum(const DeviceSlot& slot, cl_mem w, cl_mem v, cl_mem g, std::size_t n, float lr, float momentum) {
  return run_1d(slot, "sgd_momentum", n, w, v, g, cl_int(n), lr, momentum);
}

}  // namespace anycl::detail
