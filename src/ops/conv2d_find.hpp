// The convolution find step (like cudnnFind) on one device.
#pragma once

#include "anycl/conv2d.hpp"
#include "ops/conv2d_select.hpp"
#include "ops/op_settings.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

// The settings a find runs with, read once by the caller (the planner's read for a call), so the
// key and the timing agree however a setter races the call.
struct FindSettings {
  std::size_t workspace_limit;  // OpSettings::conv_workspace_limit
  ConvAlgoMask disabled;        // OpSettings::conv_disabled
};

// Times every algorithm that applies to (d, pass) on `slot`, on zero-filled scratch tensors of
// its own, once per key: answers from `memo`, then from the on-disk cache (`cache`), and stores
// what it timed in both.
ConvFindResult find_conv_algo(const DeviceSlot& slot, ConvFindMemo& memo, const FindSettings& settings,
                              const BinaryCache& cache, const Conv2d& d, ConvPass pass);

}  // namespace anycl::detail
