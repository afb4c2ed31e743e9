#include "capi/convert.hpp"
#include "capi/guard.hpp"

namespace anycl::capi {

anycl::GemmShape shape_of(anycl_layout layout, anycl_transpose ta, anycl_transpose tb, size_t m, size_t n, size_t k,
                          size_t lda, size_t ldb, size_t ldc) {
  anycl::GemmShape s;
  s.layout = anycl::capi::from_c_enum<anycl::Layout>(layout);
  s.trans_a = anycl::capi::from_c_enum<anycl::Transpose>(ta);
  s.trans_b = anycl::capi::from_c_enum<anycl::Transpose>(tb);
  s.m = m, s.n = n, s.k = k, s.lda = lda, s.ldb = ldb, s.ldc = ldc;
  return s;
}

}  // namespace anycl::capi

namespace {

using anycl::capi::shape_of;

template <typename T>
anycl_status gemm_c(anycl_runtime* rt, const char* fn, const anycl::GemmShape& s, T alpha, const T* a, const T* b,
                    T beta, T* c) {
  return anycl::capi::guard([&] { anycl::gemm<T>(anycl::capi::runtime_or_throw(rt, fn), s, alpha, a, b, beta, c); });
}

template <typename T>
anycl_status gemm_batched_c(anycl_runtime* rt, const char* fn, const anycl::GemmShape& s, T alpha, const T* const* a,
                            const T* const* b, T beta, T* const* c) {
  return anycl::capi::guard(
      [&] { anycl::gemm_batched<T>(anycl::capi::runtime_or_throw(rt, fn), s, alpha, a, b, beta, c); });
}

}  // namespace

extern "C" {

anycl_status anycl_sgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb, size_t m,
                         size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b, size_t ldb,
                         float beta, float* c, size_t ldc) {
  return gemm_c(rt, "anycl_sgemm", shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc), alpha, a, b, beta, c);
}

anycl_status anycl_dgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb, size_t m,
                         size_t n, size_t k, double alpha, const double* a, size_t lda, const double* b, size_t ldb,
                         double beta, double* c, size_t ldc) {
  return gemm_c(rt, "anycl_dgemm", shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc), alpha, a, b, beta, c);
}

anycl_status anycl_sgemm_strided_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                         size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
                                         size_t stride_a, const float* b, size_t ldb, size_t stride_b, float beta,
                                         float* c, size_t ldc, size_t stride_c, size_t batch) {
  anycl::GemmShape s = shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc);
  s.batch = batch, s.stride_a = stride_a, s.stride_b = stride_b, s.stride_c = stride_c;
  return gemm_c(rt, "anycl_sgemm_strided_batched", s, alpha, a, b, beta, c);
}

anycl_status anycl_dgemm_strided_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                         size_t m, size_t n, size_t k, double alpha, const double* a, size_t lda,
                                         size_t stride_a, const double* b, size_t ldb, size_t stride_b, double beta,
                                         double* c, size_t ldc, size_t stride_c, size_t batch) {
  anycl::GemmShape s = shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc);
  s.batch = batch, s.stride_a = stride_a, s.stride_b = stride_b, s.stride_c = stride_c;
  return gemm_c(rt, "anycl_dgemm_strided_batched", s, alpha, a, b, beta, c);
}

anycl_status anycl_sgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                 size_t m, size_t n, size_t k, float alpha, const float* const* a, size_t lda,
                                 const float* const* b, size_t ldb, float beta, float* const* c, size_t ldc,
                                 size_t batch) {
  anycl::GemmShape s = shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc);
  s.batch = batch;
  return gemm_batched_c(rt, "anycl_sgemm_batched", s, alpha, a, b, beta, c);
}

anycl_status anycl_dgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                 size_t m, size_t n, size_t k, double alpha, const double* const* a, size_t lda,
                                 const double* const* b, size_t ldb, double beta, double* const* c, size_t ldc,
                                 size_t batch) {
  anycl::GemmShape s = shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc);
  s.batch = batch;
  return gemm_batched_c(rt, "anycl_dgemm_batched", s, alpha, a, b, beta, c);
}

anycl_status anycl_runtime_set_gemm_provider(anycl_runtime* rt, anycl_gemm_provider provider) {
  return anycl::capi::guard([&] {
    anycl::set_gemm_provider(anycl::capi::runtime_or_throw(rt, "anycl_runtime_set_gemm_provider"),
                             anycl::capi::from_c_enum<anycl::GemmProvider>(provider));
  });
}

}  // extern "C"
