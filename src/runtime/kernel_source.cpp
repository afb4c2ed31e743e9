#include "runtime/kernel_source.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/program_binary.hpp"

namespace anycl::detail {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_paths(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ':');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// The installed layout is <prefix>/lib*/libanycl.so and <prefix>/share/anycl/cl_kernels.
std::string installed_kernel_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_kernel_dir), &info) == 0 || !info.dli_fname) return {};
  const fs::path lib = fs::absolute(info.dli_fname).parent_path();
  return (lib.parent_path() / "share" / "anycl" / "cl_kernels").string();
}

bool is_kernel_dir(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "common.h", ec);
}

}  // namespace

std::string find_kernel_dir(const std::string& preferred) {
  std::vector<std::string> candidates;
  if (!preferred.empty()) candidates.push_back(preferred);
  if (const char* env = std::getenv("ANYCL_KERNEL_PATH"))
    for (auto& p : split_paths(env)) candidates.push_back(p);
  const std::size_t asked_for = candidates.size();  // named by the caller, not built-in defaults
  // An installed library must use its own kernels, not those of the tree it was built from (which
  // may since have changed or gone); a library still in the build tree has no such folder.
  candidates.push_back(installed_kernel_dir());
#ifdef ANYCL_BUILD_KERNEL_DIR
  candidates.push_back(ANYCL_BUILD_KERNEL_DIR);
#endif
  std::string looked;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const std::string& c = candidates[i];
    if (!c.empty() && is_kernel_dir(c)) return fs::absolute(c).lexically_normal().string();
    if (i < asked_for) log_warn("kernel folder " + c + " is missing or holds no common.h; trying the next candidate");
    looked += "\n  " + (c.empty() ? std::string("(install prefix unknown)") : c);
  }
  fail(ANYCL_ERROR_KERNEL_NOT_FOUND,
       "no anycl kernel folder (one holding common.h) found; looked in:" + looked +
           "\nset ANYCL_KERNEL_PATH to the cl_kernels folder");
}

std::string read_kernel_file(const std::string& dir, const std::string& file) {
  auto text = read_file(dir + "/" + file);
  if (!text) fail(ANYCL_ERROR_KERNEL_NOT_FOUND, "cannot read kernel file " + dir + "/" + file);
  // An empty file would build into a program without kernels and fail only at first use.
  if (text->empty()) fail(ANYCL_ERROR_KERNEL_NOT_FOUND, "kernel file " + dir + "/" + file + " is empty");
  return *text;
}

namespace {

std::string expand(const std::string& dir, const std::string& source, int depth) {
  if (depth > 8) fail(ANYCL_ERROR_BUILD_FAILED, "kernel includes nest deeper than 8 levels in " + dir);
  std::stringstream in(source);
  std::string out, line;
  while (std::getline(in, line)) {
    const auto hash = line.find_first_not_of(" \t");
    const auto open = line.find('"');
    const auto close = open == std::string::npos ? open : line.find('"', open + 1);
    if (hash != std::string::npos && line.compare(hash, 8, "#include") == 0 && close != std::string::npos) {
      out += expand(dir, read_kernel_file(dir, line.substr(open + 1, close - open - 1)), depth + 1);
    } else {
      out += line;
      out += '\n';
    }
  }
  return out;
}

}  // namespace

std::string expand_includes(const std::string& dir, const std::string& source) {
  return expand(dir, source, 0);
}

}  // namespace anycl::detail
