#include "api/call_log.hpp"

#include <sstream>

namespace anycl::detail {
namespace {

bool row_major(const GemmShape& s) { return s.layout == Layout::RowMajor; }

// The descriptor's default leading dimension: tight, at least 1.
std::size_t tight_ld(const GemmShape& s, char which) {
  return std::max<std::size_t>(1, row_major(s) ? gemm_stored_cols(s, which) : gemm_stored_rows(s, which));
}

// The batch stride the descriptor implies: one matrix at the leading dimension.
std::size_t implied_stride(const GemmShape& s, char which, std::size_t ld) {
  return (row_major(s) ? gemm_stored_rows(s, which) : gemm_stored_cols(s, which)) * ld;
}

// 17 significant digits: a float or double prints back to the same value.
std::string number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

std::string field(const char* key, std::size_t value, std::size_t dflt) {
  return value == dflt ? std::string() : ":" + std::string(key) + std::to_string(value);
}

std::string pair_text(std::size_t h, std::size_t w) {
  return h == w ? std::to_string(h) : std::to_string(h) + "_" + std::to_string(w);
}

std::string padding_text(const Conv2d& d) {
  if (d.pad_top == d.pad_bottom && d.pad_left == d.pad_right) return pair_text(d.pad_top, d.pad_left);
  return std::to_string(d.pad_top) + "_" + std::to_string(d.pad_left) + "_" + std::to_string(d.pad_bottom) + "_" +
         std::to_string(d.pad_right);
}

std::string stride_note(const GemmShape& s) {
  if (s.batch <= 1) return {};
  const bool implied = s.stride_a == implied_stride(s, 'a', s.lda) && s.stride_b == implied_stride(s, 'b', s.ldb) &&
                       s.stride_c == implied_stride(s, 'c', s.ldc);
  if (implied) return {};
  return " (batch strides a " + std::to_string(s.stride_a) + ", b " + std::to_string(s.stride_b) + ", c " +
         std::to_string(s.stride_c) + ": not expressible in the descriptor)";
}

}  // namespace

std::size_t gemm_stored_rows(const GemmShape& s, char which) {
  if (which == 'a') return s.trans_a == Transpose::Yes ? s.k : s.m;
  if (which == 'b') return s.trans_b == Transpose::Yes ? s.n : s.k;
  return s.m;
}

std::size_t gemm_stored_cols(const GemmShape& s, char which) {
  if (which == 'a') return s.trans_a == Transpose::Yes ? s.m : s.k;
  if (which == 'b') return s.trans_b == Transpose::Yes ? s.k : s.n;
  return s.n;
}

std::string gemm_call_text(const GemmCallText& call) {
  const GemmShape& s = call.shape;
  std::string t = std::string("gemm:") + (call.fp64 ? "d" : "s") + ":" + (row_major(s) ? "R" : "C") +
                  (s.trans_a == Transpose::Yes ? "T" : "N") + (s.trans_b == Transpose::Yes ? "T" : "N") + ":m" +
                  std::to_string(s.m) + "n" + std::to_string(s.n) + "k" + std::to_string(s.k);
  t += field("lda", s.lda, tight_ld(s, 'a')) + field("ldb", s.ldb, tight_ld(s, 'b')) +
       field("ldc", s.ldc, tight_ld(s, 'c'));
  if (call.alpha != 1) t += ":alpha" + number(call.alpha);
  if (call.beta != 0) t += ":beta" + number(call.beta);
  t += field("batch", s.batch, 1) + field("ao", call.a_offset, 0) + field("bo", call.b_offset, 0) +
       field("co", call.c_offset, 0);
  if (call.provider == GemmProvider::CLBlast) t += " --algo clblast";
  return t + stride_note(s);
}

std::string conv_call_text(ConvPass pass, const Conv2d& d, bool bias, ConvAlgo algo) {
  const char* name = pass == ConvPass::Forward ? "fwd" : pass == ConvPass::BackwardData ? "bwd_d" : "bwd_w";
  std::string t = std::string("conv:") + name + ":n" + std::to_string(d.n) + "c" + std::to_string(d.c) + "h" +
                  std::to_string(d.h) + "w" + std::to_string(d.w) + "k" + std::to_string(d.k) + "r" +
                  std::to_string(d.r) + "s" + std::to_string(d.s);
  t += ":p" + padding_text(d) + ":s" + pair_text(d.stride_h, d.stride_w) + ":d" +
       pair_text(d.dilation_h, d.dilation_w) + ":g" + std::to_string(d.groups);
  if (bias) t += ":bias";
  if (d.relu && pass == ConvPass::Forward) t += ":relu";
  if (d.layout == ConvLayout::Nhwc) t += ":nhwc";
  if (algo != ConvAlgo::Auto) t += std::string(" --algo ") + to_string(algo);
  return t;
}

}  // namespace anycl::detail
