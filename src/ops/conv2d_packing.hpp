// The packed filter operand of the GEMM-based convolutions, one block per group.
#pragma once

#include <memory>
#include <vector>

#include "ops/conv2d_geometry.hpp"
#include "ops/conv2d_passes.hpp"
#include "runtime/workspace.hpp"

namespace anycl::detail {

// W_g (forward, Kg x CRS) or W_g^T (backward-data, CRS x Kg) of every group in packed-A layout.
// The micro-kernel takes no A offset, so groups after the first get their own copy. w starts w_off
// elements into its buffer.
class PackedFilter {
 public:
  PackedFilter(const DeviceSlot& slot, const ConvGeom& g, cl_mem w, bool transposed, std::size_t w_off = 0);
  cl_mem group(cl_int grp) const { return grp == 0 ? all_->mem() : parts_[grp - 1]->mem(); }

 private:
  std::unique_ptr<Workspace> all_;
  std::vector<std::unique_ptr<Workspace>> parts_;
};

// forward_gemm1x1 with its filter already packed (W_g, or W_g^T where a phase of backward-data
// needs it); y starts y_off elements into its buffer.
Event forward_gemm1x1_packed(const DeviceSlot& slot, const ConvGeom& g, const PackedFilter& filter,
                             const ForwardTensors& t, bool relu, std::size_t cap, std::size_t y_off);

// y[first..first+nimg) += bias, then ReLU, as flags say; y starts y_off elements into its buffer.
Event bias_act(const DeviceSlot& slot, const ConvGeom& g, cl_mem y, std::size_t first_image, std::size_t nimg,
               cl_mem bias, bool relu, std::size_t y_off = 0);

// dx of images [b0, b0 + nimg), group grp, gathered from col (CRS x PQ per image, images
// col_stride apart), overwritten.
Event col2im(const DeviceSlot& slot, const ConvGeom& g, cl_mem col, std::size_t col_stride, cl_mem dx, std::size_t b0,
             std::size_t nimg, cl_int grp);

// dbias = sum of dy over images [b0, b0 + nimg), added to dbias after the first chunk (b0 > 0).
Event dbias_im2col(const DeviceSlot& slot, const ConvGeom& g, cl_mem dy, std::size_t b0, std::size_t nimg,
                   cl_mem dbias);

}  // namespace anycl::detail
