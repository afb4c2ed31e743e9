// Parsing and printing problem descriptors. Every error names the field it is about, so a typo in
// a long batch file is found from the message alone.
#include "descriptor.hpp"

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <vector>

namespace anycl_bench {
namespace {

using anycl::Layout;
using anycl::Transpose;

[[noreturn]] void bad(const std::string& text, const std::string& field, const std::string& why) {
  throw DescriptorError("descriptor '" + text + "': field '" + field + "': " + why);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

// Caps values well below anything that could overflow the size products the library checks.
std::size_t to_uint(const std::string& text, const std::string& field, const std::string& value) {
  if (value.empty() || value.size() > 12 || value.find_first_not_of("0123456789") != std::string::npos)
    bad(text, field, "expected an unsigned integer, got '" + value + "'");
  return std::stoull(value);
}

double to_number(const std::string& text, const std::string& field, const std::string& value) {
  char* end = nullptr;
  const double v = value.empty() ? NAN : std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(v)) bad(text, field, "expected a finite number, got '" + value + "'");
  return v;
}

// "m1000n37k513" with the letters `keys`, each exactly once, in any order.
std::map<char, std::size_t> parse_sizes(const std::string& text, const std::string& token, const std::string& keys) {
  std::map<char, std::size_t> sizes;
  for (std::size_t i = 0; i < token.size();) {
    const char key = token[i];
    const std::size_t end = token.find_first_not_of("0123456789", i + 1);
    const std::string value = token.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
    if (keys.find(key) == std::string::npos) bad(text, "sizes", std::string("unknown size '") + key + "' (expected " + keys + ")");
    if (sizes.count(key)) bad(text, "sizes", std::string("size '") + key + "' given twice");
    sizes[key] = to_uint(text, std::string("sizes.") + key, value);
    i = end == std::string::npos ? token.size() : end;
  }
  for (char key : keys)
    if (!sizes.count(key)) bad(text, "sizes", std::string("size '") + key + "' missing (expected " + keys + ")");
  return sizes;
}

// "lda1024" -> {"lda", "1024"}; "bias" -> {"bias", ""}.
std::pair<std::string, std::string> key_value(const std::string& field) {
  const std::size_t end = field.find_first_not_of("abcdefghijklmnopqrstuvwxyz");
  if (end == std::string::npos) return {field, ""};
  return {field.substr(0, end), field.substr(end)};
}

// Optional fields after the fixed ones, each key at most once and one of `allowed`.
std::map<std::string, std::string> optional_fields(const std::string& text, const std::vector<std::string>& fields,
                                                   std::size_t first, const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> out;
  for (std::size_t i = first; i < fields.size(); ++i) {
    const auto kv = key_value(fields[i]);
    bool known = false;
    for (const std::string& a : allowed) known = known || a == kv.first;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : " ") + a;
    if (!known) bad(text, fields[i], "unknown field (expected one of: " + list + ")");
    if (out.count(kv.first)) bad(text, kv.first, "given twice");
    out[kv.first] = kv.second;
  }
  return out;
}

std::size_t min_ld(const anycl::GemmShape& s, char which) {
  const std::size_t ld = s.layout == Layout::RowMajor ? stored_cols(s, which) : stored_rows(s, which);
  return ld > 0 ? ld : 1;
}

std::size_t matrix_elems(const anycl::GemmShape& s, char which, std::size_t ld) {
  return (s.layout == Layout::RowMajor ? stored_rows(s, which) : stored_cols(s, which)) * ld;
}

std::size_t& ld_of(anycl::GemmShape& s, char which) { return which == 'a' ? s.lda : which == 'b' ? s.ldb : s.ldc; }

void parse_gemm_layout(const std::string& text, const std::string& f, anycl::GemmShape& s) {
  if (f.size() != 3 || (f[0] != 'R' && f[0] != 'C') || (f[1] != 'N' && f[1] != 'T') || (f[2] != 'N' && f[2] != 'T'))
    bad(text, "layout", "expected R|C then N|T for A and N|T for B (e.g. RNT), got '" + f + "'");
  s.layout = f[0] == 'R' ? Layout::RowMajor : Layout::ColMajor;
  s.trans_a = f[1] == 'T' ? Transpose::Yes : Transpose::No;
  s.trans_b = f[2] == 'T' ? Transpose::Yes : Transpose::No;
}

GemmProblem parse_gemm(const std::string& text, const std::vector<std::string>& f) {
  if (f.size() < 4) bad(text, "gemm", "expected gemm:<s|d>:<layout>:m<M>n<N>k<K>[:...]");
  GemmProblem g;
  if (f[1] != "s" && f[1] != "d") bad(text, "precision", "expected s or d, got '" + f[1] + "'");
  g.fp64 = f[1] == "d";
  anycl::GemmShape& s = g.shape;
  parse_gemm_layout(text, f[2], s);
  const auto sizes = parse_sizes(text, f[3], "mnk");
  s.m = sizes.at('m'), s.n = sizes.at('n'), s.k = sizes.at('k');
  const auto opt = optional_fields(text, f, 4, {"lda", "ldb", "ldc", "alpha", "beta", "batch", "ao", "bo", "co"});
  for (char which : {'a', 'b', 'c'}) {
    const std::string key = std::string("ld") + which;
    ld_of(s, which) = opt.count(key) ? to_uint(text, key, opt.at(key)) : min_ld(s, which);
    if (ld_of(s, which) < min_ld(s, which)) bad(text, key, "must be at least " + std::to_string(min_ld(s, which)));
  }
  if (opt.count("alpha")) g.alpha = to_number(text, "alpha", opt.at("alpha"));
  if (opt.count("beta")) g.beta = to_number(text, "beta", opt.at("beta"));
  if (opt.count("batch")) s.batch = to_uint(text, "batch", opt.at("batch"));
  if (s.batch == 0) bad(text, "batch", "must be at least 1");
  if (opt.count("ao")) g.a_offset = to_uint(text, "ao", opt.at("ao"));
  if (opt.count("bo")) g.b_offset = to_uint(text, "bo", opt.at("bo"));
  if (opt.count("co")) g.c_offset = to_uint(text, "co", opt.at("co"));
  s.stride_a = matrix_elems(s, 'a', s.lda), s.stride_b = matrix_elems(s, 'b', s.ldb), s.stride_c = matrix_elems(s, 'c', s.ldc);
  return g;
}

// "1" (both) or "2_1" (height_width).
std::pair<std::size_t, std::size_t> parse_pair(const std::string& text, const std::string& key, const std::string& value) {
  const std::vector<std::string> v = split(value, '_');
  if (v.size() == 1) return {to_uint(text, key, v[0]), to_uint(text, key, v[0])};
  if (v.size() == 2) return {to_uint(text, key, v[0]), to_uint(text, key, v[1])};
  bad(text, key, "expected <both> or <height>_<width>, got '" + value + "'");
}

// "1" (all sides), "1_2" (height_width) or "1_1_0_0" (top_left_bottom_right).
void parse_padding(const std::string& text, const std::string& value, anycl::Conv2d& d) {
  const std::vector<std::string> v = split(value, '_');
  if (v.size() == 4) {
    d.pad_top = to_uint(text, "p", v[0]), d.pad_left = to_uint(text, "p", v[1]);
    d.pad_bottom = to_uint(text, "p", v[2]), d.pad_right = to_uint(text, "p", v[3]);
    return;
  }
  if (v.size() != 1 && v.size() != 2) bad(text, "p", "expected p<all>, p<h>_<w> or p<top>_<left>_<bottom>_<right>");
  const auto hw = parse_pair(text, "p", value);
  d.pad_top = d.pad_bottom = hw.first, d.pad_left = d.pad_right = hw.second;
}

anycl::ConvPass parse_pass(const std::string& text, const std::string& f) {
  if (f == "fwd") return anycl::ConvPass::Forward;
  if (f == "bwd_d") return anycl::ConvPass::BackwardData;
  if (f == "bwd_w") return anycl::ConvPass::BackwardWeights;
  bad(text, "pass", "expected fwd, bwd_d or bwd_w, got '" + f + "'");
}

void parse_conv_flags(const std::string& text, const std::map<std::string, std::string>& opt, ConvProblem& c) {
  for (const char* flag : {"bias", "relu", "nhwc"})
    if (opt.count(flag) && !opt.at(flag).empty()) bad(text, flag, "takes no value");
  c.bias = opt.count("bias") > 0;
  c.d.relu = opt.count("relu") > 0;
  if (opt.count("nhwc")) c.d.layout = anycl::ConvLayout::Nhwc;
  if (c.d.relu && c.pass != anycl::ConvPass::Forward) bad(text, "relu", "applies to fwd only");
  if (c.bias && c.pass == anycl::ConvPass::BackwardData) bad(text, "bias", "applies to fwd and bwd_w only");
}

ConvProblem parse_conv(const std::string& text, const std::vector<std::string>& f) {
  if (f.size() < 3) bad(text, "conv", "expected conv:<fwd|bwd_d|bwd_w>:n<N>c<C>h<H>w<W>k<K>r<R>s<S>[:...]");
  ConvProblem c;
  c.pass = parse_pass(text, f[1]);
  const auto z = parse_sizes(text, f[2], "nchwkrs");
  anycl::Conv2d& d = c.d;
  d.n = z.at('n'), d.c = z.at('c'), d.h = z.at('h'), d.w = z.at('w'), d.k = z.at('k'), d.r = z.at('r'), d.s = z.at('s');
  const auto opt = optional_fields(text, f, 3, {"p", "s", "d", "g", "bias", "relu", "nhwc"});
  if (opt.count("p")) parse_padding(text, opt.at("p"), d);
  if (opt.count("s")) std::tie(d.stride_h, d.stride_w) = parse_pair(text, "s", opt.at("s"));
  if (opt.count("d")) std::tie(d.dilation_h, d.dilation_w) = parse_pair(text, "d", opt.at("d"));
  if (opt.count("g")) d.groups = to_uint(text, "g", opt.at("g"));
  parse_conv_flags(text, opt, c);
  try {
    d.validate();
  } catch (const anycl::Error& e) {
    throw DescriptorError("descriptor '" + text + "': " + e.what());
  }
  return c;
}

std::string number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

std::string pair_text(std::size_t h, std::size_t w) {
  return h == w ? std::to_string(h) : std::to_string(h) + "_" + std::to_string(w);
}

std::string format_gemm(const GemmProblem& g) {
  const anycl::GemmShape& s = g.shape;
  std::string t = std::string("gemm:") + (g.fp64 ? "d" : "s") + ":" + (s.layout == Layout::RowMajor ? "R" : "C") +
                  (s.trans_a == Transpose::Yes ? "T" : "N") + (s.trans_b == Transpose::Yes ? "T" : "N") + ":m" +
                  std::to_string(s.m) + "n" + std::to_string(s.n) + "k" + std::to_string(s.k);
  if (s.lda != min_ld(s, 'a')) t += ":lda" + std::to_string(s.lda);
  if (s.ldb != min_ld(s, 'b')) t += ":ldb" + std::to_string(s.ldb);
  if (s.ldc != min_ld(s, 'c')) t += ":ldc" + std::to_string(s.ldc);
  if (g.alpha != 1) t += ":alpha" + number(g.alpha);
  if (g.beta != 0) t += ":beta" + number(g.beta);
  if (s.batch != 1) t += ":batch" + std::to_string(s.batch);
  if (g.a_offset) t += ":ao" + std::to_string(g.a_offset);
  if (g.b_offset) t += ":bo" + std::to_string(g.b_offset);
  if (g.c_offset) t += ":co" + std::to_string(g.c_offset);
  return t;
}

std::string format_conv(const ConvProblem& c) {
  const anycl::Conv2d& d = c.d;
  const char* pass = c.pass == anycl::ConvPass::Forward ? "fwd" : c.pass == anycl::ConvPass::BackwardData ? "bwd_d" : "bwd_w";
  std::string t = std::string("conv:") + pass + ":n" + std::to_string(d.n) + "c" + std::to_string(d.c) + "h" +
                  std::to_string(d.h) + "w" + std::to_string(d.w) + "k" + std::to_string(d.k) + "r" + std::to_string(d.r) +
                  "s" + std::to_string(d.s);
  const bool even = d.pad_top == d.pad_bottom && d.pad_left == d.pad_right;
  t += ":p" + (even ? pair_text(d.pad_top, d.pad_left)
                    : std::to_string(d.pad_top) + "_" + std::to_string(d.pad_left) + "_" + std::to_string(d.pad_bottom) +
                          "_" + std::to_string(d.pad_right));
  t += ":s" + pair_text(d.stride_h, d.stride_w) + ":d" + pair_text(d.dilation_h, d.dilation_w) + ":g" +
       std::to_string(d.groups);
  if (c.bias) t += ":bias";
  if (d.relu) t += ":relu";
  if (d.layout == anycl::ConvLayout::Nhwc) t += ":nhwc";
  return t;
}

}  // namespace

std::size_t stored_rows(const anycl::GemmShape& s, char which) {
  if (which == 'a') return s.trans_a == Transpose::Yes ? s.k : s.m;
  if (which == 'b') return s.trans_b == Transpose::Yes ? s.n : s.k;
  return s.m;
}

std::size_t stored_cols(const anycl::GemmShape& s, char which) {
  if (which == 'a') return s.trans_a == Transpose::Yes ? s.m : s.k;
  if (which == 'b') return s.trans_b == Transpose::Yes ? s.k : s.n;
  return s.n;
}

std::size_t stored_index(const anycl::GemmShape& s, char which, std::size_t row, std::size_t col) {
  const std::size_t ld = which == 'a' ? s.lda : which == 'b' ? s.ldb : s.ldc;
  return s.layout == Layout::RowMajor ? row * ld + col : row + col * ld;
}

std::size_t gemm_span(const anycl::GemmShape& s, char which) {
  const std::size_t rows = stored_rows(s, which), cols = stored_cols(s, which);
  if (rows == 0 || cols == 0) return 0;
  const std::size_t stride = which == 'a' ? s.stride_a : which == 'b' ? s.stride_b : s.stride_c;
  return (s.batch - 1) * stride + stored_index(s, which, rows - 1, cols - 1) + 1;
}

Problem parse_descriptor(const std::string& text) {
  const std::vector<std::string> f = split(text, ':');
  Problem p;
  if (f.empty() || (f[0] != "gemm" && f[0] != "conv")) bad(text, "kind", "expected gemm or conv");
  p.is_gemm = f[0] == "gemm";
  if (p.is_gemm) p.gemm = parse_gemm(text, f);
  else p.conv = parse_conv(text, f);
  return p;
}

std::string format_descriptor(const Problem& p) { return p.is_gemm ? format_gemm(p.gemm) : format_conv(p.conv); }

}  // namespace anycl_bench
