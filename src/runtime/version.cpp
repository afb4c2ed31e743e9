#include "runtime/version.hpp"

#include "anycl/runtime.hpp"

namespace anycl::detail {
const char* version_string() noexcept { return ANYCL_VERSION; }
}  // namespace anycl::detail

namespace anycl {
const char* version() noexcept { return detail::version_string(); }
}  // namespace anycl
