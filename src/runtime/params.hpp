// Kernel tunables: the defaults stated at the top of each .cl file, overridden by the per-device
// entries of cl_kernels/params/*.json.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl::detail {

using ParamSet = std::map<std::string, long>;

// `#ifndef X` followed by `#define X <integer>`: the file's documented tunables and defaults.
ParamSet cl_defaults(const std::string& source);

// `name` with every character but letters, digits, '-' and '.' made '_': a file name.
std::string file_slug(const std::string& name);

// The per-user file anycl-tune writes for `device`: <cache_dir>/params/<device name>.json.
std::string tuned_params_path(const std::string& cache_dir, const DeviceInfo& device);

// Where the tables live: <kernel_dir>/params (shipped) and tuned_dir (anycl-tune's files).
struct ParamSources {
  std::string kernel_dir, tuned_dir;
};

class ParamTable {
 public:
  ParamTable() = default;
  // Reads every *.json in <kernel_dir>/params (the shipped table) and in tuned_dir (anycl-tune's
  // per-user files, whose entries rank above every shipped one). ANYCL_PARAMS picks the layers:
  // unset or "all" both, "shipped", "tuned", or "generic" (neither: the .cl defaults). A missing,
  // malformed or ill-typed file or entry is logged and skipped, never fatal: the .cl defaults are
  // always a valid fallback. An unknown ANYCL_PARAMS throws Error(ANYCL_ERROR_INVALID_ARGUMENT).
  explicit ParamTable(const ParamSources& sources);
  ParamTable(const std::string& json_text, const std::string& origin);  // for tests and fuzzing

  // defaults <- generic entries <- capability matches <- device-name matches, most specific last.
  // `family` is the file's family ("gemm_packed"), `variant` adds precision ("gemm_packed_f64").
  ParamSet resolve(const DeviceInfo& device, const std::string& family, const std::string& variant,
                   const ParamSet& defaults) const;

  // Whether a matching entry sets `key` for `family` or `variant` (a value of its own, not a default).
  bool sets(const DeviceInfo& device, const std::string& family, const std::string& variant,
            const std::string& key) const;

  // Names of the entries that matched, most specific last (for anycl-query).
  std::vector<std::string> matching_entries(const DeviceInfo& device) const;

  struct Entry {
    std::string name, origin;
    bool tuned = false;  // from a per-user file: ranks above the shipped table
    std::map<std::string, std::string> match;             // key -> expected value
    std::map<std::string, ParamSet> families;             // family or variant -> params
  };

 private:
  void load_dir(const std::string& dir, bool tuned);
  void load_text(const std::string& text, const std::string& origin, bool tuned = false);
  std::vector<const Entry*> matches(const DeviceInfo& device) const;
  std::vector<Entry> entries_;
};

}  // namespace anycl::detail
