// Convolution API: validation at the edge, algorithm choice, and host-pointer wrappers.
#include <cstdlib>
#include <vector>

#include "ops/conv2d_geometry.hpp"
#include "ops/conv2d_select.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/host_buffer.hpp"

namespace anycl {
namespace {

using detail::ConvPass;

const char* pass_name(ConvPass pass) {
  return pass == ConvPass::Forward ? "conv2d_forward"
                                   : pass == ConvPass::BackwardData ? "conv2d_backward_data" : "conv2d_backward_weights";
}

ConvAlgo resolve(ConvPass pass, const Conv2d& d, ConvAlgo algo) {
  if (algo == ConvAlgo::Auto) return detail::select(pass, d);
  if (!detail::applies(algo, pass, d))
    detail::fail(ANYCL_ERROR_UNSUPPORTED, std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) +
                                              " does not apply to this problem");
  return algo;
}

void check_tensor(const Buffer* b, std::size_t elems, std::size_t device, ConvPass pass, const char* name) {
  detail::check_operand(b, 0, elems, sizeof(float), device, std::string("anycl::") + pass_name(pass), name);
}

// Runs one pass on device buffers already checked. In `t`, x/w/y/bias play the pass's roles.
Event dispatch(Runtime& rt, ConvPass pass, const Conv2d& d, const detail::ConvTensors& t, std::size_t device,
               ConvAlgo algo) {
  using namespace detail;
  const DeviceSlot& slot = rt.impl().slot(device);
  const ConvGeom g(d);
  // No workspace may exceed what one allocation on the device can be: smaller chunks instead.
  const std::size_t cap = std::min<std::uint64_t>(rt.impl().conv_workspace_limit, slot.info.max_alloc);
  const ConvAlgo a = resolve(pass, d, algo);
  if (pass == ConvPass::Forward) {
    if (a == ConvAlgo::Gemm1x1) return forward_gemm1x1(slot, g, t, d.relu);
    if (a == ConvAlgo::Direct) return forward_direct(slot, g, t, d.relu);
    if (a == ConvAlgo::Winograd) return forward_winograd(slot, g, t, d.relu, cap);
    return forward_im2col(slot, g, t, d.relu, cap);
  }
  if (pass == ConvPass::BackwardData) {
    if (a == ConvAlgo::Gemm1x1) return backward_data_gemm1x1(slot, g, t);
    if (a == ConvAlgo::Direct) return backward_data_direct(slot, g, t);
    if (a == ConvAlgo::Winograd) return backward_data_winograd(slot, g, t, cap);
    return backward_data_im2col(slot, g, t, cap);
  }
  if (a == ConvAlgo::Direct) return backward_weights_direct(slot, g, t);
  return backward_weights_im2col(slot, g, t, cap);  // Gemm1x1 is im2col with an identity im2col here
}

// Host pointers: every input becomes a (zero-copy where possible) device view on device 0, every
// output a device copy that comes back at the end. Inputs are validated before anything is touched.
void run_host(Runtime& rt, ConvPass pass, const Conv2d& d, const float* in_a, const float* in_b, const float* bias_in,
              float* out, float* out2, ConvAlgo algo) {
  using namespace detail;
  d.validate();
  resolve(pass, d, algo);  // an inapplicable algorithm fails before any copy
  const std::string fn = std::string("anycl::") + pass_name(pass);
  const std::size_t sizes[3] = {d.x_size(), d.w_size(), d.y_size()};
  // Roles per pass: forward (x, w) -> y; backward-data (dy, w) -> dx; backward-weights (x, dy) -> dw.
  const std::size_t a_elems = pass == ConvPass::BackwardData ? sizes[2] : sizes[0];
  const std::size_t b_elems = pass == ConvPass::BackwardWeights ? sizes[2] : sizes[1];
  const std::size_t o_elems = pass == ConvPass::Forward ? sizes[2] : pass == ConvPass::BackwardData ? sizes[0] : sizes[1];
  if (!in_a || !in_b || !out) fail(ANYCL_ERROR_INVALID_ARGUMENT, fn + ": a tensor pointer is NULL");
  const DeviceSlot& slot = rt.impl().slot(0);
  HostBuffer a(slot, in_a, a_elems * sizeof(float), HostAccess::Read);
  HostBuffer b(slot, in_b, b_elems * sizeof(float), HostAccess::Read);
  HostBuffer o(slot, out, o_elems * sizeof(float), HostAccess::Write);
  std::unique_ptr<HostBuffer> extra;
  if (pass == ConvPass::Forward && bias_in)
    extra = std::make_unique<HostBuffer>(slot, bias_in, d.k * sizeof(float), HostAccess::Read);
  if (pass == ConvPass::BackwardWeights && out2)
    extra = std::make_unique<HostBuffer>(slot, out2, d.k * sizeof(float), HostAccess::Write);
  ConvTensors t{};
  cl_mem e = extra ? extra->mem() : nullptr;
  if (pass == ConvPass::Forward) t = {a.mem(), b.mem(), e, o.mem()};
  else if (pass == ConvPass::BackwardData) t = {o.mem(), b.mem(), nullptr, a.mem()};
  else t = {a.mem(), o.mem(), e, b.mem()};
  dispatch(rt, pass, d, t, 0, algo);
  if (!(extra && pass == ConvPass::BackwardWeights)) return o.download(slot);
  // Two outputs: dbias goes to a staging copy first, so a failing read changes neither.
  std::vector<float> dbias(d.k);
  extra->download(slot, dbias.data());
  o.download(slot);
  std::copy(dbias.begin(), dbias.end(), out2);
}

}  // namespace

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
  d.validate();
  const std::size_t dev = y.device();
  check_tensor(&x, d.x_size(), dev, ConvPass::Forward, "x");
  check_tensor(&w, d.w_size(), dev, ConvPass::Forward, "w");
  check_tensor(&y, d.y_size(), dev, ConvPass::Forward, "y");
  if (bias) check_tensor(bias, d.k, dev, ConvPass::Forward, "bias");
  return dispatch(rt, ConvPass::Forward, d, {x.native(), w.native(), bias ? bias->native() : nullptr, y.native()}, dev,
                  algo);
}

Event conv2d_backward_data(Runtime& rt, const Conv2d& d, const Buffer& dy, const Buffer& w, const Buffer& dx,
                           ConvAlgo algo) {
  d.validate();
  const std::size_t dev = dx.device();
  check_tensor(&dy, d.y_size(), dev, ConvPass::BackwardData, "dy");
  check_tensor(&w, d.w_size(), dev, ConvPass::BackwardData, "w");
  check_tensor(&dx, d.x_size(), dev, ConvPass::BackwardData, "dx");
  return dispatch(rt, ConvPass::BackwardData, d, {dx.native(), w.native(), nullptr, dy.native()}, dev, algo);
}

Event conv2d_backward_weights(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& dy, const Buffer& dw,
                              const Buffer* dbias, ConvAlgo algo) {
  d.validate();
  const std::size_t dev = dw.device();
  check_tensor(&x, d.x_size(), dev, ConvPass::BackwardWeights, "x");
  check_tensor(&dy, d.y_size(), dev, ConvPass::BackwardWeights, "dy");
  check_tensor(&dw, d.w_size(), dev, ConvPass::BackwardWeights, "dw");
  if (dbias) check_tensor(dbias, d.k, dev, ConvPass::BackwardWeights, "dbias");
  return dispatch(rt, ConvPass::BackwardWeights, d, {x.native(), dw.native(), dbias ? dbias->native() : nullptr, dy.native()},
                  dev, algo);
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
