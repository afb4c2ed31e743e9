// Diagnostics to stderr, only when ANYCL_LOG is set (the library never prints otherwise).
#pragma once

#include <string>

namespace anycl::detail {

// ANYCL_LOG is a comma-separated list: warn shows warnings; info (or 1, or any other word) also
// shows informational lines; calls prints one `anycl: call <descriptor>` line per public call.
// E.g. ANYCL_LOG=warn,calls. 0 or off (or unset) is silent.
void log_warn(const std::string& message);
void log_info(const std::string& message);

// A warning printed whatever ANYCL_LOG says: for checks the user asked for by their own variable.
void log_always_warn(const std::string& message);

bool log_calls_enabled();
// Prints `anycl: call <descriptor>` (the call-log format docs/reliability.md names).
void log_call(const std::string& descriptor);

}  // namespace anycl::detail
