// Per-device throughput weights for splitting calls: a short calibration per device, kept in the
// on-disk cache beside the program binaries, then refined by the split calls' own timings;
// overridable (setter, ANYCL_DEVICE_WEIGHTS).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sched/engine.hpp"
#include "sched/share_timer.hpp"

namespace anycl::detail {

// The runtime's weights (GFLOP/s of a calibration SGEMM unless overridden), filled on first use.
std::vector<double> runtime_weights(Engine& rt);

// Measured weights follow the devices' speeds in split calls (set weights stay as set).
void learn_weights(Engine& rt, const std::vector<ShareTime>& times);

// Validated override: one finite value >= 0 per device, at least one > 0.
std::vector<double> checked_weights(const std::vector<double>& weights, std::size_t devices, const char* function);

// "1,0.5,2" -> {1, 0.5, 2}; nullopt (reason in *why) for anything else.
std::optional<std::vector<double>> parse_weights(const std::string& text, std::string* why);

// Measures one device: SGEMMs of growing size until one takes long enough to trust (or the
// size cap), so a very slow device (Oclgrind) stops after a tiny problem. Returns GFLOP/s.
double calibrate(const DeviceSlot& slot);

// Cache file for a device's measured weight: keyed by everything that changes its speed.
std::string weight_cache_path(const BinaryCache& cache, const DeviceInfo& info);

}  // namespace anycl::detail
