#include "blas/blas_log.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace anycl::blas {
namespace {

enum class Level { Off, Warn, Info };

Level word_level(const std::string& word) {
  if (word.empty() || word == "0" || word == "off" || word == "calls") return Level::Off;
  return word == "warn" ? Level::Warn : Level::Info;
}

// ANYCL_LOG is a comma-separated list as for libanycl (runtime/log.cpp, which this library may
// not include); `calls` is libanycl's call log and adds nothing here.
Level level() noexcept {
  static const Level value = [] {
    const char* v = std::getenv("ANYCL_LOG");
    Level most = Level::Off;
    for (std::stringstream words(v ? v : ""); words.good();) {
      std::string word;
      std::getline(words, word, ',');
      most = std::max(most, word_level(word));
    }
    return most;
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
