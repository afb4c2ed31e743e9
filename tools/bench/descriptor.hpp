// anycl-bench run/sweep: one problem as a one-line descriptor (grammar: docs/reliability.md,
// "Correctness driver"), parsed into the public API's shapes and printed back canonically.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "anycl/anycl.hpp"

namespace anycl_bench {

// A descriptor that does not parse; the message names the field. anycl-bench exits 2.
struct DescriptorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct GemmProblem {
  bool fp64 = false;
  anycl::GemmShape shape;  // ld and batch strides always filled in
  double alpha = 1, beta = 0;
  std::size_t a_offset = 0, b_offset = 0, c_offset = 0;
};

struct ConvProblem {
  anycl::ConvPass pass = anycl::ConvPass::Forward;
  anycl::Conv2d d;
  bool bias = false;  // forward: bias input; backward-weights: the bias gradient as a second output
};

struct Problem {
  bool is_gemm = true;
  GemmProblem gemm;
  ConvProblem conv;
};

Problem parse_descriptor(const std::string& text);
// The canonical descriptor: every field that differs from its default, in grammar order.
std::string format_descriptor(const Problem& p);

// Elements a GEMM operand spans in its buffer, offset excluded: batch - 1 strides plus one matrix.
std::size_t gemm_span(const anycl::GemmShape& s, char which);
// Rows and columns of the stored (not transposed) operand 'a', 'b' or 'c'.
std::size_t stored_rows(const anycl::GemmShape& s, char which);
std::size_t stored_cols(const anycl::GemmShape& s, char which);
// Index of stored element (row, col) of operand `which` in matrix 0, offset excluded.
std::size_t stored_index(const anycl::GemmShape& s, char which, std::size_t row, std::size_t col);

}  // namespace anycl_bench
