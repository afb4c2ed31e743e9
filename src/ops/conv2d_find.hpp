// The convolution find step (like cudnnFind) on one device.
#pragma once

#include "anycl/conv2d.hpp"
#include "ops/op_settings.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// Times every algorithm that applies to (d, pass) on `slot`, on zero-filled scratch tensors of
// its own, once per key: answers from `ops`' memo, then from the on-disk cache (`cache`), and
// stores what it timed in both.
ConvFindResult find_conv_algo(const DeviceSlot& slot, OpSettings& ops, const BinaryCache& cache, const Conv2d& d,
                              ConvPass pass);

}  // namespace anycl::detail
