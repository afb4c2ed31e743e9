#include "ops/device_peak.hpp"

#include <algorithm>
#include <chrono>

#include "runtime/buffer_impl.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {
namespace {

constexpr double kMinSeconds = 0.1;  // a run shorter than this is scaled up before it is timed
constexpr int kRuns = 5;

BuiltProgram build_peak(const BuildContext& ctx, const DeviceSlot& slot, const char* real) {
  const FamilySpec spec{std::string("peak_") + real, "peak", "peak.cl", real, std::string(real) == "double", ""};
  BuildReport report;
  return build_family(ctx, spec, slot.info, slot.context->get(), slot.device.id(), nullptr, report);
}

// Seconds of one launch of `k` over `items` work-items, after it has finished.
double time_launch(const DeviceSlot& slot, const boost::compute::kernel& k, std::size_t items, std::size_t wg) {
  const auto start = std::chrono::steady_clock::now();
  Event done(enqueue(slot, k, {items, 1, 1}, {wg, 1, 1}, k.name().c_str()));
  done.wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The best rate over kRuns launches, `work_per_item` units each, the size grown to kMinSeconds.
double best_rate(const DeviceSlot& slot, const boost::compute::kernel& k, std::size_t items, std::size_t max_items,
                 std::size_t wg, double work_per_item) {
  while (time_launch(slot, k, items, wg) < kMinSeconds && items * 2 <= max_items) items *= 2;
  double best = 0;
  for (int r = 0; r < kRuns; ++r) best = std::max(best, double(items) * work_per_item / time_launch(slot, k, items, wg));
  return best;
}

template <typename T>
double fma_gflops(const DeviceSlot& slot, const BuiltProgram& prog) {
  const std::size_t max_items = std::size_t(1) << 22, wg = std::size_t(prog.param("WG"));
  const auto out = create_buffer(slot.context->get(), slot.info, max_items * sizeof(T), CL_MEM_WRITE_ONLY, nullptr, "peak output");
  auto k = slot.kernel_of(prog, "peak_fma");
  set_args(k, slot.where() + ", peak_fma", out.get(), T(0.999), T(0.001));
  const double flops = 2.0 * double(prog.param("ITERS")) * double(prog.param("CHAINS")) * double(prog.param("VW"));
  return best_rate(slot, k, std::max<std::size_t>(wg, 64) * slot.info.compute_units, max_items, wg, flops) / 1e9;
}

double triad_gbs(const DeviceSlot& slot, const BuiltProgram& prog) {
  // Three arrays well past any cache, within the device's allocation limit.
  const std::size_t bytes = std::min<std::size_t>(std::size_t(128) << 20, slot.info.max_alloc);
  const std::size_t vw = std::size_t(prog.param("TRIAD_VW")), wg = std::size_t(prog.param("WG"));
  const std::size_t items = bytes / sizeof(float) / vw / wg * wg;
  const auto a = create_buffer(slot.context->get(), slot.info, bytes, CL_MEM_READ_ONLY, nullptr, "triad a");
  const auto b = create_buffer(slot.context->get(), slot.info, bytes, CL_MEM_READ_ONLY, nullptr, "triad b");
  const auto c = create_buffer(slot.context->get(), slot.info, bytes, CL_MEM_WRITE_ONLY, nullptr, "triad c");
  const float one = 1.f;  // defined inputs: no denormal or NaN slow paths
  for (cl_mem m : {a.get(), b.get()})
    check(clEnqueueFillBuffer(slot.queue.get(), m, &one, sizeof one, 0, bytes, 0, nullptr, nullptr),
          "clEnqueueFillBuffer", slot.where());
  auto k = slot.kernel_of(prog, "peak_triad");
  set_args(k, slot.where() + ", peak_triad", a.get(), b.get(), c.get(), 0.5f);
  return best_rate(slot, k, items, items, wg, 3.0 * sizeof(float) * double(vw)) / 1e9;
}

}  // namespace

MeasuredPeak measure_peak(const BuildContext& ctx, const DeviceSlot& slot) {
  MeasuredPeak out;
  const BuiltProgram f32 = build_peak(ctx, slot, "float");
  out.fp32_options = f32.options;
  out.fp32_gflops = fma_gflops<float>(slot, f32);
  out.bandwidth_gbs = triad_gbs(slot, f32);
  if (slot.info.fp64) {
    const BuiltProgram f64 = build_peak(ctx, slot, "double");
    out.fp64_options = f64.options;
    out.fp64_gflops = fma_gflops<double>(slot, f64);
  }
  return out;
}

}  // namespace anycl::detail
