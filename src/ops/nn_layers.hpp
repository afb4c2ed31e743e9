// Enqueueing the kernels of cl_kernels/nn_layers.cl and nn_batchnorm.cl on one device (sizes are
// element counts).
#pragma once

#include "runtime/launch.hpp"

namespace anycl::detail {

Event bias_add_rows(const DeviceSlot& slot, cl_mem y, cl_mem bias, std::size_t rows, std::size_t cols, bool relu);
Event relu_backward(const DeviceSlot& slot, cl_mem dy, cl_mem y, std::size_t n);

// Pooling over `planes` H x W planes into P x Q outputs (windows size x size, stride size;
// average pooling's windows are size x size_w when size_w is set).
struct PoolGeom {
  std::size_t planes, h, w, p, q, size;
  std::size_t size_w = 0;
};
Event maxpool_forward(const DeviceSlot& slot, const PoolGeom& g, cl_mem x, cl_mem y, cl_mem arg);
Event maxpool_backward(const DeviceSlot& slot, const PoolGeom& g, cl_mem dy, cl_mem arg, cl_mem dx);

Event softmax_xent(const DeviceSlot& slot, cl_mem z, cl_mem labels, cl_mem loss, cl_mem dz, std::size_t rows,
                   std::size_t classes, float scale);
Event sum_rows(const DeviceSlot& slot, cl_mem g, cl_mem db, std::size_t rows, std::size_t cols);
Event accumulate(const DeviceSlot& slot, cl_mem dst, cl_mem src, std::size_t n);
Event sgd_momentum(const DeviceSlot& slot, cl_mem w, cl_mem v, cl_mem g, std::size_t n, float lr, float momentum,
                   float decay = 0.f);

// Adam's hyper-parameters for one step; step = lr / (1 - b1^t), root_bc2 = sqrt(1 - b2^t).
struct AdamStep {
  float lr, b1, b2, eps, decay;
  bool decoupled;
  float step, root_bc2;
};
Event adam(const DeviceSlot& slot, cl_mem w, cl_mem m, cl_mem v, cl_mem g, std::size_t n, const AdamStep& s);

Event avgpool_forward(const DeviceSlot& slot, const PoolGeom& g, cl_mem x, cl_mem y);
Event avgpool_backward(const DeviceSlot& slot, const PoolGeom& g, cl_mem dy, cl_mem dx);

// The mask of a dropout layer on n elements, per_sample of each, the first sample being number
// `first` of the global batch.
struct DropoutMask {
  std::size_t n, per_sample, first;
  cl_uint seed, threshold;  // threshold = rate * 2^32
  float scale;              // 1 / (1 - rate)
};
Event dropout_forward(const DeviceSlot& slot, const DropoutMask& m, cl_mem x, cl_mem y);
Event dropout_backward(const DeviceSlot& slot, const DropoutMask& m, cl_mem dy, cl_mem dx);
// The host's copy of the kernels' mix32 (dropout seeds are mixed on the host too).
cl_uint mix32(cl_uint h);

Event add_forward(const DeviceSlot& slot, cl_mem a, cl_mem b, cl_mem y, std::size_t n, bool relu);
// What the residual join's backward does with a branch's input gradient.
enum class GradWrite { Skip = 0, Copy = 1, Add = 2 };
// dy masked by the ReLU output y (when relu) into da and db, each as its GradWrite says (a
// skipped one is not touched: pass any buffer).
Event add_backward(const DeviceSlot& slot, cl_mem dy, cl_mem y, cl_mem da, cl_mem db, std::size_t n, bool relu,
                   GradWrite a, GradWrite b);
Event copy_floats(const DeviceSlot& slot, cl_mem dst, cl_mem src, std::size_t n);

// Batch normalisation over n samples of c channels of hw elements (nn_batchnorm.cl).
struct NormGeom {
  std::size_t n, c, hw;
};
// `whole`: these n samples are the whole batch, so bn_stats also writes `stats` (mean,
// 1 / sqrt(var + eps)) and bn_backward_sums `sums` (sum dy, sum dy * xhat) on the device.
Event bn_stats(const DeviceSlot& slot, const NormGeom& g, cl_mem x, cl_mem part, cl_mem stats, bool whole, float eps);
Event bn_forward(const DeviceSlot& slot, const NormGeom& g, cl_mem x, cl_mem y, cl_mem stats, cl_mem gamma,
                 cl_mem beta, bool relu);
Event bn_backward_sums(const DeviceSlot& slot, const NormGeom& g, cl_mem dy, cl_mem y, cl_mem x, cl_mem stats,
                       cl_mem dgamma, cl_mem dbeta, cl_mem sums, bool relu, bool whole);
Event bn_backward_data(const DeviceSlot& slot, const NormGeom& g, cl_mem dy, cl_mem x, cl_mem stats, cl_mem gamma,
                       cl_mem sums, cl_mem dx, std::size_t count);

}  // namespace anycl::detail
