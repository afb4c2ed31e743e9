// Getters of the runtime settings the C API sets (provider, split mode, device weights).
#include <algorithm>
#include <string>
#include <vector>

#include "capi/guard.hpp"

namespace {

template <typename T>
T& out_or_throw(T* out, const char* function, const char* name) {
  if (!out) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + name + " is NULL");
  return *out;
}

}  // namespace

extern "C" {

anycl_status anycl_runtime_get_gemm_provider(const anycl_runtime* rt, anycl_gemm_provider* provider) {
  return anycl::capi::guard([&] {
    static const char* const fn = "anycl_runtime_get_gemm_provider";
    const anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, fn);
    out_or_throw(provider, fn, "provider") = anycl_gemm_provider(anycl::gemm_provider(r));
  });
}

anycl_status anycl_runtime_get_parallel(const anycl_runtime* rt, anycl_parallel* mode) {
  return anycl::capi::guard([&] {
    static const char* const fn = "anycl_runtime_get_parallel";
    const anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, fn);
    out_or_throw(mode, fn, "mode") = anycl_parallel(anycl::parallel(r));
  });
}

anycl_status anycl_runtime_get_device_weights(anycl_runtime* rt, double* weights, size_t count) {
  return anycl::capi::guard([&] {
    static const char* const fn = "anycl_runtime_get_device_weights";
    anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, fn);
    if (count != r.device_count())
      throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": count " + std::to_string(count) +
                                                           " is not the device count " +
                                                           std::to_string(r.device_count()));
    out_or_throw(weights, fn, "weights");
    const std::vector<double> w = anycl::device_weights(r);
    std::copy(w.begin(), w.end(), weights);
  });
}

}  // extern "C"
