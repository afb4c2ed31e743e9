// The three convolution passes on one device, one class each: the constructor takes a validated
// problem and an algorithm already resolved for it (conv2d_select.hpp), enqueue() only launches.
#pragma once

#include "ops/conv2d_geometry.hpp"

namespace anycl::detail {

struct ForwardTensors {
  cl_mem x, w, bias, y;  // bias may be null
};
struct BackwardDataTensors {
  cl_mem dy, w, dx;
};
struct BackwardWeightsTensors {
  cl_mem x, dy, dw, dbias;  // dbias may be null
};

// What every pass holds. `workspace_cap` bounds the scratch of the im2col-style algorithms
// (larger problems run in chunks of images).
class ConvOnDevice {
 public:
  ConvAlgo algo() const noexcept { return algo_; }

 protected:
  // Throws ANYCL_ERROR_UNSUPPORTED when `algo` does not apply to (pass, d).
  ConvOnDevice(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap);
  const DeviceSlot& slot_;
  ConvGeom g_;
  ConvAlgo algo_;
  std::size_t cap_;
};

// (x, w, bias) -> y, with the descriptor's ReLU.
class ConvForward : public ConvOnDevice {
 public:
  ConvForward(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap);
  Event enqueue(const ForwardTensors& t) const;

 private:
  bool relu_;
};

// (dy, w) -> dx.
class ConvBackwardData : public ConvOnDevice {
 public:
  ConvBackwardData(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap);
  Event enqueue(const BackwardDataTensors& t) const;
};

// (x, dy) -> dw, dbias.
class ConvBackwardWeights : public ConvOnDevice {
 public:
  ConvBackwardWeights(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap);
  Event enqueue(const BackwardWeightsTensors& t) const;
};

// A pass's tensors by their shape, for code that slices, copies or views them whatever way the
// data flows (the scheduler's splits, the find step's scratch): `nchw` is x (dx in
// backward-data), `kcrs` is w (dw in backward-weights), `nkpq` is y (dy in both backward passes)
// and `kvec` the per-channel bias (dbias in backward-weights, unused in backward-data).
struct ConvTensorSet {
  cl_mem nchw, kcrs, nkpq, kvec;
};

enum class ConvRole { Nchw, Kcrs, Nkpq, Kvec };
// Whether the pass writes the tensor of that role: y; dx; dw and dbias.
bool writes(ConvPass pass, ConvRole role);

// The pass's class built and enqueued on `set` in the pass's roles.
Event enqueue_conv(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap,
                   const ConvTensorSet& set);

// The tensors a pass writes, in the set: y, dx, or dw (and dbias, null when absent).
struct ConvOutputs {
  cl_mem main, kvec;
  std::size_t main_elems;
};
ConvOutputs conv_outputs(ConvPass pass, const Conv2d& d, const ConvTensorSet& set);

// The most one convolution workspace may take on the slot: the runtime's limit, and no more than
// one allocation on the device can be.
std::size_t conv_workspace_cap(std::size_t limit, const DeviceSlot& slot);

}  // namespace anycl::detail
