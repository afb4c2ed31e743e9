// Reading anycl's environment variables.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace anycl::detail {

inline bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}

// The words of a comma-separated value such as ANYCL_LOG=warn,calls; empty words are kept, so
// a stray comma is seen by the caller.
inline std::vector<std::string> comma_words(const std::string& value) {
  std::vector<std::string> words;
  for (std::size_t begin = 0; begin <= value.size();) {
    const std::size_t end = std::min(value.find(',', begin), value.size());
    words.push_back(value.substr(begin, end - begin));
    begin = end + 1;
  }
  return words;
}

}  // namespace anycl::detail
