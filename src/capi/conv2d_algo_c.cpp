// The convolution calls with a chosen algorithm, the selector's pick and the workspace cap.
#include <string>

#include "capi/convert.hpp"
#include "capi/guard.hpp"

namespace {

static_assert(int(anycl::ConvAlgo::Auto) == ANYCL_CONV_AUTO && int(anycl::ConvAlgo::Im2col) == ANYCL_CONV_IM2COL &&
                  int(anycl::ConvAlgo::Gemm1x1) == ANYCL_CONV_GEMM1X1 &&
                  int(anycl::ConvAlgo::Direct) == ANYCL_CONV_DIRECT &&
                  int(anycl::ConvAlgo::ImplicitGemm) == ANYCL_CONV_IMPLICIT_GEMM,
              "the C algorithm values mirror the C++ ones");

// By reference: the bits are read as an int (from_c_enum), never loaded as the C enum.
anycl::ConvAlgo algo_or_throw(const anycl_conv_algo& algo, const char* function) {
  const auto a = anycl::capi::from_c_enum<anycl::ConvAlgo>(algo);
  if (int(a) < ANYCL_CONV_AUTO || int(a) > ANYCL_CONV_IMPLICIT_GEMM)
    throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT,
                       std::string(function) + ": algo " + std::to_string(int(a)) + " is not an anycl_conv_algo");
  return a;
}

}  // namespace

extern "C" {

anycl_status anycl_runtime_set_conv_workspace_limit(anycl_runtime* rt, size_t bytes) {
  return anycl::capi::guard([&] {
    anycl::set_conv_workspace_limit(anycl::capi::runtime_or_throw(rt, "anycl_runtime_set_conv_workspace_limit"), bytes);
  });
}

anycl_status anycl_conv2d_select(const anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_algo* algo) {
  return anycl::capi::guard([&] {
    const anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, "anycl_conv2d_select");
    const anycl::Conv2d c = anycl::capi::to_desc(d);
    if (!algo) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_conv2d_select: algo is NULL");
    *algo = anycl_conv_algo(anycl::conv2d_select(r, c));
  });
}

anycl_status anycl_conv2d_forward_algo(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_algo algo,
                                       const float* x, const float* w, const float* bias, float* y) {
  static const char* const fn = "anycl_conv2d_forward_algo";
  return anycl::capi::guard([&] {
    anycl::conv2d_forward(anycl::capi::runtime_or_throw(rt, fn), anycl::capi::to_desc(d), x, w, bias, y,
                          algo_or_throw(algo, fn));
  });
}

anycl_status anycl_conv2d_backward_data_algo(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_algo algo,
                                             const float* dy, const float* w, float* dx) {
  static const char* const fn = "anycl_conv2d_backward_data_algo";
  return anycl::capi::guard([&] {
    anycl::conv2d_backward_data(anycl::capi::runtime_or_throw(rt, fn), anycl::capi::to_desc(d), dy, w, dx,
                                algo_or_throw(algo, fn));
  });
}

anycl_status anycl_conv2d_backward_weights_algo(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_algo algo,
                                                const float* x, const float* dy, float* dw, float* dbias) {
  static const char* const fn = "anycl_conv2d_backward_weights_algo";
  return anycl::capi::guard([&] {
    anycl::conv2d_backward_weights(anycl::capi::runtime_or_throw(rt, fn), anycl::capi::to_desc(d), x, dy, dw, dbias,
                                   algo_or_throw(algo, fn));
  });
}

}  // extern "C"
