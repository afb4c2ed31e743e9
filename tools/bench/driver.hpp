// anycl-bench run and sweep: the correctness driver (docs/reliability.md, "Correctness driver").
#pragma once

#include <string>

#include "descriptor.hpp"

namespace anycl_bench {

struct DriverOptions {
  std::string mode = "correctness";  // correctness | perf | both
  int repeats = 1;                   // correctness: runs per problem; perf: timed runs (at least 5)
  std::string algo = "auto";
  std::string device;                // "" = ANYCL_DEVICE, else the best single device
  bool profile = false;              // perf: also each kernel's launches, device time and share
  bool inject_error = false;         // test-only: perturb one output element before comparing
};

// The one command line that reruns `descriptor` in correctness mode on the same device.
std::string reproducer(const DriverOptions& o, const std::string& descriptor, const std::string& algo);

enum class Verdict { Pass, Fail, Skipped };

// Runs the problem o.repeats times and compares every result. On a mismatch or a library error
// prints FAIL, what differed and the reproducer. Skipped: a forced algorithm that does not apply,
// when `skip_unsupported` (the sweep's random picks).
Verdict check_problem(anycl::Runtime& rt, const std::string& descriptor, const Problem& p, const DriverOptions& o,
                      const std::string& algo, bool skip_unsupported);

// The subcommands; argv[1] is "run" or "sweep". Exit codes: 0 all passed, 1 a failure, 2 usage.
int run_main(int argc, char** argv);
int sweep_main(int argc, char** argv);

}  // namespace anycl_bench
