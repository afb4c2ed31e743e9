// Measuring a device's peaks with cl_kernels/peak.cl: fp32 and fp64 multiply-add throughput and
// streaming (triad) bandwidth. Each figure is the best of several timed runs, long enough (about
// 0.1 s each) for the device to reach its steady rate.
#pragma once

#include "runtime/runtime_impl.hpp"

namespace anycl::detail {

struct MeasuredPeak {
  double fp32_gflops = 0, fp64_gflops = 0;  // fp64 0: the device has none
  double bandwidth_gbs = 0;                 // triad: 3 * 4 bytes per element, as STREAM counts
  std::string fp32_options, fp64_options;   // the build options the figures were measured with
};

MeasuredPeak measure_peak(const BuildContext& ctx, const DeviceSlot& slot);

}  // namespace anycl::detail
