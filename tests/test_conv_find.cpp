// The convolution find step: it times exactly the applicable algorithms, answers later calls
// (same runtime, or a new runtime on the same cache folder) without timing, ignores damaged cache
// entries with a warning, and Auto with find on gives the reference results.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"

namespace {

using anycl::ConvAlgo;
using anycl::ConvPass;
using anycl_test::ConvDesc;
using anycl_test::TempDir;

// n c h w k r s sh sw pt pl pb pr dh dw g: small, so timing all candidates stays cheap.
const ConvDesc kPointwise{2, 16, 7, 7, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
const ConvDesc k3x3{2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};

anycl::RuntimeOptions in_cache(const TempDir& dir) {
  anycl::RuntimeOptions o;
  o.cache_dir = dir.path();
  return o;
}

std::set<ConvAlgo> timed_algos(const anycl::ConvFindResult& r) {
  std::set<ConvAlgo> out;
  for (const auto& t : r.times) out.insert(t.algo);
  return out;
}

std::vector<std::string> find_entries(const TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& e : anycl_test::fs::directory_iterator(dir.path()))
    if (e.path().filename().string().rfind("conv-find-", 0) == 0) out.push_back(e.path().string());
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("conv2d_find times exactly the applicable algorithms and returns the fastest", "[conv][find]") {
  TempDir dir("anycl-find");
  anycl::Runtime rt(in_cache(dir));
  const anycl::Conv2d pw = anycl_test::to_anycl(kPointwise, false), c3 = anycl_test::to_anycl(k3x3, true);
  struct Case {
    anycl::Conv2d d;
    ConvPass pass;
    std::set<ConvAlgo> expected;
  };
  const std::vector<Case> cases = {
      {pw, ConvPass::Forward, {ConvAlgo::Im2col, ConvAlgo::Gemm1x1, ConvAlgo::Direct, ConvAlgo::ImplicitGemm}},
      {c3, ConvPass::Forward, {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Winograd, ConvAlgo::ImplicitGemm}},
      {c3, ConvPass::BackwardData, {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Winograd}},
      {c3, ConvPass::BackwardWeights, {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Winograd, ConvAlgo::ImplicitGemm}},
  };
  for (const Case& c : cases) {
    INFO("pass " << int(c.pass) << " r " << c.d.r);
    const anycl::ConvFindResult r = anycl::conv2d_find(rt, c.d, c.pass);
    CHECK(r.timed);
    CHECK(timed_algos(r) == c.expected);
    REQUIRE(!r.times.empty());
    CHECK(r.algo == r.times.front().algo);
    for (std::size_t i = 1; i < r.times.size(); ++i) CHECK(r.times[i - 1].ms <= r.times[i].ms);
    for (const auto& t : r.times) CHECK(t.ms > 0);
  }
  CHECK(find_entries(dir).size() == cases.size());  // one entry per (shape, pass)
  CHECK_THROWS_AS(anycl::conv2d_find(rt, pw, ConvPass::Forward, 99), anycl::Error);
}

TEST_CASE("conv2d_find answers again from memory and from the cache folder without timing", "[conv][find]") {
  TempDir dir("anycl-find");
  const anycl::Conv2d d = anycl_test::to_anycl(kPointwise, false);
  anycl::ConvFindResult first;
  {
    anycl::Runtime rt(in_cache(dir));
    first = anycl::conv2d_find(rt, d, ConvPass::Forward);
    REQUIRE(first.timed);
    const anycl::ConvFindResult again = anycl::conv2d_find(rt, d, ConvPass::Forward);
    CHECK_FALSE(again.timed);
    CHECK(again.algo == first.algo);
  }
  anycl::Runtime rt2(in_cache(dir));
  const anycl::ConvFindResult cached = anycl::conv2d_find(rt2, d, ConvPass::Forward);
  CHECK_FALSE(cached.timed);
  CHECK(cached.algo == first.algo);
  REQUIRE(cached.times.size() == first.times.size());
  for (std::size_t i = 0; i < first.times.size(); ++i) {
    CHECK(cached.times[i].algo == first.times[i].algo);
    CHECK(cached.times[i].ms == Approx(first.times[i].ms).epsilon(1e-4));
  }
  // Another pass or another shape is another key.
  CHECK(anycl::conv2d_find(rt2, d, ConvPass::BackwardData).timed);
  anycl::Conv2d d2 = d;
  d2.n = 3;
  CHECK(anycl::conv2d_find(rt2, d2, ConvPass::Forward).timed);

  // With the cache off, nothing is read or written.
  anycl::RuntimeOptions off = in_cache(dir);
  off.cache = false;
  anycl::Runtime rt3(off);
  const std::size_t entries = find_entries(dir).size();
  CHECK(anycl::conv2d_find(rt3, d, ConvPass::Forward).timed);
  d2.n = 4;
  CHECK(anycl::conv2d_find(rt3, d2, ConvPass::Forward).timed);
  CHECK(find_entries(dir).size() == entries);
}

TEST_CASE("damaged find cache entries are ignored with a warning and replaced", "[conv][find]") {
  TempDir dir("anycl-find");
  const anycl::Conv2d d = anycl_test::to_anycl(k3x3, false);
  {
    anycl::Runtime rt(in_cache(dir));
    REQUIRE(anycl::conv2d_find(rt, d, ConvPass::Forward).timed);
  }
  const std::vector<std::string> entries = find_entries(dir);
  REQUIRE(entries.size() == 1);
  const std::string good = anycl_test::slurp(entries[0]);
  std::string edited = good;
  edited[edited.find("time ") + 5] ^= 0x20;  // one flipped bit in an algorithm name
  std::string bad_winner = good;
  bad_winner.replace(bad_winner.find("winner "), 7, "winnr  ");
  const std::vector<std::pair<const char*, std::string>> damages = {
      {"truncated", good.substr(0, good.size() / 2)},
      {"empty", ""},
      {"garbage", std::string("\x7f" "ELF\0\0\xff garbage\ncheck 0\n", 23)},
      {"one bit flipped", edited},
      {"winner line damaged", bad_winner},
      {"no trailing newline", good.substr(0, good.size() - 1)},
  };
  anycl_test::ScopedEnv log("ANYCL_LOG", std::string("warn"));
  for (const auto& [what, bytes] : damages) {
    INFO(what);
    write_bytes(entries[0], bytes);
    anycl::Runtime rt(in_cache(dir));
    anycl_test::StderrCapture err;
    const anycl::ConvFindResult r = anycl::conv2d_find(rt, d, ConvPass::Forward);
    const std::string text = err.text();
    CHECK(r.timed);
    CHECK(text.find("conv find: ignoring " + entries[0]) != std::string::npos);
    // The entry was rewritten whole: a new runtime reads it without timing.
    anycl::Runtime rt2(in_cache(dir));
    CHECK_FALSE(anycl::conv2d_find(rt2, d, ConvPass::Forward).timed);
  }
}

TEST_CASE("Auto with find on runs the find winner and matches the reference", "[conv][find]") {
  TempDir dir("anycl-find");
  anycl::Runtime rt(in_cache(dir));
  anycl::set_conv_find(rt, true);
  for (const ConvDesc& r : {kPointwise, k3x3}) {
    INFO(anycl_test::describe(r));
    const anycl::Conv2d d = anycl_test::to_anycl(r, true);
    const auto x = anycl_test::random_values(r.x_size(), 7), w = anycl_test::random_values(r.w_size(), 8);
    const auto bias = anycl_test::random_values(std::size_t(r.k), 9), dy = anycl_test::random_values(r.y_size(), 10);
    const auto x0 = x, w0 = w;
    std::vector<float> y(r.y_size(), std::nanf("")), dx(r.x_size(), std::nanf("")), dw(r.w_size(), std::nanf(""));
    anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), y.data());
    const double fwd_len = double(r.c) * r.r * r.s;
    CHECK(anycl_test::count_bad(y, anycl_test::conv_forward(r, x, w, bias, true),
                                anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w),
                                                         anycl_test::abs_of(bias), false),
                                fwd_len, 16) == 0);
    anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx.data());
    CHECK(anycl_test::count_bad(dx, anycl_test::conv_backward_data(r, dy, w),
                                anycl_test::conv_backward_data(r, anycl_test::abs_of(dy), anycl_test::abs_of(w)),
                                double(r.k) * r.r * r.s, 16) == 0);
    anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), nullptr);
    std::vector<float> ref_w, ref_b, abs_w, abs_b;
    anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
    anycl_test::conv_backward_weights(r, anycl_test::abs_of(x), anycl_test::abs_of(dy), abs_w, abs_b);
    CHECK(anycl_test::count_bad(dw, ref_w, abs_w, double(r.n) * r.out_h() * r.out_w(), 2) == 0);
    CHECK(x == x0);  // the timing ran on scratch tensors
    CHECK(w == w0);
    // Auto ran find for each pass: the answers are now in memory.
    for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
      CHECK_FALSE(anycl::conv2d_find(rt, d, pass).timed);
  }
  SECTION("ANYCL_CONV_FIND=1 turns it on for a new runtime") {
    anycl_test::ScopedEnv on("ANYCL_CONV_FIND", std::string("1"));
    anycl::Runtime rt2(in_cache(dir));
    anycl::Conv2d d = anycl_test::to_anycl(k3x3, false);
    d.n = 1;
    std::vector<float> x(d.x_size(), 1), w(d.w_size(), 1), y(d.y_size());
    anycl::conv2d_forward(rt2, d, x.data(), w.data(), nullptr, y.data());
    CHECK_FALSE(anycl::conv2d_find(rt2, d, ConvPass::Forward).timed);
    CHECK(y[40] == Approx(d.c * 9.0));  // image 0, channel 0, (4, 4): an interior output sums c*3*3 ones
  }
}

TEST_CASE("C API: anycl_conv2d_find and anycl_runtime_set_conv_find", "[conv][find][capi]") {
  TempDir dir("anycl-find");
  anycl_test::ScopedEnv cache("ANYCL_CACHE_DIR", dir.path());
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  const anycl_conv2d_desc d = {2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ANYCL_CONV_NCHW};
  anycl_conv_algo algo = ANYCL_CONV_AUTO;
  double ms[ANYCL_CONV_ALGO_COUNT] = {};
  int timed = -1;
  REQUIRE(anycl_conv2d_find(rt, &d, ANYCL_CONV_BACKWARD_WEIGHTS, 0, &algo, ms, &timed) == ANYCL_SUCCESS);
  CHECK(timed == 1);
  CHECK((algo == ANYCL_CONV_IM2COL || algo == ANYCL_CONV_DIRECT || algo == ANYCL_CONV_WINOGRAD ||
         algo == ANYCL_CONV_IMPLICIT_GEMM));
  CHECK(ms[ANYCL_CONV_IM2COL - 1] > 0);
  CHECK(ms[ANYCL_CONV_DIRECT - 1] > 0);
  CHECK(ms[ANYCL_CONV_GEMM1X1 - 1] < 0);   // 3x3: not applicable
  CHECK(ms[ANYCL_CONV_WINOGRAD - 1] > 0);  // 3x3 stride 1: Winograd backward-weights applies
  CHECK(ms[ANYCL_CONV_IMPLICIT_GEMM - 1] > 0);  // forward and backward-weights
  REQUIRE(anycl_conv2d_find(rt, &d, ANYCL_CONV_BACKWARD_WEIGHTS, 0, &algo, nullptr, &timed) == ANYCL_SUCCESS);
  CHECK(timed == 0);

  anycl_conv_algo untouched = ANYCL_CONV_DIRECT;
  CHECK(anycl_conv2d_find(rt, &d, anycl_conv_pass(7), 0, &untouched, nullptr, nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(anycl_last_error()).find("pass") != std::string::npos);
  CHECK(anycl_conv2d_find(rt, &d, ANYCL_CONV_FORWARD, 5, &untouched, nullptr, nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_conv2d_find(rt, nullptr, ANYCL_CONV_FORWARD, 0, &untouched, nullptr, nullptr) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_conv2d_find(rt, &d, ANYCL_CONV_FORWARD, 0, nullptr, nullptr, nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(untouched == ANYCL_CONV_DIRECT);
  CHECK(anycl_runtime_set_conv_find(nullptr, 1) == ANYCL_ERROR_INVALID_ARGUMENT);

  REQUIRE(anycl_runtime_set_conv_find(rt, 1) == ANYCL_SUCCESS);
  std::vector<float> x(2 * 8 * 81, 1), w(8 * 8 * 9, 1), y(2 * 8 * 81);
  REQUIRE(anycl_conv2d_forward(rt, &d, x.data(), w.data(), nullptr, y.data()) == ANYCL_SUCCESS);
  CHECK(y[40] == Approx(8 * 9.0));  // interior output of image 0, channel 0
  REQUIRE(anycl_conv2d_find(rt, &d, ANYCL_CONV_FORWARD, 0, &algo, nullptr, &timed) == ANYCL_SUCCESS);
  CHECK(timed == 0);  // the forward call above ran find
  anycl_runtime_destroy(rt);
}

// The find result is kept under one device's key, so the timing must run on that device alone:
// on cpu/2 a layer worth splitting, found for sub-device 1, launches nothing on sub-device 0.
TEST_CASE("find: times on the named device only where a call would be split") {
  const TempDir cache;
  anycl::RuntimeOptions o = in_cache(cache);
  o.device_spec = "cpu/2";
  anycl::Runtime rt(o);
  REQUIRE(rt.device_count() == 2);
  anycl::set_device_weights(rt, {1.0, 1.0});  // as GFLOP/s: every call here is worth splitting
  anycl::Conv2d d;
  d.n = 4, d.c = 32, d.h = d.w = 16, d.k = 32, d.r = d.s = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  anycl::set_kernel_profiling(rt, true);
  const anycl::ConvFindResult r = anycl::conv2d_find(rt, d, anycl::ConvPass::Forward, 1);
  CHECK(r.timed);
  const std::vector<anycl::KernelTime> launches = anycl::kernel_profile(rt);
  REQUIRE_FALSE(launches.empty());
  for (const anycl::KernelTime& k : launches) {
    INFO(k.kernel);
    CHECK(k.device == 1);
  }
}
