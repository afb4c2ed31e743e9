// test_kernels_oclgrind defers every clReleaseMemObject until the run ends (why: deferred_release.cpp).
#pragma once

#include <cstddef>

namespace anycl_test {

// Releases every deferred buffer; returns how many there were.
std::size_t release_deferred_buffers();

}  // namespace anycl_test
