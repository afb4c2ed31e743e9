// Tuning a kernel family's -D parameters on one device (what anycl-tune runs): candidates from
// the family's search space (cl_kernels/params/<family>.space.json), each built, checked against
// a host reference in double with guard regions around every buffer, then timed. The best is
// written to a per-user parameter file that every later runtime on that device loads above the
// shipped table (ANYCL_PARAMS picks the layers). The dispatch families (dispatch_gemm_f32/_f64,
// dispatch_conv) measure the two sides of each dispatch threshold over a size ladder instead and
// set the threshold at the crossover.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "anycl/conv2d.hpp"
#include "anycl/export.h"
#include "anycl/runtime.hpp"

namespace anycl {

// One GEMM the candidates are timed on: batch products of m x k by k x n.
struct TuneShape {
  std::size_t m = 0, n = 0, k = 0, batch = 1;
};

// One candidate's outcome. status: "ok", "build_failed", "launch_failed" or "wrong_result";
// only "ok" candidates are ever chosen.
struct TuneTrial {
  std::map<std::string, long> params;
  std::string status;
  double gflops = 0;        // geometric mean over the shapes ("ok" only)
  std::string message;      // why it failed
  bool resumed = false;     // measured by an earlier run, read back from the file
};

struct TuneProgress {
  std::size_t done = 0, total = 0;  // candidates this run will try
  double best_gflops = 0, elapsed_seconds = 0, eta_seconds = 0;
  const TuneTrial* last = nullptr;
};

struct TuneOptions {
  // gemm_packed_f32/_f64, gemm_direct_f32/_f64, gemm_tiled_f32/_f64, conv_direct_wg, conv_winograd_tiled,
  // conv_winograd, conv_im2col, conv_direct, conv_depthwise, or a dispatch family: dispatch_gemm_f32/_f64,
  // dispatch_conv. A family the runtime did not build, or whose algorithm runs another family's
  // kernels on the device (the GPU-class and CPU forms), is refused with ANYCL_ERROR_UNSUPPORTED.
  std::string family = "gemm_packed_f32";
  double budget_seconds = 600;             // stops starting candidates after this
  std::uint64_t seed = 1;                  // order of the random search
  std::size_t exhaustive_limit = 64;       // spaces up to this size run in file order, else seeded random
  std::size_t random_samples = 16;         // large spaces: random candidates before climbing from the best
  std::vector<TuneShape> shapes;           // empty: square 1024, skinny 1024x64x1024, batched 8 x 256^3
  std::vector<Conv2d> conv_layers;         // conv families, forward; empty: the family's layers of anycl-bench conv
  std::string space_file;                  // "" = <kernel dir>/params/<family>.space.json
  std::string params_file;                 // "" = tuned_params_file(rt, device)
  std::function<void(const TuneProgress&)> on_progress;
};

struct TuneResult {
  std::string variant, params_file;
  std::size_t space_size = 0;    // allowed configurations on the device
  std::vector<TuneTrial> trials;  // resumed ones first
  int best = -1;                  // index into trials; -1 when no candidate passed
  int current = -1;               // the trial of the values the device had at the start (run first)
  // Dispatch families: the thresholds set ({variant: {name: value}}); their trials are the
  // ladder's measurements (params POINT, SIDE 0 = the usual side, 1 = the other; gflops).
  std::map<std::string, std::map<std::string, long>> thresholds;
};

// Tunes options.family on device `device` of `rt`, writing the file after every candidate
// (atomically, so an interrupted run resumes: measured candidates are not run again when the
// shapes match). On return the device runs the best candidate. Throws Error naming the argument
// for an unknown family, a bad shape or space file, or a device without the family.
ANYCL_API TuneResult tune(Runtime& rt, std::size_t device, const TuneOptions& options);

// The per-user parameter file of device `device`: <cache dir>/params/<device name>.json.
ANYCL_API std::string tuned_params_file(const Runtime& rt, std::size_t device);

// The tuned file's entry as a devices.json entry (JSON text) for the repository's shipped table;
// throws Error(ANYCL_ERROR_INVALID_ARGUMENT) when the file has no tuned entry.
ANYCL_API std::string tuned_entry_json(const Runtime& rt, std::size_t device);

}  // namespace anycl
