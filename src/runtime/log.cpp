#include "runtime/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace anycl::detail {
namespace {

// 0 = silent, 1 = warnings, 2 = info. Read on each call: tests flip the variable at run time.
int log_level() {
  const char* v = std::getenv("ANYCL_LOG");
  if (!v || !*v || std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0) return 0;
  if (std::strcmp(v, "warn") == 0) return 1;
  return 2;
}

void emit(const char* level, const std::string& message) {
  static std::mutex mu;  // keeps lines from different threads whole
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "anycl %s: %s\n", level, message.c_str());
}

}  // namespace

void log_warn(const std::string& message) {
  if (log_level() >= 1) emit("warning", message);
}

void log_info(const std::string& message) {
  if (log_level() >= 2) emit("info", message);
}

}  // namespace anycl::detail
