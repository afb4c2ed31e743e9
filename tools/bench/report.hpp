// anycl-bench: shared pieces of the GEMM and convolution benchmarks.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "anycl/anycl.hpp"
#include "opponents.hpp"

namespace anycl_bench {

struct Options {
  int reps = 7;        // timed runs behind each median (at least 5)
  int rounds = 3;      // multi: turns each configuration takes, in rotated order
  bool quick = false;  // fewer shapes, for smoke tests
  std::FILE* table = stdout;  // the human-readable table (stderr when --json owns stdout)
};

// {"gflops", "median_ms", "first_call_ms", "runs", "note"} or {"supported": false, "note"}.
nlohmann::json to_json(const Timing& t);

// A device buffer of `elems` uniform random floats in [-1, 1).
anycl::Buffer random_buffer(anycl::Runtime& rt, std::size_t elems, unsigned seed);

// Times `fn` (which must block until its device work is done) the way the opponents are timed.
Timing time_anycl(const std::function<void()>& fn, double flops, int reps);

nlohmann::json bench_gemm(anycl::Runtime& rt, const Options& opt);
nlohmann::json bench_conv(anycl::Runtime& rt, const Options& opt);
// `anycl-bench multi`: runs its configurations in child processes; returns the exit code.
int bench_multi(int argc, char** argv, const Options& opt, bool as_json, const std::string& out_file);

}  // namespace anycl_bench
