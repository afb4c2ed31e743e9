// Threads and runtimes (README, "Threads"): GEMM and convolution issued from 8 threads on one
// runtime, several runtimes in one process (same device, two POCL devices, cpu/2 sub-devices),
// and a runtime created and destroyed in a loop without growth in memory or file handles.
//
// The reference for the concurrent runs is the same job run single-threaded on the same runtime
// and device: same kernels, same parameters, same device, so the results must be equal bit for
// bit. The single-threaded results themselves are checked once against CBLAS and the plain
// convolution loops (as in test_gemm / test_conv), so the baseline is not garbage.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "gemm_reference.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl_test::ConvDesc;
using Bytes = std::vector<unsigned char>;

template <typename T>
Bytes bytes_of(const std::vector<T>& v) {
  Bytes out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

anycl::Buffer upload(anycl::Runtime& rt, std::size_t device, const void* data, std::size_t bytes) {
  anycl::Buffer b = rt.alloc(bytes, device);
  rt.write(b, data, bytes);
  return b;
}

// ---- GEMM jobs ----------------------------------------------------------------------------

struct GemmCase {
  anycl::GemmShape shape;
  bool f64 = false;
};

anycl::GemmShape gemm_shape(std::size_t m, std::size_t n, std::size_t k, bool trans_b) {
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k;
  s.trans_b = trans_b ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.lda = k, s.ldb = trans_b ? k : n, s.ldc = n;
  return s;
}

template <typename T>
struct GemmData {
  std::vector<T> a, b, c0;
  explicit GemmData(const anycl::GemmShape& s)
      : a(anycl_test::random_values<T>(s.m * s.lda, 11)),
        b(anycl_test::random_values<T>((s.trans_b == anycl::Transpose::Yes ? s.n : s.k) * s.ldb, 12)),
        c0(anycl_test::random_values<T>(s.m * s.ldc, 13)) {}
};

constexpr double kAlpha = 0.75, kBeta = -0.5;

// Host pointers on device 0 (zero-copy views), device buffers elsewhere: both paths are shared
// state a thread could trip over.
template <typename T>
Bytes run_gemm(anycl::Runtime& rt, std::size_t device, const anycl::GemmShape& s) {
  const GemmData<T> in(s);
  std::vector<T> c = in.c0;
  if (device == 0) {
    anycl::gemm<T>(rt, s, T(kAlpha), in.a.data(), in.b.data(), T(kBeta), c.data());
    return bytes_of(c);
  }
  const anycl::Buffer A = upload(rt, device, in.a.data(), in.a.size() * sizeof(T));
  const anycl::Buffer B = upload(rt, device, in.b.data(), in.b.size() * sizeof(T));
  const anycl::Buffer C = upload(rt, device, c.data(), c.size() * sizeof(T));
  anycl::gemm<T>(rt, s, T(kAlpha), A, 0, B, 0, T(kBeta), C, 0).wait();
  rt.read(C, c.data(), c.size() * sizeof(T));
  return bytes_of(c);
}

template <typename T>
std::size_t gemm_errors(const anycl::GemmShape& s, const Bytes& got_bytes) {
  const GemmData<T> in(s);
  const auto ref = anycl_test::gemm_oracle<T>(s, T(kAlpha), in.a.data(), in.b.data(), T(kBeta), in.c0.data());
  std::vector<T> got(ref.c.size());
  std::memcpy(got.data(), got_bytes.data(), got_bytes.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) bad += !(std::fabs(double(got[i]) - ref.c[i]) <= ref.bound[i]);
  return bad;
}

// ---- convolution jobs ---------------------------------------------------------------------

enum class Pass { Forward, BackwardData, BackwardWeights };

struct ConvData {
  std::vector<float> x, w, bias, dy;
  explicit ConvData(const ConvDesc& r)
      : x(anycl_test::random_values(r.x_size(), 21)), w(anycl_test::random_values(r.w_size(), 22)),
        bias(anycl_test::random_values(std::size_t(r.k), 23)), dy(anycl_test::random_values(r.y_size(), 24)) {}
};

// Forward (with bias), backward-data, or backward-weights (dw then dbias, concatenated).
Bytes run_conv(anycl::Runtime& rt, std::size_t device, const ConvDesc& r, ConvAlgo algo, Pass pass) {
  const ConvData in(r);
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  std::vector<float> out(pass == Pass::Forward ? r.y_size() : pass == Pass::BackwardData ? r.x_size() : r.w_size());
  std::vector<float> db(pass == Pass::BackwardWeights ? std::size_t(r.k) : 0);
  if (device == 0) {
    if (pass == Pass::Forward) anycl::conv2d_forward(rt, d, in.x.data(), in.w.data(), in.bias.data(), out.data(), algo);
    if (pass == Pass::BackwardData) anycl::conv2d_backward_data(rt, d, in.dy.data(), in.w.data(), out.data(), algo);
    if (pass == Pass::BackwardWeights)
      anycl::conv2d_backward_weights(rt, d, in.x.data(), in.dy.data(), out.data(), db.data(), algo);
  } else {
    auto up = [&](const std::vector<float>& v) { return upload(rt, device, v.data(), v.size() * sizeof(float)); };
    const anycl::Buffer X = up(in.x), W = up(in.w), BIAS = up(in.bias), DY = up(in.dy);
    const anycl::Buffer OUT = rt.alloc(out.size() * sizeof(float), device), DB = rt.alloc(r.k * sizeof(float), device);
    if (pass == Pass::Forward) anycl::conv2d_forward(rt, d, X, W, &BIAS, OUT, algo).wait();
    if (pass == Pass::BackwardData) anycl::conv2d_backward_data(rt, d, DY, W, OUT, algo).wait();
    if (pass == Pass::BackwardWeights) anycl::conv2d_backward_weights(rt, d, X, DY, OUT, &DB, algo).wait();
    rt.read(OUT, out.data(), out.size() * sizeof(float));
    if (pass == Pass::BackwardWeights) rt.read(DB, db.data(), db.size() * sizeof(float));
  }
  out.insert(out.end(), db.begin(), db.end());
  return bytes_of(out);
}

// Against the reference with the bound of tests/conv_sweep.hpp for `algo` (Winograd's as `rt` builds it).
std::size_t conv_errors(const anycl::Runtime& rt, const ConvDesc& r, ConvAlgo algo, Pass pass, const Bytes& got_bytes) {
  const ConvData in(r);
  using anycl_test::abs_of;
  std::vector<float> got(got_bytes.size() / sizeof(float)), ref, ref_abs;
  std::memcpy(got.data(), got_bytes.data(), got_bytes.size());
  double reduction = 0;
  if (pass == Pass::Forward) {
    ref = anycl_test::conv_forward(r, in.x, in.w, in.bias, false);
    ref_abs = anycl_test::conv_forward(r, abs_of(in.x), abs_of(in.w), abs_of(in.bias), false);
    reduction = double(r.c / r.groups) * r.r * r.s;
  } else if (pass == Pass::BackwardData) {
    ref = anycl_test::conv_backward_data(r, in.dy, in.w);
    ref_abs = anycl_test::conv_backward_data(r, abs_of(in.dy), abs_of(in.w));
    reduction = double(r.k / r.groups) * r.r * r.s;
  } else {
    std::vector<float> rb, ab;
    anycl_test::conv_backward_weights(r, in.x, in.dy, ref, rb);
    anycl_test::conv_backward_weights(r, abs_of(in.x), abs_of(in.dy), ref_abs, ab);
    ref.insert(ref.end(), rb.begin(), rb.end());
    ref_abs.insert(ref_abs.end(), ab.begin(), ab.end());
    reduction = double(r.n) * r.out_h() * r.out_w();
  }
  const anycl::ConvPass cp = pass == Pass::Forward        ? anycl::ConvPass::Forward
                             : pass == Pass::BackwardData ? anycl::ConvPass::BackwardData
                                                          : anycl::ConvPass::BackwardWeights;
  const double factor = algo == ConvAlgo::Winograd ? anycl_test::winograd_factor(rt, cp) : 2;
  return anycl_test::count_bad(got, ref, ref_abs, reduction, factor);
}

// ---- the job list -------------------------------------------------------------------------

struct Job {
  std::string name;
  std::function<Bytes(anycl::Runtime&, std::size_t device)> run;
  std::function<std::size_t(const anycl::Runtime&, const Bytes&)> errors;  // against the independent reference
};

std::vector<Job> jobs() {
  std::vector<Job> out;
  auto gemm_job = [&](const char* name, anycl::GemmShape s, bool f64) {
    if (f64)
      out.push_back({name, [s](anycl::Runtime& rt, std::size_t d) { return run_gemm<double>(rt, d, s); },
                     [s](const anycl::Runtime&, const Bytes& b) { return gemm_errors<double>(s, b); }});
    else
      out.push_back({name, [s](anycl::Runtime& rt, std::size_t d) { return run_gemm<float>(rt, d, s); },
                     [s](const anycl::Runtime&, const Bytes& b) { return gemm_errors<float>(s, b); }});
  };
  gemm_job("gemm f32 direct 33x29x17", gemm_shape(33, 29, 17, false), false);
  gemm_job("gemm f32 packed 80x72x64 NT", gemm_shape(80, 72, 64, true), false);  // past DIRECT_TINY^3
  gemm_job("gemm f64 packed 72x40x100 NT", gemm_shape(72, 40, 100, true), true);
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc conv3{2, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const ConvDesc grouped{2, 8, 11, 9, 8, 3, 3, 2, 1, 1, 0, 1, 1, 1, 1, 2};
  auto conv_job = [&](const char* name, ConvDesc r, ConvAlgo algo, Pass pass) {
    out.push_back({name, [=](anycl::Runtime& rt, std::size_t d) { return run_conv(rt, d, r, algo, pass); },
                   [=](const anycl::Runtime& rt, const Bytes& b) { return conv_errors(rt, r, algo, pass, b); }});
  };
  conv_job("conv fwd im2col", conv3, ConvAlgo::Im2col, Pass::Forward);
  conv_job("conv fwd winograd", conv3, ConvAlgo::Winograd, Pass::Forward);
  conv_job("conv fwd direct grouped", grouped, ConvAlgo::Direct, Pass::Forward);
  conv_job("conv bwd-data im2col grouped", grouped, ConvAlgo::Im2col, Pass::BackwardData);
  conv_job("conv bwd-weights im2col", conv3, ConvAlgo::Im2col, Pass::BackwardWeights);
  conv_job("conv bwd-weights direct grouped", grouped, ConvAlgo::Direct, Pass::BackwardWeights);
  return out;
}

// One runtime device a set of threads works on.
struct Target {
  anycl::Runtime* rt;
  std::size_t device;
};

// Every job once, single-threaded, on each target: the bitwise baseline.
std::vector<std::vector<Bytes>> baseline(const std::vector<Job>& js, const std::vector<Target>& targets) {
  std::vector<std::vector<Bytes>> out;
  for (const Target& t : targets) {
    out.emplace_back();
    for (const Job& j : js) out.back().push_back(j.run(*t.rt, t.device));
  }
  return out;
}

// `threads` threads, thread i on targets[i % targets.size()], each running every job `rounds`
// times in its own rotated order. Returns how many results differ from the baseline (bitwise),
// and how many calls threw (with the first message in *first_error).
std::size_t run_concurrently(const std::vector<Job>& js, const std::vector<Target>& targets,
                             const std::vector<std::vector<Bytes>>& expected, unsigned threads, unsigned rounds,
                             std::string* first_error) {
  std::atomic<std::size_t> mismatches{0};
  std::mutex mu;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      const std::size_t ti = t % targets.size();
      for (unsigned round = 0; round < rounds; ++round)
        for (std::size_t i = 0; i < js.size(); ++i) {
          const std::size_t j = (i + t + round) % js.size();
          try {
            if (js[j].run(*targets[ti].rt, targets[ti].device) != expected[ti][j]) ++mismatches;
          } catch (const std::exception& e) {
            ++mismatches;
            std::lock_guard<std::mutex> lock(mu);
            if (first_error->empty()) *first_error = js[j].name + ": " + e.what();
          }
        }
    });
  for (auto& th : pool) th.join();
  return mismatches;
}

void check_concurrent(const std::vector<Target>& targets, unsigned threads, unsigned rounds) {
  const std::vector<Job> js = jobs();
  const auto expected = baseline(js, targets);
  std::string first_error;
  const std::size_t mismatches = run_concurrently(js, targets, expected, threads, rounds, &first_error);
  INFO(first_error);
  CHECK(mismatches == 0);
}

// ---- process resources --------------------------------------------------------------------

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * std::size_t(::sysconf(_SC_PAGESIZE));
}

std::size_t open_fds() { return anycl_test::list_dir("/proc/self/fd").size(); }

}  // namespace

TEST_CASE("threads: the single-threaded baseline matches CBLAS and the convolution loops") {
  anycl::Runtime rt;
  for (const Job& j : jobs()) {
    INFO(j.name);
    CHECK(j.errors(rt, j.run(rt, 0)) == 0);
  }
}

TEST_CASE("threads: 8 threads issuing GEMM and convolution on one runtime match the single-threaded run bitwise") {
  anycl::Runtime rt;
  check_concurrent({{&rt, 0}}, 8, 2);
}

TEST_CASE("threads: two runtimes on the same device, 4 threads each, match their single-threaded runs bitwise") {
  anycl::Runtime a, b;
  check_concurrent({{&a, 0}, {&b, 0}}, 8, 1);
}

TEST_CASE("threads: cpu/2 sub-devices and a whole-device runtime side by side, bitwise") {
  anycl::Runtime parts("cpu/2"), whole("cpu");
  REQUIRE(parts.device_count() == 2);
  check_concurrent({{&parts, 0}, {&parts, 1}, {&whole, 0}}, 6, 1);
}

TEST_CASE("threads: runtimes on two POCL devices and one runtime over both, bitwise", "[.two-pocl]") {
  anycl::Runtime first("0:0"), second("0:1"), both("all");
  REQUIRE(both.device_count() == 2);
  CHECK(first.device(0).id != second.device(0).id);
  check_concurrent({{&first, 0}, {&second, 0}, {&both, 0}, {&both, 1}}, 8, 1);
}

// Bounds, after a warm-up that fills POCL's and the allocator's one-time state (resident memory
// still climbs by several MiB over the first ten cycles on some machines, then levels off): the
// open file descriptors must come back to exactly the same count, and resident memory may grow by
// at most 24 MiB over the next 30 cycles. A leaked runtime costs about 30 MiB of programs, queues
// and buffers, so leaking one a cycle would grow it by hundreds of MiB, and any leak above 0.8 MiB
// a cycle breaks the bound. Under AddressSanitizer freed memory sits in ASan's quarantine, so RSS
// says nothing there: LeakSanitizer's exit check (scripts/sanitize.sh) replaces the RSS bound.
TEST_CASE("threads: a runtime created and destroyed in a loop leaks no memory and no file handles") {
  const auto cycle = [] {
    anycl::Runtime rt;
    (void)rt.device(0);
    for (const Job& j : jobs()) (void)j.run(rt, 0);
  };
  for (int i = 0; i < 10; ++i) cycle();
  const std::size_t fds = open_fds(), rss = resident_bytes();
  const int cycles = 30;
  for (int i = 0; i < cycles; ++i) cycle();
  const std::size_t fds_after = open_fds(), rss_after = resident_bytes();
  INFO("open fds " << fds << " -> " << fds_after << ", RSS " << rss / 1024 << " KiB -> " << rss_after / 1024
                   << " KiB over " << cycles << " cycles");
  CHECK(fds_after == fds);
#if defined(__SANITIZE_ADDRESS__)
  WARN("AddressSanitizer build: the RSS bound is replaced by LeakSanitizer's exit check");
#else
  CHECK(rss_after <= rss + (std::size_t(24) << 20));
#endif
}

// Settings changed while other threads call (docs/threads.md): each call reads the runtime's
// settings once (the planner), so every result matches its independent reference whatever the
// setters do, and under ThreadSanitizer (scripts/sanitize.sh) a setter racing a call's read is a
// reported data race. Two devices (cpu/2), so the split mode and the weights change the plans;
// Auto algorithms with find flipping, so the find step races too; references with Winograd's
// tolerance, since a call may run any algorithm and either provider.
TEST_CASE("threads: setters racing GEMM and convolution calls on two devices: every result matches its reference") {
  anycl::Runtime rt("cpu/2");
  REQUIRE(rt.device_count() == 2);
  const bool clblast = anycl_test::status_of([&] { anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast); }) ==
                       ANYCL_SUCCESS;
  std::vector<Job> js;
  for (const Job& j : jobs())
    if (j.name.rfind("gemm", 0) == 0) js.push_back(j);
  // n c h w k r s sh sw pt pl pb pr dh dw g
  const ConvDesc conv3{4, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (Pass pass : {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights})
    js.push_back({"conv auto pass " + std::to_string(int(pass)),
                  [=](anycl::Runtime& r, std::size_t d) { return run_conv(r, d, conv3, ConvAlgo::Auto, pass); },
                  [=](const anycl::Runtime& r, const Bytes& b) {
                    return conv_errors(r, conv3, ConvAlgo::Winograd, pass, b);
                  }});
  std::atomic<bool> done{false};
  std::atomic<std::size_t> bad{0}, setter_errors{0};
  std::mutex mu;
  std::string first_error;  // Catch's macros are not for other threads
  const auto setter = [&](auto&& step) {
    return std::thread([&, step] {
      for (unsigned i = 0; !done; ++i) {
        try {
          step(i);
        } catch (const std::exception&) {
          ++setter_errors;
        }
      }
    });
  };
  std::thread modes = setter([&](unsigned i) {
    const anycl::Parallel all[] = {anycl::Parallel::Auto, anycl::Parallel::Data, anycl::Parallel::Model,
                                   anycl::Parallel::Hybrid};
    anycl::set_parallel(rt, all[i % 4]);
    anycl::set_gemm_provider(rt, clblast && i % 3 == 1 ? anycl::GemmProvider::CLBlast : anycl::GemmProvider::Anycl);
    (void)anycl::parallel(rt), (void)anycl::gemm_provider(rt);
  });
  std::thread knobs = setter([&](unsigned i) {
    const std::size_t limits[] = {std::size_t(256) << 20, std::size_t(1) << 20, std::size_t(64) << 10};
    const std::vector<double> weights[] = {{1, 1}, {0.001, 0.003}, {2, 0}, {0, 1}};
    anycl::set_conv_workspace_limit(rt, limits[i % 3]);
    anycl::set_conv_find(rt, i % 2 == 0);
    anycl::set_device_weights(rt, weights[i % 4]);
    (void)anycl::device_weights(rt);
  });
  std::vector<std::thread> callers;
  for (unsigned t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (unsigned round = 0; round < 2; ++round)
        for (std::size_t i = 0; i < js.size(); ++i) {
          const Job& j = js[(i + t + round) % js.size()];
          try {
            bad += j.errors(rt, j.run(rt, 0));
          } catch (const std::exception& e) {
            ++bad;
            std::lock_guard<std::mutex> lock(mu);
            if (first_error.empty()) first_error = j.name + ": " + e.what();
          }
        }
    });
  for (auto& th : callers) th.join();
  done = true;
  modes.join(), knobs.join();
  INFO(first_error);
  CHECK(bad == 0);
  CHECK(setter_errors == 0);
}
