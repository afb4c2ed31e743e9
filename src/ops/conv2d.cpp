// Convolution API: validation at the edge, algorithm choice, and host-pointer wrappers.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ops/buffer_calls.hpp"
#include "ops/conv2d_dispatch.hpp"
#include "sched/run_conv.hpp"
#include "sched/run_conv_buffers.hpp"
#include "sched/run_conv_shared.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/host_buffer.hpp"

namespace anycl::detail {

const char* pass_name(ConvPass pass) {
  return pass == ConvPass::Forward ? "conv2d_forward"
                                   : pass == ConvPass::BackwardData ? "conv2d_backward_data" : "conv2d_backward_weights";
}

ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo) {
  if (algo == ConvAlgo::Auto) return select(pass, d);
  if (!applies(algo, pass, d))
    fail(ANYCL_ERROR_UNSUPPORTED,
         std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) + " does not apply to this problem");
  return algo;
}

Event dispatch_conv(RuntimeImpl& rt, std::size_t device, ConvPass pass, const Conv2d& d, const ConvTensors& t,
                    ConvAlgo algo) {
  const DeviceSlot& slot = rt.slot(device);
  const ConvGeom g(d);
  const std::size_t cap = conv_workspace_cap(rt, slot);
  const ConvAlgo a = resolve(pass, d, algo);
  if (pass == ConvPass::Forward) {
    if (a == ConvAlgo::Gemm1x1) return forward_gemm1x1(slot, g, t, d.relu, cap);
    if (a == ConvAlgo::Direct) return forward_direct(slot, g, t, d.relu);
    if (a == ConvAlgo::Winograd) return forward_winograd(slot, g, t, d.relu);
    return forward_im2col(slot, g, t, d.relu, cap);
  }
  if (pass == ConvPass::BackwardData) {
    if (a == ConvAlgo::Gemm1x1) return backward_data_gemm1x1(slot, g, t);
    if (a == ConvAlgo::Direct) return backward_data_direct(slot, g, t);
    if (a == ConvAlgo::Winograd) return backward_data_winograd(slot, g, t);
    return backward_data_im2col(slot, g, t, cap);
  }
  if (a == ConvAlgo::Direct) return backward_weights_direct(slot, g, t);
  return backward_weights_im2col(slot, g, t, cap);  // Gemm1x1 is im2col with an identity im2col here
}

std::size_t conv_workspace_cap(const RuntimeImpl& rt, const DeviceSlot& slot) {
  return std::min<std::uint64_t>(rt.conv_workspace_limit, slot.info.max_alloc);
}

std::size_t output_elems(ConvPass pass, const Conv2d& d) {
  return pass == ConvPass::Forward ? d.y_size() : pass == ConvPass::BackwardData ? d.x_size() : d.w_size();
}

ConvHostViews::ConvHostViews(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, const ConvHostTensors& h,
                             bool async_upload)
    : pass_(pass) {
  const std::size_t sizes[3] = {d.x_size(), d.w_size(), d.y_size()};
  const std::size_t a_elems = pass == ConvPass::BackwardData ? sizes[2] : sizes[0];
  const std::size_t b_elems = pass == ConvPass::BackwardWeights ? sizes[2] : sizes[1];
  const std::size_t o_elems = output_elems(pass, d);
  a_ = std::make_unique<HostBuffer>(slot, h.in_a, a_elems * sizeof(float), HostAccess::Read, async_upload);
  b_ = std::make_unique<HostBuffer>(slot, h.in_b, b_elems * sizeof(float), HostAccess::Read, async_upload);
  o_ = std::make_unique<HostBuffer>(slot, h.out, o_elems * sizeof(float), HostAccess::Write);
  if (pass == ConvPass::Forward && h.bias)
    extra_ = std::make_unique<HostBuffer>(slot, h.bias, d.k * sizeof(float), HostAccess::Read, async_upload);
  if (pass == ConvPass::BackwardWeights && h.out2)
    extra_ = std::make_unique<HostBuffer>(slot, h.out2, d.k * sizeof(float), HostAccess::Write);
  const cl_mem e = extra_ ? extra_->mem() : nullptr;
  if (pass == ConvPass::Forward) t_ = {a_->mem(), b_->mem(), e, o_->mem()};
  else if (pass == ConvPass::BackwardData) t_ = {o_->mem(), b_->mem(), nullptr, a_->mem()};
  else t_ = {a_->mem(), o_->mem(), e, b_->mem()};
}

void ConvHostViews::download(const DeviceSlot& slot) {
  if (!(extra_ && pass_ == ConvPass::BackwardWeights)) return o_->download(slot);
  // Two outputs: dbias goes to a staging copy first, so a failing read changes neither.
  std::vector<float> dbias(extra_->bytes() / sizeof(float));
  extra_->download(slot, dbias.data());
  o_->download(slot);
  std::memcpy(extra_->host(), dbias.data(), extra_->bytes());
}

}  // namespace anycl::detail

namespace anycl {
namespace {

using detail::ConvPass;
using detail::pass_name;
using detail::resolve;

// Auto takes the find step's winner when find is on (set_conv_find); otherwise resolve() decides.
ConvAlgo choose(Runtime& rt, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t device) {
  if (algo == ConvAlgo::Auto && rt.impl().conv_find) return conv2d_find(rt, d, pass, device).algo;
  return resolve(pass, d, algo);
}

void check_tensor(const Buffer* b, std::size_t elems, std::size_t device, ConvPass pass, const char* name) {
  detail::check_operand(b, 0, elems, sizeof(float), device, std::string("anycl::") + pass_name(pass), name);
}

// Host pointers: on a runtime with several devices, devices of one context share a Winograd pass
// (src/sched/run_conv_shared.cpp), other calls are split into pieces, each taking Auto's choice
// for its own shape; otherwise (or when the plan keeps it on one device) every tensor becomes a
// view on that device, the find step applies, and the output comes back. Inputs are validated
// before anything is touched.
void run_host(Runtime& rt, ConvPass pass, const Conv2d& d, const float* in_a, const float* in_b, const float* bias_in,
              float* out, float* out2, ConvAlgo algo) {
  using namespace detail;
  d.validate();
  resolve(pass, d, algo);  // an inapplicable algorithm fails before any copy
  if (!in_a || !in_b || !out)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string("anycl::") + pass_name(pass) + ": a tensor pointer is NULL");
  const ConvHostTensors host{in_a, in_b, bias_in, out, out2};
  if (const SharedPass shared = plan_shared_winograd(rt.impl(), pass, d, algo); shared.devices.size() > 1)
    return run_conv_shared(rt.impl(), shared, pass, d, host);
  const std::vector<Piece> pieces = plan_conv(rt.impl(), pass, d);
  if (pieces.size() > 1) return run_conv_pieces(rt.impl(), pieces, pass, d, host, algo);
  const std::size_t device = pieces.empty() ? 0 : pieces[0].device;
  const DeviceSlot& slot = rt.impl().slot(device);
  algo = choose(rt, pass, d, algo, device);
  ConvHostViews views(slot, pass, d, host);
  dispatch_conv(rt.impl(), device, pass, d, views.tensors(), algo);
  views.download(slot);
}

}  // namespace

namespace detail {

// Devices of one memory share a Winograd pass (forward, backward-data) under Auto, or split other
// forward and backward-data passes by images; backward-weights runs on the buffers' device.
Event conv_on_buffers(Runtime& rt, ConvPass pass, const Conv2d& d, const ConvBuffers& b, ConvAlgo algo,
                      Spread spread) {
  d.validate();
  const std::size_t dev = b.out->device();
  const bool fwd = pass == ConvPass::Forward, bwd_data = pass == ConvPass::BackwardData;
  check_tensor(b.in_a, bwd_data ? d.y_size() : d.x_size(), dev, pass, bwd_data ? "dy" : "x");
  check_tensor(b.in_b, pass == ConvPass::BackwardWeights ? d.y_size() : d.w_size(), dev, pass,
               pass == ConvPass::BackwardWeights ? "dy" : "w");
  check_tensor(b.out, output_elems(pass, d), dev, pass, fwd ? "y" : bwd_data ? "dx" : "dw");
  if (b.bias) check_tensor(b.bias, d.k, dev, pass, "bias");
  if (b.out2) check_tensor(b.out2, d.k, dev, pass, "dbias");
  const cl_mem a = b.in_a->native(), w = b.in_b->native(), o = b.out->native();
  const ConvTensors t = fwd        ? ConvTensors{a, w, b.bias ? b.bias->native() : nullptr, o}
                        : bwd_data ? ConvTensors{o, w, nullptr, a}
                                   : ConvTensors{a, o, b.out2 ? b.out2->native() : nullptr, w};
  algo = choose(rt, pass, d, algo, dev);
  if (spread == Spread::Devices) {
    if (const SharedPass shared = plan_shared_winograd(rt.impl(), pass, d, algo, dev); shared.devices.size() > 1)
      return run_conv_shared_buffers(rt.impl(), shared, pass, d, t);
    if (const auto pieces = plan_conv_buffers(rt.impl(), pass, d, dev); pieces.size() > 1)
      return run_conv_buffers(rt.impl(), pieces, pass, d, t, algo, dev);
  }
  if (spread == Spread::Home) return dispatch_conv(rt.impl(), dev, pass, d, t, algo);
  // Several kernels may write the outputs (chunks of images, dw then dbias): held back until all
  // are queued, so that a failure part-way leaves the caller's outputs as they were. A training
  // replica's calls (Spread::Home) write the trainer's own buffers, and a failed step throws.
  const DeviceSlot& slot = rt.impl().slot(dev);
  Gate gate(slot, {&slot}, conv_outputs(pass, d, t));
  Event done = dispatch_conv(rt.impl(), dev, pass, d, t, algo);
  gate.open();
  return done;
}

}  // namespace detail

ConvAlgo conv2d_select(const Runtime&, const Conv2d& d) {
  d.validate();
  return detail::select(ConvPass::Forward, d);
}

void set_conv_workspace_limit(Runtime& rt, std::size_t bytes) {
  if (bytes == 0) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "set_conv_workspace_limit: the limit must be positive");
  rt.impl().conv_workspace_limit = bytes;
}

Event conv2d_forward(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& w, const Buffer* bias,
                     const Buffer& y, ConvAlgo algo) {
  return detail::conv_on_buffers(rt, ConvPass::Forward, d, {&x, &w, bias, &y, nullptr}, algo, detail::Spread::Devices);
}

Event conv2d_backward_data(Runtime& rt, const Conv2d& d, const Buffer& dy, const Buffer& w, const Buffer& dx,
                           ConvAlgo algo) {
  return detail::conv_on_buffers(rt, ConvPass::BackwardData, d, {&dy, &w, nullptr, &dx, nullptr}, algo,
                                 detail::Spread::Devices);
}

Event conv2d_backward_weights(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& dy, const Buffer& dw,
                              const Buffer* dbias, ConvAlgo algo) {
  return detail::conv_on_buffers(rt, ConvPass::BackwardWeights, d, {&x, &dy, nullptr, &dw, dbias}, algo,
                                 detail::Spread::Devices);
}

void conv2d_forward(Runtime& rt, const Conv2d& d, const float* x, const float* w, const float* bias, float* y,
                    ConvAlgo algo) {
  run_host(rt, ConvPass::Forward, d, x, w, bias, y, nullptr, algo);
}

void conv2d_backward_data(Runtime& rt, const Conv2d& d, const float* dy, const float* w, float* dx, ConvAlgo algo) {
  run_host(rt, ConvPass::BackwardData, d, dy, w, nullptr, dx, nullptr, algo);
}

void conv2d_backward_weights(Runtime& rt, const Conv2d& d, const float* x, const float* dy, float* dw, float* dbias,
                             ConvAlgo algo) {
  run_host(rt, ConvPass::BackwardWeights, d, x, dy, nullptr, dw, dbias, algo);
}

}  // namespace anycl
