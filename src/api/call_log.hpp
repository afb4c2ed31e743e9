// ANYCL_LOG=calls: each public GEMM and convolution call as the descriptor `anycl-bench run`
// replays (docs/reliability.md, "Correctness driver"), so a failing call in a large program can
// be rerun alone.
#pragma once

#include <cstddef>
#include <string>

#include "anycl/conv2d.hpp"
#include "anycl/gemm.hpp"
#include "runtime/log.hpp"

namespace anycl::detail {

struct GemmCallText {
  const GemmShape& shape;
  bool fp64;
  double alpha, beta;
  std::size_t a_offset = 0, b_offset = 0, c_offset = 0;
  GemmProvider provider = GemmProvider::Anycl;
};

// Rows and columns of stored (not transposed) operand 'a', 'b' or 'c'.
std::size_t gemm_stored_rows(const GemmShape& s, char which);
std::size_t gemm_stored_cols(const GemmShape& s, char which);

// The descriptor, then ` --algo clblast` when that provider runs it, and a note for batch
// strides the grammar cannot express (it assumes one matrix at the leading dimension).
std::string gemm_call_text(const GemmCallText& call);
// The descriptor, then ` --algo <name>` when the caller forced an algorithm.
std::string conv_call_text(ConvPass pass, const Conv2d& d, bool bias, ConvAlgo algo);

// Prints the line when ANYCL_LOG asks for calls; `text` is built only then.
template <typename MakeText>
void log_call_if_enabled(MakeText&& text) {
  if (log_calls_enabled()) log_call(text());
}

}  // namespace anycl::detail
