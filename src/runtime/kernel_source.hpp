// Finding the kernel folder and reading kernel sources (with their includes, for cache keys).
#pragma once

#include <string>

namespace anycl::detail {

// First folder holding common.h among: `preferred` (if non-empty), each entry of
// ANYCL_KERNEL_PATH (':'-separated), <prefix>/share/anycl/cl_kernels next to the loaded library
// (an installed copy), the build tree. Throws Error(ANYCL_ERROR_KERNEL_NOT_FOUND) naming every place it looked.
std::string find_kernel_dir(const std::string& preferred);

// The file's text; throws Error(ANYCL_ERROR_KERNEL_NOT_FOUND) when it cannot be read.
std::string read_kernel_file(const std::string& dir, const std::string& file);

// The source with every `#include "x"` from `dir` inlined (recursively): what the compiler
// will see, so its hash changes whenever any included header changes.
std::string expand_includes(const std::string& dir, const std::string& source);

}  // namespace anycl::detail
