#include "api/tune_file.hpp"

#include <filesystem>
#include <fstream>

#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/program_binary.hpp"

namespace anycl::detail {

namespace fs = std::filesystem;
using nlohmann::json;

json load_tuned_file(const std::string& path) {
  const json empty = {{"schema", 1},
                      {"comment", "Written by anycl-tune: the tuned entry for this device, and every measured candidate."},
                      {"entries", json::array()},
                      {"trials", json::object()}};
  const auto text = read_file(path);
  if (!text) return empty;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.value("entries", json()).is_array() ||
      !doc.value("trials", json()).is_object()) {
    log_warn("anycl-tune: " + path + " is not a tuned parameter file; starting it afresh");
    return empty;
  }
  return doc;
}

std::vector<TuneTrial> resumed_trials(const json& doc, const std::string& variant, const std::string& shapes_key) {
  std::vector<TuneTrial> out;
  const json& slot = doc["trials"].value(variant, json::object());
  if (!slot.is_object() || slot.value("shapes", std::string()) != shapes_key) return out;
  for (const json& t : slot.value("results", json::array())) {
    try {
      TuneTrial trial;
      trial.params = t.at("params").get<std::map<std::string, long>>();
      trial.status = t.at("status").get<std::string>();
      trial.gflops = t.value("gflops", 0.0);
      trial.message = t.value("message", std::string());
      trial.resumed = true;
      out.push_back(std::move(trial));
    } catch (const json::exception&) {
      log_warn("anycl-tune: a malformed trial of " + variant + " in the tuned file is measured again");
    }
  }
  return out;
}

json tuned_entry(const json& doc) {
  for (const json& e : doc["entries"])
    if (e.is_object() && e.value("tuned_by", std::string()) == "anycl-tune") return e;
  return nullptr;
}

void record_trials(json& doc, const DeviceInfo& device, const std::string& variant, const std::string& shapes_key,
                   const std::vector<TuneTrial>& trials, int best) {
  json results = json::array();
  for (const TuneTrial& t : trials)
    results.push_back({{"params", t.params}, {"status", t.status}, {"gflops", t.gflops}, {"message", t.message}});
  doc["trials"][variant] = {{"shapes", shapes_key}, {"results", results}};
  if (best >= 0) set_entry_params(doc, device, variant, trials[std::size_t(best)].params);
}

void set_entry_params(json& doc, const DeviceInfo& device, const std::string& variant,
                      const std::map<std::string, long>& params) {
  json entry = tuned_entry(doc);
  if (entry.is_null())
    entry = {{"name", "tuned " + device.name},
             {"tuned_by", "anycl-tune"},
             {"match", {{"device_name_prefix", device.name}, {"driver_version_prefix", device.driver_version}}},
             {"params", json::object()}};
  entry["params"][variant].update(json(params));
  json entries = json::array({entry});
  doc["entries"] = entries;
}

void write_tuned_file(const std::string& path, const json& doc) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump(2) << "\n";
    if (!out.flush())
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: cannot write the parameter file " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: cannot rename " + tmp + " to " + path + ": " + ec.message());
}

}  // namespace anycl::detail
