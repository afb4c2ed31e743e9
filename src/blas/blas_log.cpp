#include "blas/blas_log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace anycl::blas {
namespace {

enum class Level { Off, Warn, Info };

Level level() noexcept {
  static const Level value = [] {
    const char* v = std::getenv("ANYCL_LOG");
    if (!v || !*v || !std::strcmp(v, "0") || !std::strcmp(v, "off")) return Level::Off;
    return std::strcmp(v, "warn") ? Level::Info : Level::Warn;
  }();
  return value;
}

void vlog(const char* format, va_list args) noexcept {
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::fprintf(stderr, "anycl_blas: %s\n", line);  // one call: lines from threads stay whole
}

}  // namespace

bool log_info_enabled() noexcept { return level() == Level::Info; }

void log_warn(const char* format, ...) noexcept {
  if (level() == Level::Off) return;
  va_list args;
  va_start(args, format);
  vlog(format, args);
  va_end(args);
}

void log_info(const char* format, ...) noexcept {
  if (level() != Level::Info) return;
  va_list args;
  va_start(args, format);
  vlog(format, args);
  va_end(args);
}

}  // namespace anycl::blas
