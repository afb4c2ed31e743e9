// Diagnostics to stderr, only when ANYCL_LOG is set (the library never prints otherwise).
#pragma once

#include <string>

namespace anycl::detail {

// ANYCL_LOG=warn shows warnings; ANYCL_LOG=info (or 1) also shows informational lines.
void log_warn(const std::string& message);
void log_info(const std::string& message);

}  // namespace anycl::detail
