#include "runtime/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

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
  const std::string text(v);
  for (std::size_t begin = 0; begin <= text.size();) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string word = text.substr(begin, end - begin);
    if (word == "calls") config.calls = true;
    else config.level = std::max(config.level, level_of(word));
    begin = end + 1;
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

bool log_calls_enabled() { return log_config().calls; }

void log_call(const std::string& descriptor) { emit("anycl: call " + descriptor); }

}  // namespace anycl::detail
