// Channels-last (NHWC, OHWI filters) convolution on one device. Pointwise layers are plain GEMMs
// over pixel rows of channels in every pass, and depthwise layers run a channels-last kernel of
// their own, and Winograd's panels form (every pass) and ImplicitGemm's forward read and write
// channels-last themselves, with no copy at all; the other algorithms run their NCHW kernels
// between batched transposes of the tensors into workspace (docs/layouts.md).
#include "ops/conv2d_nhwc.hpp"

#include <climits>
#include <memory>

#include "ops/conv2d_depthwise.hpp"
#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_select.hpp"
#include "ops/conv2d_winograd.hpp"
#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

Event transpose_images(const DeviceSlot& slot, cl_mem in, std::size_t in_off, cl_mem out, std::size_t out_off,
                       std::size_t batch, std::size_t rows, std::size_t cols) {
  const std::size_t tile = std::size_t(slot.program("conv_layout").param("LT_TILE"));
  return run_kernel(slot, "conv_layout", "transpose_batched", {cols, rows, batch}, {tile, tile, 1}, in,
                    cl_ulong(in_off), out, cl_ulong(out_off), cl_int(rows), cl_int(cols));
}

namespace {
// The pixel rows one GEMM runs over, as a 32-bit kernel argument of the bias kernels.
cl_int pixel_rows(const ConvGeom& g) {
  const std::size_t rows = g.n * g.PQ;
  if (rows > std::size_t(INT_MAX))
    fail(ANYCL_ERROR_UNSUPPORTED, "anycl::conv2d: n*p*q = " + std::to_string(rows) + " exceeds 2^31 - 1 in NHWC");
  return cl_int(rows);
}
}  // namespace

Event dbias_nhwc(const DeviceSlot& slot, const ConvGeom& g, cl_mem dy, cl_mem dbias) {
  const std::size_t lws = std::size_t(slot.program("conv_layout").param("LT_LWS"));
  return run_kernel(slot, "conv_layout", "nhwc_dbias", {std::size_t(g.K), 1, 1}, {lws, 1, 1}, dy, dbias, g.K,
                    pixel_rows(g));
}

namespace {

// A tensor role as a batch of (pixels x channels) matrices in NHWC: x and dx are n images of
// H*W pixels, y and dy n images of P*Q, filters K output channels of R*S taps.
struct ChannelsLast {
  std::size_t batch, pixels, channels;
};

ChannelsLast shape_of(ConvRole role, const ConvGeom& g) {
  switch (role) {
    case ConvRole::Nchw: return {g.n, std::size_t(g.H) * g.W, std::size_t(g.C)};
    case ConvRole::Kcrs: return {std::size_t(g.K), std::size_t(g.R) * g.S, std::size_t(g.Cg)};
    default: return {g.n, g.PQ, std::size_t(g.K)};
  }
}

cl_mem& tensor_of(ConvTensorSet& set, ConvRole role) {
  switch (role) {
    case ConvRole::Nchw: return set.nchw;
    case ConvRole::Kcrs: return set.kcrs;
    case ConvRole::Nkpq: return set.nkpq;
    default: return set.kvec;
  }
}
cl_mem tensor_of(const ConvTensorSet& set, ConvRole role) {
  ConvTensorSet copy = set;
  return tensor_of(copy, role);
}


// Every pass of a pointwise layer (stride 1, no padding: P*Q = H*W) as one GEMM per group over
// the n*H*W pixel rows; group `grp` is a column block of each tensor.
Event pointwise(const DeviceSlot& slot, ConvPass pass, const ConvGeom& g, const ConvTensorSet& t, bool relu) {
  const std::size_t rows = std::size_t(pixel_rows(g)), C = std::size_t(g.C), K = std::size_t(g.K);
  const std::size_t Cg = std::size_t(g.Cg), Kg = std::size_t(g.Kg);
  Event last;
  for (std::size_t grp = 0; grp < std::size_t(g.groups); ++grp) {
    GemmProblem p{};
    cl_mem a = nullptr, b = nullptr, c = nullptr;
    if (pass == ConvPass::Forward) {  // y (rows x Kg) = x (rows x Cg) * w^T (Cg x Kg)
      p.m = rows, p.n = Kg, p.k = Cg, p.trans_b = true, p.lda = C, p.ldb = Cg, p.ldc = K;
      p.a_off = grp * Cg, p.b_off = grp * Kg * Cg, p.c_off = grp * Kg, a = t.nchw, b = t.kcrs, c = t.nkpq;
    } else if (pass == ConvPass::BackwardData) {  // dx (rows x Cg) = dy (rows x Kg) * w (Kg x Cg)
      p.m = rows, p.n = Cg, p.k = Kg, p.lda = K, p.ldb = Cg, p.ldc = C;
      p.a_off = grp * Kg, p.b_off = grp * Kg * Cg, p.c_off = grp * Cg, a = t.nkpq, b = t.kcrs, c = t.nchw;
    } else {  // dw (Kg x Cg) = dy^T (Kg x rows) * x (rows x Cg)
      p.m = Kg, p.n = Cg, p.k = rows, p.trans_a = true, p.lda = K, p.ldb = C, p.ldc = Cg;
      p.a_off = grp * Kg, p.b_off = grp * Cg, p.c_off = grp * Kg * Cg, a = t.nkpq, b = t.nchw, c = t.kcrs;
    }
    last = Event(enqueue_gemm<float>(slot, p, 1.f, a, b, 0.f, c));
  }
  const std::size_t lws = std::size_t(slot.program("conv_layout").param("LT_LWS"));
  if (pass == ConvPass::Forward && (t.kvec || relu))
    last = run_kernel(slot, "conv_layout", "nhwc_bias_act", {K, rows, 1}, {lws, 1, 1}, t.nkpq, t.kvec ? t.kvec : t.nkpq,
                      g.K, cl_int(rows), cl_int(t.kvec != nullptr), cl_int(relu));
  if (pass == ConvPass::BackwardWeights && t.kvec) last = dbias_nhwc(slot, g, t.nkpq, t.kvec);
  return last;
}

// The NCHW pass between transposes: inputs into NCHW workspace, the pass, its output back.
Event transposed(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t cap,
                 const ConvTensorSet& t) {
  const ConvGeom g(d);
  Conv2d nchw = d;
  nchw.layout = ConvLayout::Nchw;
  ConvTensorSet inner = t;
  std::unique_ptr<Workspace> copies[3];
  constexpr ConvRole kRoles[] = {ConvRole::Nchw, ConvRole::Kcrs, ConvRole::Nkpq};
  for (ConvRole role : kRoles) {
    const ChannelsLast s = shape_of(role, g);
    copies[int(role)] = std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info,
                                                    workspace_bytes({s.batch, s.pixels, s.channels, sizeof(float)}));
    tensor_of(inner, role) = copies[int(role)]->mem();
    if (!writes(pass, role))
      transpose_images(slot, tensor_of(t, role), 0, copies[int(role)]->mem(), 0, s.batch, s.pixels, s.channels);
  }
  Event last = enqueue_conv(slot, pass, nchw, algo, cap, inner);
  for (ConvRole role : kRoles) {
    if (!writes(pass, role)) continue;
    const ChannelsLast s = shape_of(role, g);
    last = transpose_images(slot, copies[int(role)]->mem(), 0, tensor_of(t, role), 0, s.batch, s.channels, s.pixels);
  }
  return last;
}

}  // namespace

Event enqueue_conv_nhwc(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, ConvAlgo algo, std::size_t workspace_cap,
                        const ConvTensorSet& set) {
  if (algo == ConvAlgo::Auto || !applies(algo, pass, d))
    fail(ANYCL_ERROR_UNSUPPORTED, std::string("anycl::") + pass_name(pass) + ": algorithm " + to_string(algo) +
                                      " does not apply to this problem on " + slot.where());
  const ConvGeom g(d);
  if (algo == ConvAlgo::Gemm1x1) return pointwise(slot, pass, g, set, pass == ConvPass::Forward && d.relu);
  if (algo == ConvAlgo::Direct && depthwise_nhwc_fits(slot, pass, g))
    return depthwise_nhwc(slot, pass, g, set, pass == ConvPass::Forward && d.relu);
  // Winograd's backward-weights kernel reads channels-last x and dy and writes OHWI dw itself.
  if (algo == ConvAlgo::Winograd && pass == ConvPass::BackwardWeights)
    return backward_weights_winograd(slot, g, {set.nchw, set.nkpq, set.kcrs, set.kvec}, workspace_cap, ConvLayout::Nhwc);
  // So do its forward and backward-data kernels (the panels form; the tiled form is NCHW only).
  if (algo == ConvAlgo::Winograd && winograd_form(slot) == WinogradForm::Panels) {
    if (pass == ConvPass::Forward)
      return forward_winograd(slot, g, {set.nchw, set.kcrs, set.kvec, set.nkpq}, d.relu, workspace_cap,
                              ConvLayout::Nhwc);
    return backward_data_winograd(slot, g, {set.nkpq, set.kcrs, set.nchw}, workspace_cap, ConvLayout::Nhwc);
  }
  // ImplicitGemm's forward stages NHWC x and writes NHWC y itself: the transposes would move the
  // output, the largest of the stem's tensors, twice more.
  if (algo == ConvAlgo::ImplicitGemm && pass == ConvPass::Forward)
    return forward_implicit(slot, g, {set.nchw, set.kcrs, set.kvec, set.nkpq}, d.relu, workspace_cap, ConvLayout::Nhwc);
  return transposed(slot, pass, d, algo, workspace_cap, set);
}

}  // namespace anycl::detail
