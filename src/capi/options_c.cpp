// Runtime creation from an options struct (anycl::RuntimeOptions).
#include <string>

#include "capi/guard.hpp"

namespace {

using anycl::capi::check_struct_size;

std::string text_or_empty(const char* s) { return s ? s : ""; }

// The C++ options: the environment's defaults for what the struct leaves NULL, as from_env.
anycl::RuntimeOptions to_options(const anycl_runtime_options* o) {
  static const char* const fn = "anycl_runtime_create_with_options";
  if (!o) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": options is NULL");
  check_struct_size(std::string(fn) + ": options->struct_size", o->struct_size, sizeof(anycl_runtime_options),
                    sizeof(anycl_runtime_options), "anycl_runtime_options", "anycl_runtime_options_init");
  anycl::RuntimeOptions r = anycl::RuntimeOptions::from_env(text_or_empty(o->device_spec));
  r.kernel_path = text_or_empty(o->kernel_path);
  r.cache_dir = text_or_empty(o->cache_dir);
  r.binary_path = text_or_empty(o->binary_path);
  r.cache = o->cache != 0;
  r.binary_only = o->binary_only != 0;
  return r;
}

}  // namespace

namespace anycl::capi {

void check_struct_size(const std::string& field, std::size_t size, std::size_t first, std::size_t known,
                       const char* type, const char* init) {
  if (size < first)
    throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT,
                       field + " " + std::to_string(size) + " is less than sizeof(" + type + ") " +
                           std::to_string(first) + (init ? std::string("; call ") + init + " first" : std::string()));
  if (size > known)
    throw anycl::Error(ANYCL_ERROR_UNSUPPORTED, field + " " + std::to_string(size) +
                                                    " is from a newer anycl.h than this library (" + anycl::version() +
                                                    ") knows");
}

}  // namespace anycl::capi

extern "C" {

void anycl_runtime_options_init(anycl_runtime_options* options) {
  if (!options) return;
  *options = anycl_runtime_options{};
  options->struct_size = sizeof(anycl_runtime_options);
  options->cache = 1;
  try {
    const anycl::RuntimeOptions env = anycl::RuntimeOptions::from_env();
    options->cache = env.cache;
    options->binary_only = env.binary_only;
  } catch (...) {  // out of host memory: the built-in defaults; no exception crosses into C
  }
}

anycl_status anycl_runtime_create_with_options(const anycl_runtime_options* options, anycl_runtime** out) {
  return anycl::capi::guard([&] {
    if (!out) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, "anycl_runtime_create_with_options: out is NULL");
    *out = nullptr;
    anycl::capi::store_runtime(anycl::Runtime(to_options(options)), out);
  });
}

}  // extern "C"
