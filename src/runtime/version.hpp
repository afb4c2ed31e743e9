// The library version, part of every cache key.
#pragma once

namespace anycl::detail {
const char* version_string() noexcept;
}
