#include "capi/guard.hpp"

namespace anycl::capi {
namespace {
thread_local std::string last_error;
}

void set_last_error(const std::string& message) { last_error = message; }

anycl::Runtime& runtime_or_throw(anycl_runtime* rt, const char* function) {
  if (!rt) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": runtime is NULL");
  return rt->rt;
}

const anycl::Runtime& runtime_or_throw(const anycl_runtime* rt, const char* function) {
  return runtime_or_throw(const_cast<anycl_runtime*>(rt), function);
}

void store_runtime(anycl::Runtime rt, anycl_runtime** out) {
  auto c = std::make_unique<anycl_runtime>(anycl_runtime{std::move(rt), {}});
  for (size_t i = 0; i < c->rt.device_count(); ++i) c->names.push_back(c->rt.device(i).name);
  *out = c.release();
}

}  // namespace anycl::capi

extern "C" {

anycl_status anycl_runtime_create(const char* device_spec, anycl_runtime** out) {
  return anycl::capi::guard([&] {
    if (!out) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_runtime_create: out is NULL");
    *out = nullptr;
    anycl::capi::store_runtime(anycl::Runtime(device_spec ? device_spec : ""), out);
  });
}

void anycl_runtime_destroy(anycl_runtime* rt) { delete rt; }

size_t anycl_runtime_device_count(const anycl_runtime* rt) { return rt ? rt->rt.device_count() : 0; }

const char* anycl_runtime_device_name(const anycl_runtime* rt, size_t i) {
  return rt && i < rt->names.size() ? rt->names[i].c_str() : nullptr;
}

const char* anycl_status_string(anycl_status s) {
  switch (anycl::capi::from_c_enum<int>(s)) {
    case ANYCL_SUCCESS: return "ANYCL_SUCCESS";
    case ANYCL_ERROR_INVALID_ARGUMENT: return "ANYCL_ERROR_INVALID_ARGUMENT";
    case ANYCL_ERROR_NO_DEVICE: return "ANYCL_ERROR_NO_DEVICE";
    case ANYCL_ERROR_UNSUPPORTED: return "ANYCL_ERROR_UNSUPPORTED";
    case ANYCL_ERROR_OUT_OF_MEMORY: return "ANYCL_ERROR_OUT_OF_MEMORY";
    case ANYCL_ERROR_BUILD_FAILED: return "ANYCL_ERROR_BUILD_FAILED";
    case ANYCL_ERROR_KERNEL_NOT_FOUND: return "ANYCL_ERROR_KERNEL_NOT_FOUND";
    case ANYCL_ERROR_OPENCL: return "ANYCL_ERROR_OPENCL";
    case ANYCL_ERROR_INTERNAL: return "ANYCL_ERROR_INTERNAL";
  }
  return "ANYCL_UNKNOWN_STATUS";
}

const char* anycl_last_error(void) { return anycl::capi::last_error.c_str(); }

}  // extern "C"

extern "C" {

anycl_status anycl_runtime_release_workspace(anycl_runtime* rt) {
  return anycl::capi::guard(
      [&] { anycl::capi::runtime_or_throw(rt, "anycl_runtime_release_workspace").release_workspace(); });
}

anycl_status anycl_runtime_set_parallel(anycl_runtime* rt, anycl_parallel mode) {
  return anycl::capi::guard([&] {
    anycl::set_parallel(anycl::capi::runtime_or_throw(rt, "anycl_runtime_set_parallel"), anycl::capi::from_c_enum<anycl::Parallel>(mode));
  });
}

anycl_status anycl_runtime_set_device_weights(anycl_runtime* rt, const double* weights, size_t count) {
  return anycl::capi::guard([&] {
    anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, "anycl_runtime_set_device_weights");
    if (count && !weights)
      throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_runtime_set_device_weights: weights is NULL");
    anycl::set_device_weights(r, std::vector<double>(weights, weights + count));
  });
}

}  // extern "C"
