// anycl-bench run/sweep: plain host loops that say what a descriptor's call must produce. They
// accumulate in double and also sum |term| per element, which the tolerance is scaled by. The
// convolution loops are the library's own reference (src/api/reference/conv_reference.hpp, the
// one anycl-tune checks candidates against).
#pragma once

#include <vector>

#include "conv_reference.hpp"
#include "descriptor.hpp"

namespace anycl_bench {

// One output buffer as the call must leave it; `magnitude` is 0 where the call must not write.
using Expected = anycl::reference::Expected;

// C after the call: `c` is the whole C buffer before it (offset and ld padding included).
Expected gemm_reference(const GemmProblem& g, const std::vector<double>& a, const std::vector<double>& b,
                        const std::vector<double>& c);

// The outputs of a convolution pass: y (forward), dx (backward-data) or dw then db
// (backward-weights, db only with bias). `in1`/`in2` are the pass's inputs in API order
// (x, w | dy, w | x, dy); `bias` is empty unless the forward pass has one.
std::vector<Expected> conv_reference(const ConvProblem& c, const std::vector<double>& in1,
                                     const std::vector<double>& in2, const std::vector<double>& bias);

}  // namespace anycl_bench
