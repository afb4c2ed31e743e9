// Reading anycl's environment variables.
#pragma once

#include <cstdlib>
#include <cstring>

namespace anycl::detail {

inline bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}

}  // namespace anycl::detail
