// anycl-bench sweep: seeded random descriptors over the whole parameter space, each checked in
// correctness mode. The generator writes descriptor text and parses it back, so every case is
// exactly the problem its reproducer line describes; a shape the library rejects is redrawn.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <random>

#include "driver.hpp"

namespace anycl_bench {
namespace {

using Gen = std::mt19937_64;

std::size_t pick(Gen& g, std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(g); }
bool chance(Gen& g, double p) { return std::bernoulli_distribution(p)(g); }
template <std::size_t N>
const char* one_of(Gen& g, const char* const (&items)[N]) { return items[pick(g, 0, N - 1)]; }
std::string num(std::size_t v) { return std::to_string(v); }

// Mostly below one register tile, sometimes across several tiles and their edges.
std::size_t gemm_dim(Gen& g) { return chance(g, 0.15) ? pick(g, 40, 150) : pick(g, 1, 33); }

std::string ld_field(Gen& g, const anycl::GemmShape& s, char which) {
  if (!chance(g, 0.3)) return "";
  const std::size_t tight = s.layout == anycl::Layout::RowMajor ? stored_cols(s, which) : stored_rows(s, which);
  return std::string(":ld") + which + num(std::max<std::size_t>(tight, 1) + pick(g, 1, 5));
}

std::string random_gemm(Gen& g, bool fp64) {
  static const char* const kLayouts[] = {"RNN", "RNT", "RTN", "RTT", "CNN", "CNT", "CTN", "CTT"};
  static const char* const kAlphas[] = {"1", "-1", "2", "0.5"};
  static const char* const kBetas[] = {"0", "0", "1", "-1", "0.5"};  // beta 0 (C NaN-filled) twice as often
  anycl::GemmShape s;
  const std::string layout = one_of(g, kLayouts);
  s.layout = layout[0] == 'R' ? anycl::Layout::RowMajor : anycl::Layout::ColMajor;
  s.trans_a = layout[1] == 'T' ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.trans_b = layout[2] == 'T' ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.m = gemm_dim(g), s.n = gemm_dim(g), s.k = gemm_dim(g);
  std::string t = std::string("gemm:") + (fp64 && chance(g, 0.3) ? "d" : "s") + ":" + layout + ":m" + num(s.m) + "n" +
                  num(s.n) + "k" + num(s.k);
  t += ld_field(g, s, 'a') + ld_field(g, s, 'b') + ld_field(g, s, 'c');
  t += std::string(":alpha") + one_of(g, kAlphas) + ":beta" + one_of(g, kBetas);
  if (chance(g, 0.25)) t += ":batch" + num(pick(g, 2, 4));
  for (const char* off : {":ao", ":bo", ":co"})
    if (chance(g, 0.2)) t += off + num(pick(g, 1, 7));
  return t;
}

std::string pad_field(Gen& g) {
  if (!chance(g, 0.3)) return ":p" + num(pick(g, 0, 2));
  return ":p" + num(pick(g, 0, 2)) + "_" + num(pick(g, 0, 2)) + "_" + num(pick(g, 0, 2)) + "_" + num(pick(g, 0, 2));
}

std::string pair_field(Gen& g, const char* key, double p_not_one) {
  if (!chance(g, p_not_one)) return std::string(":") + key + "1";
  return std::string(":") + key + num(pick(g, 1, 2)) + "_" + num(pick(g, 1, 2));
}

// Shapes of a kind: plain, two groups, depthwise, pointwise (Gemm1x1's) and 3x3 stride 1 (Winograd's);
// plain and grouped forward and backward-weights sometimes force ImplicitGemm.
struct ConvDraw {
  std::string text, algo;
};

ConvDraw random_conv(Gen& g) {
  static const char* const kPasses[] = {"fwd", "bwd_d", "bwd_w"};
  static const char* const kFilters[] = {"1", "2", "3", "5"};
  const std::string pass = one_of(g, kPasses);
  const std::size_t kind = pick(g, 0, 4);
  std::size_t c = pick(g, 1, 8), k = pick(g, 1, 8), groups = 1;
  if (kind == 1) c = 2 * pick(g, 1, 4), k = 2 * pick(g, 1, 4), groups = 2;
  if (kind == 2) c = k = groups = pick(g, 1, 8);
  if (kind == 4 && chance(g, 0.3)) c = pick(g, 30, 36), k = pick(g, 30, 36);  // where Auto picks Winograd
  const std::string r = kind == 3 ? "1" : kind == 4 ? "3" : one_of(g, kFilters);
  const std::string s = kind == 3 ? "1" : kind == 4 ? "3" : one_of(g, kFilters);
  std::string t = "conv:" + pass + ":n" + num(pick(g, 1, 3)) + "c" + num(c) + "h" + num(pick(g, 1, 14)) + "w" +
                  num(pick(g, 1, 14)) + "k" + num(k) + "r" + r + "s" + s;
  const bool fixed = kind >= 3;  // pointwise and Winograd shapes keep stride and dilation 1
  t += kind == 3 ? ":p0" : kind == 4 ? ":p" + num(pick(g, 0, 1)) : pad_field(g);
  t += fixed ? ":s1:d1" : pair_field(g, "s", 0.4) + pair_field(g, "d", 0.25);
  t += ":g" + num(groups);
  if (pass != "bwd_d" && chance(g, 0.5)) t += ":bias";
  if (pass == "fwd" && chance(g, 0.5)) t += ":relu";
  if (chance(g, 0.3)) t += ":nhwc";
  const char* algo = chance(g, 0.4) ? "auto" : chance(g, 0.5) ? "im2col" : "direct";
  if (kind == 3 && chance(g, 0.6)) algo = "gemm1x1";
  if (kind == 4 && chance(g, 0.6)) algo = "winograd";
  // ImplicitGemm (forward and backward-weights) for half of Direct's plain and grouped draws, by
  // c + k, with no draw of its own: every other case stays what the seed gave before.
  if (kind <= 1 && pass != "bwd_d" && algo == std::string("direct") && (c + k) % 2 == 0) algo = "implicit_gemm";
  return {t, algo};
}

struct SweepCase {
  std::string text, algo;
  Problem problem;
};

SweepCase random_case(Gen& g, bool fp64) {
  for (;;) {
    ConvDraw draw{"", "auto"};
    if (chance(g, 0.45)) draw.text = random_gemm(g, fp64), draw.algo = chance(g, 0.05) ? "clblast" : "auto";
    else draw = random_conv(g);
    try {
      return {draw.text, draw.algo, parse_descriptor(draw.text)};
    } catch (const DescriptorError&) {
      // Drawn sizes the library rejects (an output extent below 1): draw again.
    }
  }
}

bool all_fp64(const anycl::Runtime& rt) {
  bool fp64 = true;
  for (std::size_t i = 0; i < rt.device_count(); ++i) fp64 = fp64 && rt.device(i).fp64;
  return fp64;
}

int usage(const std::string& why) {
  std::cerr << "anycl-bench sweep: " << why << "\n"
            << "usage: anycl-bench sweep [--seed S] [--cases N] [--device SPEC]\n"
            << "  --seed S   the generator's seed (default: the current time); printed first\n"
            << "  --cases N  random problems to check (default 300)\n";
  return 2;
}

}  // namespace

int sweep_main(int argc, char** argv) {
  DriverOptions o;
  unsigned long long seed = static_cast<unsigned long long>(std::time(nullptr));
  long cases = 300;
  for (int i = 2; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--seed") && has_value) {
      const std::string text = argv[++i];
      if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
        return usage("--seed wants an unsigned integer, got '" + text + "'");
      seed = std::stoull(text);
    }
    else if (!std::strcmp(argv[i], "--cases") && has_value) cases = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--device") && has_value) o.device = argv[++i];
    else return usage(std::string("unknown or incomplete argument ") + argv[i]);
  }
  if (cases < 1) return usage("--cases wants a positive integer");
  std::printf("anycl-bench sweep: seed %llu, %ld cases\n", seed, cases);
  std::fflush(stdout);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    anycl::Runtime rt(o.device);
    Gen gen(seed);
    const bool fp64 = all_fp64(rt);
    long counts[3] = {0, 0, 0};  // indexed by Verdict
    for (long i = 0; i < cases; ++i) {
      const SweepCase c = random_case(gen, fp64);
      ++counts[static_cast<int>(check_problem(rt, c.text, c.problem, o, c.algo, true))];
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("sweep: seed %llu, %ld cases on %s: %ld passed, %ld failed, %ld skipped (forced algorithm does not apply), %.1f s\n",
                seed, cases, rt.device(0).name.c_str(), counts[0], counts[1], counts[2], s);
    return counts[1] ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "anycl-bench sweep: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace anycl_bench
