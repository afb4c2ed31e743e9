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

class ParamTable {
 public:
  ParamTable() = default;
  // Reads every *.json in <kernel_dir>/params; a missing, malformed or ill-typed file or entry is
  // logged and skipped, never fatal: the .cl defaults are always a valid fallback.
  explicit ParamTable(const std::string& kernel_dir);
  ParamTable(const std::string& json_text, const std::string& origin);  // for tests and fuzzing

  // defaults <- generic entries <- capability matches <- device-name matches, most specific last.
  // `family` is the file's family ("gemm_packed"), `variant` adds precision ("gemm_packed_f64").
  ParamSet resolve(const DeviceInfo& device, const std::string& family, const std::string& variant,
                   const ParamSet& defaults) const;

  // Names of the entries that matched, most specific last (for anycl-query).
  std::vector<std::string> matching_entries(const DeviceInfo& device) const;

  struct Entry {
    std::string name, origin;
    std::map<std::string, std::string> match;             // key -> expected value
    std::map<std::string, ParamSet> families;             // family or variant -> params
  };

 private:
  void load_text(const std::string& text, const std::string& origin);
  std::vector<const Entry*> matches(const DeviceInfo& device) const;
  std::vector<Entry> entries_;
};

}  // namespace anycl::detail
