// The C convolution descriptor as the C++ one.
#pragma once

#include "anycl/anycl.h"
#include "anycl/conv2d.hpp"

namespace anycl::capi {

// ANYCL_ERROR_INVALID_ARGUMENT for NULL; the fields are validated by the C++ call.
anycl::Conv2d to_desc(const anycl_conv2d_desc* d);

}  // namespace anycl::capi
