// Splitting one call's index space over devices: shares proportional to throughput weights,
// boundaries on the kernels' tile sizes.
#pragma once

#include <cstddef>
#include <vector>

#include "anycl/conv2d.hpp"
#include "anycl/parallel.hpp"
#include "runtime/range.hpp"

namespace anycl::detail {

// [0, extent) cut into one contiguous range per weight, in order. Inner boundaries fall on
// multiples of `align`; the split minimises the slowest device's time (granules / weight), so a
// device whose share rounds to nothing (or whose weight is 0) gets an empty range.
std::vector<Range> split_range(std::size_t extent, const std::vector<double>& weights, std::size_t align);

// One device's part of a call, along the two axes a call splits on: `data` is GEMM's m (the
// caller's rows of C) or the convolution batch, `model` is GEMM's n or the output channels.
// `algo` is the convolution algorithm resolved for the piece's own shape.
struct Piece {
  std::size_t device;
  Range data, model;
  ConvAlgo algo = ConvAlgo::Auto;
};

// What the split needs to know about a call.
struct SplitProblem {
  std::size_t data, model;
  std::size_t data_align = 1, model_align = 1;
  bool model_splittable = true;  // false: Model and Hybrid fall back to Data
  double flops = 0;              // for Auto's "too small to split" test
};

// Auto keeps a call on one device when the fastest device alone would need less than this
// (weights are GFLOP/s): launching and gathering pieces would cost about as much.
constexpr double kMinSplitSeconds = 1e-3;
inline bool worth_splitting(double flops, double fastest_gflops) {
  return flops / (fastest_gflops * 1e9) >= kMinSplitSeconds;
}

// The pieces that cover data x model exactly once (empty pieces dropped). weights[i] = 0 keeps
// device i out. A result with one piece means "run on that device alone".
std::vector<Piece> plan_pieces(Parallel mode, const SplitProblem& p, const std::vector<double>& weights);

}  // namespace anycl::detail
