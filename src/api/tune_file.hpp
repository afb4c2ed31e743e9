// anycl-tune's per-user parameter file: a devices.json-format "entries" array (what ParamTable
// loads) with one entry for the device, plus every measured candidate under "trials" so an
// interrupted run resumes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anycl/tune.hpp"

namespace anycl::detail {

// The file's document; a missing file is an empty one, an unreadable or malformed one is
// logged and started afresh (a tuner must not die on its own stale output).
nlohmann::json load_tuned_file(const std::string& path);

// Candidates of `variant` measured on exactly `shapes_key` (others are stale).
std::vector<TuneTrial> resumed_trials(const nlohmann::json& doc, const std::string& variant,
                                      const std::string& shapes_key);

// Puts `trials` and the best one's params (if any) for `variant` into `doc`.
void record_trials(nlohmann::json& doc, const DeviceInfo& device, const std::string& variant,
                   const std::string& shapes_key, const std::vector<TuneTrial>& trials, int best);
// Merges `params` into the tuned entry's `variant` (making the entry if it has none).
void set_entry_params(nlohmann::json& doc, const DeviceInfo& device, const std::string& variant,
                      const std::map<std::string, long>& params);

// Writes `doc` to a temporary file beside `path` and renames it over `path`; throws Error naming
// the file.
void write_tuned_file(const std::string& path, const nlohmann::json& doc);

// The device's entry of `doc` (null when it has none).
nlohmann::json tuned_entry(const nlohmann::json& doc);

}  // namespace anycl::detail
