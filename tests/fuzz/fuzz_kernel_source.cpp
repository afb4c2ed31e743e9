// libFuzzer target: a kernel source with `#include "x"` lines, expanded by expand_includes as the
// runtime does for cache keys (README, "Fuzzing"). The include folder holds a plain header, one
// that includes itself (the depth limit must stop it with an anycl::Error) and one that includes
// the plain one. A missing header or too-deep nesting is an anycl::Error; any other exception,
// crash or sanitizer report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "anycl/runtime.hpp"
#include "runtime/kernel_source.hpp"
#include "runtime/params.hpp"

namespace {

const std::string& include_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/anycl-fuzz-include-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    const std::string d = made ? made : "/tmp";
    std::ofstream(d + "/common.h") << "#ifndef VW\n#define VW 4\n#endif\nfloat f(float x);\n";
    std::ofstream(d + "/self.h") << "#include \"self.h\"\n";
    std::ofstream(d + "/outer.h") << "  #include \"common.h\" // comment\n#define OUTER 1\n";
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  try {
    const std::string expanded = anycl::detail::expand_includes(include_dir(), source);
    anycl::detail::cl_defaults(expanded);
  } catch (const anycl::Error&) {
    // a missing header or nesting deeper than the limit: the documented, clean failure
  }
  return 0;
}
