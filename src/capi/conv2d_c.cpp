#include "capi/convert.hpp"
#include "capi/guard.hpp"

namespace anycl::capi {

static_assert(int(anycl::ConvAlgo::Winograd) == ANYCL_CONV_WINOGRAD && int(anycl::ConvPass::BackwardWeights) ==
                  ANYCL_CONV_BACKWARD_WEIGHTS && int(anycl::ConvLayout::Nhwc) == ANYCL_CONV_NHWC,
              "the C enums mirror the C++ ones");

anycl::Conv2d to_desc(const anycl_conv2d_desc* d) {
  if (!d) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "conv2d: descriptor is NULL");
  anycl::Conv2d c;
  c.n = d->n, c.c = d->c, c.h = d->h, c.w = d->w, c.k = d->k, c.r = d->r, c.s = d->s;
  c.stride_h = d->stride_h, c.stride_w = d->stride_w;
  c.pad_top = d->pad_top, c.pad_left = d->pad_left, c.pad_bottom = d->pad_bottom, c.pad_right = d->pad_right;
  c.dilation_h = d->dilation_h, c.dilation_w = d->dilation_w, c.groups = d->groups;
  c.relu = d->relu != 0;
  // Read as an int: a C caller may store any value, which is no valid anycl_conv_layout in C++.
  const int layout = from_c_enum<int>(d->layout);
  if (layout != ANYCL_CONV_NCHW && layout != ANYCL_CONV_NHWC)
    throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "conv2d: descriptor layout = " + std::to_string(layout) +
                                                         " is neither ANYCL_CONV_NCHW (0) nor ANYCL_CONV_NHWC (1)");
  c.layout = anycl::ConvLayout(layout);
  return c;
}

}  // namespace anycl::capi

using anycl::capi::to_desc;

extern "C" {

anycl_status anycl_conv2d_output_size(const anycl_conv2d_desc* d, size_t* p, size_t* q) {
  return anycl::capi::guard([&] {
    const anycl::Conv2d c = to_desc(d);
    c.validate();
    if (!p || !q) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_conv2d_output_size: p or q is NULL");
    *p = c.p();
    *q = c.q();
  });
}

anycl_status anycl_conv2d_forward(anycl_runtime* rt, const anycl_conv2d_desc* d, const float* x, const float* w,
                                  const float* bias, float* y) {
  return anycl::capi::guard([&] {
    anycl::conv2d_forward(anycl::capi::runtime_or_throw(rt, "anycl_conv2d_forward"), to_desc(d), x, w, bias, y);
  });
}

anycl_status anycl_conv2d_backward_data(anycl_runtime* rt, const anycl_conv2d_desc* d, const float* dy, const float* w,
                                        float* dx) {
  return anycl::capi::guard([&] {
    anycl::conv2d_backward_data(anycl::capi::runtime_or_throw(rt, "anycl_conv2d_backward_data"), to_desc(d), dy, w, dx);
  });
}

anycl_status anycl_conv2d_backward_weights(anycl_runtime* rt, const anycl_conv2d_desc* d, const float* x,
                                           const float* dy, float* dw, float* dbias) {
  return anycl::capi::guard([&] {
    anycl::conv2d_backward_weights(anycl::capi::runtime_or_throw(rt, "anycl_conv2d_backward_weights"), to_desc(d), x, dy,
                                   dw, dbias);
  });
}

anycl_status anycl_conv2d_find(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_pass pass, size_t device,
                               anycl_conv_algo* algo, double* times_ms, int* timed) {
  return anycl::capi::guard([&] {
    anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, "anycl_conv2d_find");
    const anycl::Conv2d c = to_desc(d);
    if (!algo) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_conv2d_find: algo is NULL");
    const auto p = anycl::capi::from_c_enum<anycl::ConvPass>(pass);
    if (p != anycl::ConvPass::Forward && p != anycl::ConvPass::BackwardData && p != anycl::ConvPass::BackwardWeights)
      throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_conv2d_find: unknown pass " + std::to_string(int(p)));
    const anycl::ConvFindResult f = anycl::conv2d_find(r, c, p, device);
    *algo = anycl_conv_algo(f.algo);
    if (timed) *timed = f.timed;
    if (!times_ms) return;
    for (int i = 0; i < ANYCL_CONV_ALGO_COUNT; ++i) times_ms[i] = -1;
    for (const anycl::ConvAlgoTime& t : f.times) times_ms[int(t.algo) - 1] = t.ms;
  });
}

anycl_status anycl_runtime_set_conv_find(anycl_runtime* rt, int on) {
  return anycl::capi::guard(
      [&] { anycl::set_conv_find(anycl::capi::runtime_or_throw(rt, "anycl_runtime_set_conv_find"), on != 0); });
}

}  // extern "C"
