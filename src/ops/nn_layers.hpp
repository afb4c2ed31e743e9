// Enqueueing the kernels of cl_kernels/nn_layers.cl on one device (sizes are element counts).
#pragma once

#include "runtime/launch.hpp"

namespace anycl::detail {

Event bias_add_rows(const DeviceSlot& slot, cl_mem y, cl_mem bias, std::size_t rows, std::size_t cols, bool relu);
Event relu_backward(const DeviceSlot& slot, cl_mem dy, cl_mem y, std::size_t n);

// Pooling over `planes` H x W planes into P x Q outputs (windows size x size, stride size).
struct PoolGeom {
  std::size_t planes, h, w, p, q, size;
};
Event maxpool_forward(const DeviceSlot& slot, const PoolGeom& g, cl_mem x, cl_mem y, cl_mem arg);
Event maxpool_backward(const DeviceSlot& slot, const PoolGeom& g, cl_mem dy, cl_mem arg, cl_mem dx);

Event softmax_xent(const DeviceSlot& slot, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz, std::size_t rows,
                   std::size_t classes, float scale);
Event sum_rows(const DeviceSlot& slot, cl_mem g, cl_mem db, std::size_t rows, std::size_t cols);
Event accumulate(const DeviceSlot& slot, cl_mem dst, cl_mem src, std::size_t n);
Event sgd_momentum(const DeviceSlot& slot, cl_mem w, cl_mem v, cl_mem g, std::size_t n, float lr, float momentum);

}  // namespace anycl::detail
