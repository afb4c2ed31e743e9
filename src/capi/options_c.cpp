// Runtime creation from an options struct (anycl::RuntimeOptions).
#include <string>

#include "capi/guard.hpp"

namespace {

std::string text_or_empty(const char* s) { return s ? s : ""; }

// The C++ options: the environment's defaults for what the struct leaves NULL, as from_env.
anycl::RuntimeOptions to_options(const anycl_runtime_options* o) {
  static const char* const fn = "anycl_runtime_create_with_options";
  if (!o) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": options is NULL");
  if (o->struct_size < sizeof(anycl_runtime_options))
    throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT,
                       std::string(fn) + ": options->struct_size " + std::to_string(o->struct_size) +
                           " is not sizeof(anycl_runtime_options) " + std::to_string(sizeof(anycl_runtime_options)) +
                           "; call anycl_runtime_options_init first");
  if (o->struct_size > sizeof(anycl_runtime_options))
    throw anycl::Error(ANYCL_ERROR_UNSUPPORTED,
                       std::string(fn) + ": options->struct_size " + std::to_string(o->struct_size) +
                           " is from a newer anycl.h than this library (" + anycl::version() + ") knows");
  anycl::RuntimeOptions r = anycl::RuntimeOptions::from_env(text_or_empty(o->device_spec));
  r.kernel_path = text_or_empty(o->kernel_path);
  r.cache_dir = text_or_empty(o->cache_dir);
  r.binary_path = text_or_empty(o->binary_path);
  r.cache = o->cache != 0;
  r.binary_only = o->binary_only != 0;
  return r;
}

}  // namespace

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
