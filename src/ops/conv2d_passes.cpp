// The pass classes: each checks its algorithm once, then enqueue() picks the function for it.
#include "ops/conv2d_passes.hpp"

#include <algorithm>

#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_nhwc.hpp"
#include "ops/conv2d_select.hpp"
#include "ops/conv2d_winograd.hpp"

namespace anycl::detail {

ConvOnDevice::ConvOnDevice(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo,
                           std::size_t workspace_cap)
    : slot_(slot), g_(d), algo_(algo), cap_(workspace_cap) {
  if (algo == ConvAlgo::Auto || !applies(algo, pass, d))
    fail(ANYCL_ERROR_UNSUPPORTED, std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) +
                                      " does not apply to this problem on " + slot.where());
}

ConvForward::ConvForward(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap)
    : ConvOnDevice(slot, ConvPass::Forward, d, algo, workspace_cap), relu_(d.relu) {}

Event ConvForward::enqueue(const ForwardTensors& t) const {
  switch (algo_) {
    case ConvAlgo::Gemm1x1:
      return runs_tiled_gemm(slot_) ? forward_gemm1x1_tiled(slot_, g_, t, relu_)
                                    : forward_gemm1x1(slot_, g_, t, relu_, cap_);
    case ConvAlgo::Direct: return forward_direct(slot_, g_, t, relu_);
    case ConvAlgo::ImplicitGemm: return forward_implicit(slot_, g_, t, relu_, cap_);
    case ConvAlgo::Winograd:
      return winograd_form(slot_) == WinogradForm::Tiled ? forward_winograd_tiled(slot_, g_, t, relu_, cap_)
                                                         : forward_winograd(slot_, g_, t, relu_, cap_);
    default:
      return runs_tiled_gemm(slot_) ? forward_im2col_tiled(slot_, g_, t, relu_, cap_)
                                    : forward_im2col(slot_, g_, t, relu_, cap_);
  }
}

ConvBackwardData::ConvBackwardData(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap)
    : ConvOnDevice(slot, ConvPass::BackwardData, d, algo, workspace_cap) {}

Event ConvBackwardData::enqueue(const BackwardDataTensors& t) const {
  switch (algo_) {
    case ConvAlgo::Gemm1x1: return backward_data_gemm1x1(slot_, g_, t);
    case ConvAlgo::Direct: return backward_data_direct(slot_, g_, t);
    case ConvAlgo::Winograd:
      return winograd_form(slot_) == WinogradForm::Tiled ? backward_data_winograd_tiled(slot_, g_, t, cap_)
                                                         : backward_data_winograd(slot_, g_, t, cap_);
    default:
      return runs_tiled_gemm(slot_) ? backward_data_im2col_tiled(slot_, g_, t, cap_)
                                    : backward_data_im2col(slot_, g_, t, cap_);
  }
}

ConvBackwardWeights::ConvBackwardWeights(const DeviceSlot& slot, const Conv2d& d, ConvAlgo algo,
                                         std::size_t workspace_cap)
    : ConvOnDevice(slot, ConvPass::BackwardWeights, d, algo, workspace_cap) {}

// Gemm1x1 has no backward-weights of its own: it is im2col with an identity im2col.
Event ConvBackwardWeights::enqueue(const BackwardWeightsTensors& t) const {
  if (algo_ == ConvAlgo::Direct) return backward_weights_direct(slot_, g_, t);
  if (algo_ == ConvAlgo::Winograd) return backward_weights_winograd(slot_, g_, t, cap_);
  if (algo_ == ConvAlgo::ImplicitGemm) return backward_weights_implicit(slot_, g_, t, cap_);
  return runs_tiled_gemm(slot_) ? backward_weights_im2col_tiled(slot_, g_, t, cap_)
                                : backward_weights_im2col(slot_, g_, t, cap_);
}

Event enqueue_conv(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap,
                   const ConvTensorSet& s) {
  if (d.layout == ConvLayout::Nhwc) return enqueue_conv_nhwc(slot, pass, d, algo, workspace_cap, s);
  switch (pass) {
    case ConvPass::Forward:
      return ConvForward(slot, d, algo, workspace_cap).enqueue({s.nchw, s.kcrs, s.kvec, s.nkpq});
    case ConvPass::BackwardData:
      return ConvBackwardData(slot, d, algo, workspace_cap).enqueue({s.nkpq, s.kcrs, s.nchw});
    default:
      return ConvBackwardWeights(slot, d, algo, workspace_cap).enqueue({s.nchw, s.nkpq, s.kcrs, s.kvec});
  }
}

bool writes(ConvPass pass, ConvRole role) {
  switch (pass) {
    case ConvPass::Forward: return role == ConvRole::Nkpq;
    case ConvPass::BackwardData: return role == ConvRole::Nchw;
    default: return role == ConvRole::Kcrs || role == ConvRole::Kvec;
  }
}

ConvOutputs conv_outputs(ConvPass pass, const Conv2d& d, const ConvTensorSet& s) {
  switch (pass) {
    case ConvPass::Forward: return {s.nkpq, nullptr, d.y_size()};
    case ConvPass::BackwardData: return {s.nchw, nullptr, d.x_size()};
    default: return {s.kcrs, s.kvec, d.w_size()};
  }
}

std::size_t conv_workspace_cap(std::size_t limit, const DeviceSlot& slot) {
  return std::min<std::uint64_t>(limit, slot.info.max_alloc);
}

}  // namespace anycl::detail
