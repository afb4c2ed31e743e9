// anycl-bench run/sweep: one descriptor's call through the public API on device buffers, with
// small integer inputs, and the check of its outputs against the host reference.
#pragma once

#include <functional>
#include <string>

#include "descriptor.hpp"

namespace anycl_bench {

// --algo: a convolution algorithm (anycl::to_string names) or, for GEMM, the provider.
bool known_algo(const std::string& name);
// Throws DescriptorError unless --algo NAME means something for this problem (GEMM:
// auto|anycl|clblast; conv: auto and the ConvAlgo names).
void require_algo_fits(const Problem& p, const std::string& name);

struct ProblemCall {
  std::function<void()> reset;  // writes the initial outputs again (C is read when beta != 0)
  std::function<void()> run;    // the call, waited for
  // Reads the outputs back and compares them with the reference: "" when they match, else what
  // differs. `inject_error` perturbs one output element first, to prove a wrong result is caught.
  std::function<std::string(bool inject_error)> check;
  double flops = 0;
};

// Uploads the inputs and computes the reference; device memory lives as long as the result.
ProblemCall prepare_call(anycl::Runtime& rt, const Problem& p, const std::string& algo);

}  // namespace anycl_bench
