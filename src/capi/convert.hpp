// C descriptions of a call as the C++ API's types (shared by the host-pointer and buffer calls).
#pragma once

#include "anycl/anycl.hpp"

namespace anycl::capi {

anycl::GemmShape shape_of(anycl_layout layout, anycl_transpose ta, anycl_transpose tb, size_t m, size_t n, size_t k,
                          size_t lda, size_t ldb, size_t ldc);

// ANYCL_ERROR_INVALID_ARGUMENT for a NULL descriptor.
anycl::Conv2d to_desc(const anycl_conv2d_desc* d);

}  // namespace anycl::capi
