#include "runtime/params.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/program_binary.hpp"

namespace anycl::detail {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr long kMaxParam = 4096;

bool parse_long(const std::string& s, long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Match keys: device_name_prefix, driver_version_prefix, type, min_vector_width_float,
// min_local_mem_kb, fp64 ("true"/"false"). A key anycl does not know never matches.
bool matches_key(const DeviceInfo& d, const std::string& key, const std::string& want) {
  long n = 0;
  if (key == "device_name_prefix") return starts_with(d.name, want);
  if (key == "driver_version_prefix") return starts_with(d.driver_version, want);
  if (key == "type") return d.type == want;
  if (key == "fp64") return (want == "true") == d.fp64;
  if (key == "min_vector_width_float") return parse_long(want, &n) && d.vector_width_float >= n;
  if (key == "min_local_mem_kb") return parse_long(want, &n) && d.local_mem >= std::uint64_t(n) * 1024;
  return false;
}

int specificity(const ParamTable::Entry& e) {
  const bool named = e.match.count("device_name_prefix") > 0;
  return (e.tuned ? 1000 : 0) + (named ? 100 : 0) + static_cast<int>(e.match.size());
}

ParamSet parse_family(const json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": expected an object of integers");
  ParamSet out;
  for (auto& [key, value] : j.items()) {
    if (!value.is_number_integer()) throw std::runtime_error(where + "." + key + ": not an integer");
    const long v = value.get<long>();
    if (v < 0 || v > kMaxParam)
      throw std::runtime_error(where + "." + key + ": " + std::to_string(v) + " is outside 0.." +
                               std::to_string(kMaxParam));
    out[key] = v;
  }
  return out;
}

std::string match_value(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<long>());
  throw std::runtime_error("match values must be strings, booleans or integers");
}

ParamTable::Entry parse_entry(const json& e, const std::string& origin) {
  ParamTable::Entry out;
  out.origin = origin;
  out.name = e.value("name", std::string("(unnamed)"));
  if (e.contains("match")) {
    if (!e["match"].is_object()) throw std::runtime_error("entry '" + out.name + "': match must be an object");
    for (auto& [k, v] : e["match"].items()) out.match[k] = match_value(v);
  }
  if (!e.contains("params") || !e["params"].is_object())
    throw std::runtime_error("entry '" + out.name + "': params must be an object");
  for (auto& [family, values] : e["params"].items())
    out.families[family] = parse_family(values, out.name + "." + family);
  return out;
}

// A combination the kernels cannot honour (NR not a multiple of VW, VW not a power of two).
std::string check_combination(const ParamSet& p) {
  auto get = [&](const char* k) { auto it = p.find(k); return it == p.end() ? 0L : it->second; };
  const long vw = get("VW");
  if (vw && (vw > 16 || (vw & (vw - 1)) != 0)) return "VW must be 1, 2, 4, 8 or 16";
  if (vw && get("NR") % vw != 0) return "NR must be a multiple of VW";
  return {};
}

}  // namespace

ParamSet cl_defaults(const std::string& source) {
  ParamSet out;
  std::stringstream in(source);
  std::string line, pending;
  while (std::getline(in, line)) {
    std::stringstream words(line);
    std::string directive, name, value;
    words >> directive >> name >> value;
    if (directive == "#ifndef") {
      pending = name;
      continue;
    }
    long v = 0;
    if (directive == "#define" && name == pending && parse_long(value, &v)) out[name] = v;
    if (!directive.empty()) pending.clear();
  }
  return out;
}

std::string file_slug(const std::string& name) {
  std::string s;
  for (unsigned char c : name) s.push_back(std::isalnum(c) || c == '-' || c == '.' ? char(c) : '_');
  return s;
}

std::string tuned_params_path(const std::string& cache_dir, const DeviceInfo& device) {
  return cache_dir + "/params/" + file_slug(device.name) + ".json";
}

ParamTable::ParamTable(const ParamSources& sources) {
  const char* env = std::getenv("ANYCL_PARAMS");
  const std::string mode = env && *env ? env : "all";
  if (mode != "all" && mode != "shipped" && mode != "tuned" && mode != "generic")
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "ANYCL_PARAMS='" + mode + "' is none of all, shipped, tuned, generic");
  if (mode == "all" || mode == "shipped") load_dir((fs::path(sources.kernel_dir) / "params").string(), false);
  if (mode == "all" || mode == "tuned") load_dir(sources.tuned_dir, true);
}

void ParamTable::load_dir(const std::string& dir_name, bool tuned) {
  std::error_code ec;
  const fs::path dir = dir_name;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json" && !ends_with(it->path().filename().string(), ".space.json"))
      files.push_back(it->path());  // search spaces (search_space.hpp) are not parameters
  std::sort(files.begin(), files.end());  // deterministic order across file systems
  for (const auto& f : files) {
    auto text = read_file(f.string());
    if (!text) log_warn("parameters: cannot read " + f.string() + "; using kernel defaults");
    else load_text(*text, f.string(), tuned);
  }
}

ParamTable::ParamTable(const std::string& json_text, const std::string& origin) { load_text(json_text, origin); }

void ParamTable::load_text(const std::string& text, const std::string& origin, bool tuned) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array()) {
    log_warn("parameters: " + origin + " is not a JSON object with an 'entries' array; ignored");
    return;
  }
  for (const auto& e : doc["entries"]) {
    try {
      if (!e.is_object()) throw std::runtime_error("an entry is not an object");
      entries_.push_back(parse_entry(e, origin));
      entries_.back().tuned = tuned;
    } catch (const std::exception& ex) {
      log_warn("parameters: " + origin + ": " + ex.what() + "; entry ignored");
    }
  }
}

std::vector<const ParamTable::Entry*> ParamTable::matches(const DeviceInfo& device) const {
  std::vector<const Entry*> out;
  for (const auto& e : entries_) {
    const bool all = std::all_of(e.match.begin(), e.match.end(),
                                 [&](const auto& kv) { return matches_key(device, kv.first, kv.second); });
    if (all) out.push_back(&e);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry* a, const Entry* b) { return specificity(*a) < specificity(*b); });
  return out;
}

std::vector<std::string> ParamTable::matching_entries(const DeviceInfo& device) const {
  std::vector<std::string> names;
  for (const Entry* e : matches(device)) names.push_back(e->name);
  return names;
}

bool ParamTable::sets(const DeviceInfo& device, const std::string& family, const std::string& variant,
                      const std::string& key) const {
  for (const Entry* e : matches(device))
    for (const std::string& name : {family, variant}) {
      auto it = e->families.find(name);
      if (it != e->families.end() && it->second.count(key)) return true;
    }
  return false;
}

ParamSet ParamTable::resolve(const DeviceInfo& device, const std::string& family,
                             const std::string& variant, const ParamSet& defaults) const {
  ParamSet out = defaults;
  for (const Entry* e : matches(device)) {
    for (const std::string& key : {family, variant}) {
      auto it = e->families.find(key);
      if (it == e->families.end() || key.empty()) continue;
      ParamSet trial = out;
      std::string problem;
      for (const auto& [k, v] : it->second) {
        if (!defaults.count(k)) problem = "unknown parameter " + k;
        else if (v == 0 && defaults.at(k) != 0) problem = k + " is 0, which only a switch (.cl default 0) may be";
        trial[k] = v;
      }
      if (problem.empty()) problem = check_combination(trial);
      if (!problem.empty()) {
        log_warn("parameters: " + e->origin + ": entry '" + e->name + "' for " + key + ": " + problem +
                 "; entry ignored");
        continue;
      }
      out = std::move(trial);
    }
  }
  return out;
}

}  // namespace anycl::detail
