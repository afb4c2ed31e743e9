// A kernel family's search space, declared as data beside its parameters
// (cl_kernels/params/<family>.space.json): the values each tunable may take and the constraints
// a combination must meet on a device. What anycl-tune explores and tests enumerate.
#pragma once

#include <string>
#include <vector>

#include "anycl/runtime.hpp"
#include "runtime/params.hpp"

namespace anycl::detail {

struct SpaceConstraint {
  enum class Kind { Equal, Multiple, LocalMemory, WorkGroup } kind;
  std::vector<std::vector<std::string>> terms;  // Equal: {{a, b}}; Multiple: {multiple, of}; else products
};

struct SearchSpace {
  std::string family;
  std::vector<std::pair<std::string, std::vector<long>>> values;  // in the file's order
  std::vector<SpaceConstraint> constraints;

  // Whether `p` meets every constraint on `device` with elements of `elem_bytes`.
  bool allows(const ParamSet& p, const DeviceInfo& device, std::size_t elem_bytes) const;
  // Every allowed combination, in a fixed order (the last tunable varies fastest).
  std::vector<ParamSet> configurations(const DeviceInfo& device, std::size_t elem_bytes) const;
};

// Reads <kernel_dir>/params/<family>.space.json; throws Error(ANYCL_ERROR_INVALID_ARGUMENT)
// naming the file and what is wrong with it.
SearchSpace load_search_space(const std::string& kernel_dir, const std::string& family);
// The same from an explicit file (a tuner given its own space).
SearchSpace load_search_space_file(const std::string& path, const std::string& family);

}  // namespace anycl::detail
