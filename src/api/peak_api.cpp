// The public device peaks (anycl/peak.hpp): measured by ops/device_peak, cached as JSON beside
// the program binaries, keyed by device and driver.
#include "anycl/peak.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ops/device_peak.hpp"
#include "runtime/hash.hpp"
#include "runtime/log.hpp"
#include "runtime/program_binary.hpp"
#include "sched/engine.hpp"

namespace anycl {
namespace {

using nlohmann::json;

std::string cache_file(const detail::RuntimeImpl& impl, const DeviceInfo& d) {
  if (!impl.binary_cache().enabled()) return {};
  const std::string key = detail::hash128_hex(d.name + '\0' + d.driver_version + '\0' + d.platform_version + '\0' +
                                              std::to_string(d.compute_units));
  return impl.binary_cache().dir() + "/peaks/" + key + ".json";
}

std::optional<DevicePeak> read_cached(const std::string& path) {
  if (path.empty()) return std::nullopt;
  const auto text = detail::read_file(path);
  if (!text) return std::nullopt;
  const json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("fp32_gflops") || !j["fp32_gflops"].is_number()) {
    detail::log_warn("device peak: " + path + " is damaged; measuring again");
    return std::nullopt;
  }
  DevicePeak p;
  p.fp32_gflops = j["fp32_gflops"].get<double>();
  p.fp64_gflops = j.value("fp64_gflops", 0.0);
  p.bandwidth_gbs = j.value("bandwidth_gbs", 0.0);
  p.from_cache = true;
  p.cache_file = path;
  return p;
}

void write_cached(const std::string& path, const DeviceInfo& d, const detail::MeasuredPeak& m) {
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const json j = {{"device", d.name},          {"driver_version", d.driver_version},
                  {"fp32_gflops", m.fp32_gflops}, {"fp64_gflops", m.fp64_gflops},
                  {"bandwidth_gbs", m.bandwidth_gbs}, {"fp32_options", m.fp32_options},
                  {"fp64_options", m.fp64_options}};
  std::string why;
  if (!detail::write_file_atomic(path, j.dump(2) + "\n", &why)) detail::log_warn("device peak: " + why);
}

}  // namespace

std::optional<DevicePeak> device_peak(Runtime& rt, std::size_t device, PeakSource source) {
  detail::RuntimeImpl& impl = detail::engine(rt).devices;
  const detail::DeviceSlot& slot = impl.slot(device);
  const std::string path = cache_file(impl, slot.info);
  if (source != PeakSource::Measure)
    if (auto cached = read_cached(path)) return cached;
  if (source == PeakSource::CacheOnly) return std::nullopt;
  const detail::MeasuredPeak fresh = detail::measure_peak(impl.build_context(), slot);
  // A peak is an upper bound: a figure below the cached one is interference (a busy machine), so
  // the cache keeps the higher of the two; the caller gets this measurement's own figures.
  detail::MeasuredPeak kept = fresh;
  if (const auto old = read_cached(path)) {
    kept.fp32_gflops = std::max(kept.fp32_gflops, old->fp32_gflops);
    kept.fp64_gflops = std::max(kept.fp64_gflops, old->fp64_gflops);
    kept.bandwidth_gbs = std::max(kept.bandwidth_gbs, old->bandwidth_gbs);
  }
  write_cached(path, slot.info, kept);
  return DevicePeak{fresh.fp32_gflops, fresh.fp64_gflops, fresh.bandwidth_gbs, false, path};
}

}  // namespace anycl
