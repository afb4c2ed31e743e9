// What the planner and the executors know of one validated call (the API layer builds them).
#pragma once

#include <optional>
#include <variant>

#include "anycl/conv2d.hpp"
#include "ops/gemm_args.hpp"

namespace anycl::detail {

struct GemmCall {
  GemmShape shape;      // as the caller gave it, validated
  GemmProblem problem;  // normalized to row-major, with the call's buffer offsets
  bool f64 = false;
  bool alpha_zero = false;  // A and B are not read
  const char* precision() const { return f64 ? "f64" : "f32"; }
};

template <typename T>
GemmCall gemm_call(const GemmShape& shape, T alpha, std::size_t a_off = 0, std::size_t b_off = 0,
                   std::size_t c_off = 0) {
  return {shape, normalize(shape, a_off, b_off, c_off), sizeof(T) == sizeof(double), alpha == T(0)};
}

struct ConvCall {
  ConvPass pass;
  Conv2d d;       // validated
  ConvAlgo algo;  // as requested: Auto, or a forced algorithm that applies
};

// One call: the operation and where its operands are. `home` is the device of the caller's
// buffers (none: host pointers). `spread` false keeps the call on home, for a caller that keeps
// every device busy itself (a training replica per device).
struct Call {
  std::variant<GemmCall, ConvCall> op;
  std::optional<std::size_t> home;
  bool spread = true;
};

}  // namespace anycl::detail
