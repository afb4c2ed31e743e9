#include "sched/balance.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "ops/gemm_kernels.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/hash.hpp"
#include "runtime/huge_page_buffer.hpp"
#include "runtime/log.hpp"
#include "runtime/version.hpp"

namespace anycl::detail {
namespace {

// Bump when the calibration changes, so old cached weights are not compared with new ones.
constexpr const char* kCalibrationVersion = "sgemm-grow-2";
constexpr double kTrustSeconds = 0.02;  // a run this long is well above launch noise
constexpr std::size_t kMaxCalibrationN = 512;
// Each split call moves a device's weight this far toward its speed in that call: a slowdown
// that lasts (another job busy on one core, a calibration taken while the machine was busy) is
// followed within a few calls, a one-call hiccup moves it little (docs/multi-device.md).
constexpr double kLearnRate = 0.3;
// ... and never beyond this factor either way from the calibration, so a device that briefly
// looked slow keeps a share and keeps being timed.
constexpr double kLearnRange = 4;

double seconds_for_sgemm(const DeviceSlot& slot, std::size_t n, cl_mem a, cl_mem b, cl_mem c) {
  const GemmProblem p = dense_problem(n, n, n);
  const auto t0 = std::chrono::steady_clock::now();
  clReleaseEvent(enqueue_gemm<float>(slot, p, 1.f, a, b, 0.f, c));
  check(clFinish(slot.queue.get()), "clFinish", slot.where());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::optional<double> load_weight(const std::string& path) {
  const auto text = read_file(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string tag;
  double w = 0;
  if (!(in >> tag >> w) || tag != kCalibrationVersion || !std::isfinite(w) || w <= 0) {
    log_warn("ignoring damaged device weight cache entry " + path);
    return std::nullopt;
  }
  return w;
}

double measured_weight(const Engine& rt, const DeviceSlot& slot) {
  const BinaryCache& cache = rt.binary_cache();
  const std::string path = cache.enabled() ? weight_cache_path(cache, slot.info) : "";
  if (!path.empty())
    if (auto w = load_weight(path)) return *w;
  double w = 0;
  try {
    w = calibrate(slot);
  } catch (const Error& e) {
    // A device that cannot run the calibration is left out of split calls, not fatal to them.
    log_warn("calibration failed, " + slot.where() + " takes no share of split calls: " + e.what());
    return 0;
  }
  log_info("calibrated " + slot.where() + ": " + std::to_string(w) + " GFLOP/s");
  std::string why;
  std::ostringstream out;
  out.precision(17);
  out << kCalibrationVersion << " " << w << "\n";
  if (!path.empty() && !write_file_atomic(path, out.str(), &why))
    log_warn("could not store device weight in " + path + ": " + why);
  return w;
}

}  // namespace

double calibrate(const DeviceSlot& slot) {
  const std::size_t bytes = kMaxCalibrationN * kMaxCalibrationN * sizeof(float);
  auto make = [&](const char* what) {
    return allocate_buffer(slot.context->get(), slot.info, bytes, what);
  };
  const auto a = make("calibration a"), b = make("calibration b"), c = make("calibration c");
  const std::vector<float> ones(kMaxCalibrationN * kMaxCalibrationN, 1.f);
  for (const auto& m : {a, b})
    check(clEnqueueWriteBuffer(slot.queue.get(), m.get(), CL_TRUE, 0, bytes, ones.data(), 0, nullptr, nullptr),
          "clEnqueueWriteBuffer", slot.where());
  double gflops = 0;
  for (std::size_t n = 16; n <= kMaxCalibrationN; n *= 2) {
    // The first run of a size may include the driver's compilation of the kernel for that size
    // (POCL compiles per local size at the first launch, seconds on a fresh machine): time the
    // next ones, however long the first took. The faster of two: a calibration is one short
    // run per device, and a stray pause in it would skew every split until learning undoes it.
    seconds_for_sgemm(slot, n, a.get(), b.get(), c.get());
    const double t = std::min(seconds_for_sgemm(slot, n, a.get(), b.get(), c.get()),
                              seconds_for_sgemm(slot, n, a.get(), b.get(), c.get()));
    gflops = 2.0 * double(n) * n * n / std::max(t, 1e-9) / 1e9;
    if (t >= kTrustSeconds) break;
  }
  return gflops;
}

std::string weight_cache_path(const BinaryCache& cache, const DeviceInfo& d) {
  const std::string key = std::string(kCalibrationVersion) + "|" + version_string() + "|" + d.name + "|" + d.vendor +
                          "|" + d.driver_version + "|" + d.platform_name + "|" + d.platform_version + "|" +
                          std::to_string(d.compute_units) + "|" + std::to_string(d.clock_mhz) + "|" +
                          (d.is_sub_device ? "sub " + std::to_string(d.partition_count) : "whole");
  return cache.dir() + "/weight-" + hash128_hex(key) + ".txt";
}

std::optional<std::vector<double>> parse_weights(const std::string& text, std::string* why) {
  std::vector<double> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end == item.c_str() || *end != '\0' || !std::isfinite(v) || v < 0) {
      *why = "'" + item + "' is not a weight (a number >= 0)";
      return std::nullopt;
    }
    out.push_back(v);
  }
  return out;
}

std::vector<double> checked_weights(const std::vector<double>& weights, std::size_t devices, const char* function) {
  if (weights.size() != devices)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + std::to_string(weights.size()) +
                                           " weights for " + std::to_string(devices) + " devices");
  bool any = false;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0)
      fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": weights must be finite and >= 0");
    any = any || w > 0;
  }
  if (!any) fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": at least one weight must be positive");
  return weights;
}

std::vector<double> runtime_weights(Engine& rt) {
  std::lock_guard<std::mutex> lock(rt.sched.mutex);
  if (!rt.sched.weights.empty()) return rt.sched.weights;
  if (const char* env = std::getenv("ANYCL_DEVICE_WEIGHTS"); env && *env) {
    std::string why;
    const auto w = parse_weights(env, &why);
    if (!w) fail(ANYCL_ERROR_INVALID_ARGUMENT, "ANYCL_DEVICE_WEIGHTS: " + why);
    return rt.sched.weights = checked_weights(*w, rt.size(), "ANYCL_DEVICE_WEIGHTS");
  }
  std::vector<double> w;
  for (std::size_t i = 0; i < rt.size(); ++i) w.push_back(measured_weight(rt, rt.slot(i)));
  rt.sched.calibrated = w;
  return rt.sched.weights = w;
}

void learn_weights(Engine& rt, const std::vector<ShareTime>& times) {
  // Per device: its fraction of the work over the seconds it took (several intervals add up).
  std::vector<double> fraction(rt.size(), 0), seconds(rt.size(), 0);
  for (const ShareTime& t : times)
    if (t.device < rt.size()) fraction[t.device] += t.fraction, seconds[t.device] += t.seconds;
  std::vector<std::size_t> timed;
  for (std::size_t i = 0; i < rt.size(); ++i)
    if (fraction[i] > 0 && seconds[i] > 0) timed.push_back(i);
  if (timed.size() < 2) return;  // speeds are only compared with each other
  std::lock_guard<std::mutex> lock(rt.sched.mutex);
  std::vector<double>& w = rt.sched.weights;
  const std::vector<double>& cal = rt.sched.calibrated;
  if (cal.size() != rt.size() || w.size() != rt.size()) return;  // weights set by the caller stay
  // The timed devices keep their total weight; within it each moves toward its speed in this
  // call. At equal finish times each target is the device's share of the work in this call, so
  // weights that give those shares stay put (a fixed point), whatever launch cost every device
  // pays alike.
  double total = 0, speed_total = 0;
  for (std::size_t i : timed) total += w[i], speed_total += fraction[i] / seconds[i];
  for (std::size_t i : timed) {
    const double target = fraction[i] / seconds[i] / speed_total * total;
    const double next = (1 - kLearnRate) * w[i] + kLearnRate * target;
    w[i] = std::clamp(next, cal[i] / kLearnRange, cal[i] * kLearnRange);
  }
}

}  // namespace anycl::detail
