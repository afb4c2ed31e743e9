// The kernel families anycl ships, and building (or loading) them for one device.
#pragma once

#include <boost/compute/program.hpp>
#include <string>
#include <vector>

#include "anycl/runtime.hpp"
#include "runtime/binary_cache.hpp"
#include "runtime/params.hpp"

namespace anycl::detail {

// One program anycl builds per device: a .cl file compiled for one precision.
struct FamilySpec {
  std::string variant;      // "gemm_packed_f32": the program's name everywhere
  std::string family;       // "gemm_packed": the file's family, also its params key
  std::string file;         // "gemm_packed.cl"
  std::string real;         // value of -DREAL
  bool needs_fp64 = false;  // skipped on devices without fp64
  std::string layout_from;  // variant whose tunables of the same name this one must share
  bool tiled_gemm = false;  // built only on devices that run the tiled GEMM family (gemm_family.hpp)
};

const std::vector<FamilySpec>& kernel_families();

// Whether the runtime builds `spec` on `device`: fp64 families need fp64, the tiled GEMM family
// needs the device to run it (gemm_family.hpp).
bool builds_on(const FamilySpec& spec, const DeviceInfo& device);

struct BuiltProgram {
  boost::compute::program program;
  ParamSet params;      // every tunable the program was built with
  std::string options;  // without -I
  std::string source_hash;  // of the expanded source: results measured on it (conv find) key on it
  long param(const std::string& name) const;  // throws ANYCL_ERROR_INTERNAL when absent
};

struct BuildContext {
  std::string kernel_dir;
  const ParamTable* params = nullptr;
  const BinaryCache* cache = nullptr;
  bool binary_only = false;
  std::string binary_dir;  // "" = ANYCL_BINARY_PATH, then <kernel_dir>/binaries
  const ParamSet* fixed = nullptr;  // values over the table's (a tuner's candidate); must be known tunables
};

// The option string (without -I) and params `spec` gets on `device`; `shared` is the built
// program named by spec.layout_from, if any.
struct BuildPlan {
  std::string source, expanded, options, source_hash;
  ParamSet params;
};
BuildPlan plan_build(const BuildContext& ctx, const FamilySpec& spec, const DeviceInfo& device,
                     const BuiltProgram* shared);

// Builds from source (through the binary cache) or, for binary-only devices, loads the shipped
// binary. Fills `report`; throws BuildError / Error on failure.
BuiltProgram build_family(const BuildContext& ctx, const FamilySpec& spec, const DeviceInfo& device,
                          cl_context context, cl_device_id id, const BuiltProgram* shared,
                          BuildReport& report);

// The program's binary for `id`, ready to save with anycl-compile or the cache.
ProgramBinary extract_binary(const BuiltProgram& built, const BuildPlan& plan, const DeviceInfo& device,
                             cl_device_id id);

// Where the prebuilt binary of `variant` for `device` lives below `binary_dir`.
std::string prebuilt_path(const std::string& binary_dir, const DeviceInfo& device, const std::string& variant);
std::string resolve_binary_dir(const BuildContext& ctx);

}  // namespace anycl::detail
