// The C boundary: no exception crosses it; each failure becomes a status and a thread-local message.
#pragma once

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "anycl/anycl.hpp"

struct anycl_runtime {
  anycl::Runtime rt;
  std::vector<std::string> names;  // stable storage for anycl_runtime_device_name
};

namespace anycl::capi {

// The C++ enum a C enum argument names. A C caller may pass any int there, and reading a C enum
// outside its enumerators' range is undefined in C++ (UBSan stops on it), so the bits are read
// as an int; the scoped C++ enums hold any int, and the C++ API refuses unknown values.
template <typename To, typename From>
To from_c_enum(const From& e) noexcept {
  static_assert(sizeof(From) == sizeof(int), "C enums are int-sized here");
  int bits = 0;
  std::memcpy(&bits, &e, sizeof bits);
  return static_cast<To>(bits);
}

void set_last_error(const std::string& message);

template <typename F>
anycl_status guard(F&& body) noexcept {
  try {
    body();
    set_last_error("");
    return ANYCL_SUCCESS;
  } catch (const anycl::Error& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error("out of host memory");
    return ANYCL_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string("internal error: ") + e.what());
    return ANYCL_ERROR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return ANYCL_ERROR_INTERNAL;
  }
}

// ANYCL_ERROR_INVALID_ARGUMENT for a null runtime, named after the calling function.
anycl::Runtime& runtime_or_throw(anycl_runtime* rt, const char* function);
const anycl::Runtime& runtime_or_throw(const anycl_runtime* rt, const char* function);

// A versioned C struct's struct_size (`field` names it, e.g. "anycl_x: options->struct_size"):
// smaller than its first version's `first` is ANYCL_ERROR_INVALID_ARGUMENT (pointing at `init`),
// larger than the `known` size of this library's header ANYCL_ERROR_UNSUPPORTED. `init` may be
// NULL for a struct that has no init function.
void check_struct_size(const std::string& field, std::size_t size, std::size_t first, std::size_t known,
                       const char* type, const char* init);

// *out = a new C handle owning `rt` (the caller has checked `out`).
void store_runtime(anycl::Runtime rt, anycl_runtime** out);

}  // namespace anycl::capi
