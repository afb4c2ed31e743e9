#include "runtime/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "runtime/env.hpp"

namespace anycl::detail {
namespace {

struct LogConfig {
  int level = 0;  // 0 = silent, 1 = warnings, 2 = info
  bool calls = false;
};

int level_of(const std::string& word) {
  if (word.empty() || word == "0" || word == "off") return 0;
  return word == "warn" ? 1 : 2;
}

// Read on each call: tests flip the variable at run time.
LogConfig log_config() {
  LogConfig config;
  const char* v = std::getenv("ANYCL_LOG");
  if (!v) return config;
  for (const std::string& word : comma_words(v)) {
    if (word == "calls") config.calls = true;
    else config.level = std::max(config.level, level_of(word));
  }
  return config;
}

void emit(const std::string& line) {
  static std::mutex mu;  // keeps lines from different threads whole
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

void log_warn(const std::string& message) {
  if (log_config().level >= 1) emit("anycl warning: " + message);
}

void log_info(const std::string& message) {
  if (log_config().level >= 2) emit("anycl info: " + message);
}

void log_always_warn(const std::string& message) { emit("anycl warning: " + message); }

bool log_calls_enabled() { return log_config().calls; }

void log_call(const std::string& descriptor) { emit("anycl: call " + descriptor); }

}  // namespace anycl::detail
