// A set of tensors (a replica's parameters, its gradients, one set of optimizer state) carved
// from one allocation, so an elementwise step over the whole set is one kernel launch: the
// optimizer updates every parameter at once instead of tensor by tensor.
#pragma once

#include <vector>

#include "anycl/runtime.hpp"

namespace anycl::detail {

struct FlatTensors {
  Buffer whole;                 // every tensor, each at an aligned offset; the gaps hold zeros
  std::vector<Buffer> tensors;  // one per size; empty outside [first, last)
};

// Tensors [first, last) of `sizes` (floats each) on `device`, zero-initialised, each starting at
// a multiple of the device's mem_base_addr_align_bytes (a sub-buffer's alignment). The layout
// depends only on the sizes, the range and the device's alignment, so sets carved alike line up
// element for element.
FlatTensors carve_tensors(Runtime& rt, std::size_t device, const std::vector<std::size_t>& sizes, std::size_t first,
                          std::size_t last);

}  // namespace anycl::detail
