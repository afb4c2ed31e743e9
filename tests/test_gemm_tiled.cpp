// The GPU-class GEMM family (cl_kernels/gemm_tiled.cl), forced onto the POCL CPU device with
// ANYCL_GEMM_FAMILY=tiled: selection by capability, the public GEMM API through it, and every
// configuration of its search space (cl_kernels/params/gemm_tiled.space.json) against a plain
// double loop. Each configuration runs one of the cases below in turn, each case chosen to leave
// partial tiles in m, n and k.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "anycl/anycl.hpp"
#include "runtime/gemm_family.hpp"
#include "runtime/search_space.hpp"
#include "sched/engine.hpp"
#include "gemm_loop_check.hpp"
#include "support.hpp"

namespace {

using anycl::GemmShape;
using anycl::Layout;
using anycl::Transpose;

// Sets an environment variable for one scope.
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~ScopedEnv() { unsetenv(name); }
};

struct Case {
  GemmShape shape;
  std::size_t a_off, b_off, c_off;
  double alpha, beta;
};

GemmShape shape_of(Layout layout, Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k,
                   std::size_t pad, std::size_t batch = 1) {
  GemmShape s;
  s.layout = layout, s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k, s.batch = batch;
  const bool row = layout == Layout::RowMajor;
  const bool a_rows_m = (ta == Transpose::No) == row, b_rows_k = (tb == Transpose::No) == row;
  s.lda = (a_rows_m ? k : m) + pad, s.ldb = (b_rows_k ? n : k) + pad, s.ldc = (row ? n : m) + pad;
  const std::size_t a_lines = a_rows_m ? m : k, b_lines = b_rows_k ? k : n, c_lines = row ? m : n;
  s.stride_a = a_lines * s.lda + 3, s.stride_b = b_lines * s.ldb + 1, s.stride_c = c_lines * s.ldc + 2;
  return s;
}

// Partial tiles everywhere, both layouts, all transposes, offsets, padded ld, a batch, beta 0
// (C holds NaN and must not be read), alpha 0 (A and B hold values but must not count).
std::vector<Case> cases() {
  const Layout R = Layout::RowMajor, C = Layout::ColMajor;
  const Transpose N = Transpose::No, T = Transpose::Yes;
  return {{shape_of(R, N, N, 37, 45, 29, 3), 5, 7, 3, 1.5, 0.5},
          {shape_of(R, T, N, 33, 70, 41, 0), 0, 1, 0, -1.0, 0.0},
          {shape_of(R, N, T, 65, 17, 66, 1), 2, 0, 1, 0.75, -2.0},
          {shape_of(C, T, T, 20, 31, 9, 2, 2), 1, 1, 1, 1.0, 1.0},
          {shape_of(C, N, N, 1, 3, 1, 0), 0, 0, 0, 2.0, 0.0},
          {shape_of(R, T, T, 70, 5, 130, 0, 3), 0, 0, 4, 1.0, 0.25},
          {shape_of(R, N, N, 9, 66, 17, 0), 0, 0, 0, 0.0, 3.0}};
}

std::size_t extent(bool row, std::size_t rows, std::size_t cols, std::size_t ld) {
  return row ? (rows - 1) * ld + cols : (cols - 1) * ld + rows;
}

struct Operands {
  std::size_t na, nb, nc;  // elements one buffer holds from its offset, whole batch
};

Operands operands(const GemmShape& s) {
  const bool row = s.layout == Layout::RowMajor;
  const bool ta = s.trans_a == Transpose::Yes, tb = s.trans_b == Transpose::Yes;
  const std::size_t more = s.batch - 1;
  return {more * s.stride_a + extent(row, ta ? s.k : s.m, ta ? s.m : s.k, s.lda),
          more * s.stride_b + extent(row, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb),
          more * s.stride_c + extent(row, s.m, s.n, s.ldc)};
}

// Runs one case through anycl::gemm on device buffers; returns the wrong elements (message in *first).
template <typename T>
std::size_t run_case(anycl::Runtime& rt, const Case& c, unsigned seed, std::string* first) {
  const Operands n = operands(c.shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<T> dist(-1, 1);
  std::vector<T> a(n.na), b(n.nb), c0(n.nc);
  for (auto* v : {&a, &b, &c0})
    for (T& x : *v) x = dist(gen);
  // beta == 0: C's old values are NaN, which a kernel that reads them would spread.
  if (c.beta == 0)
    for (T& x : c0) x = std::numeric_limits<T>::quiet_NaN();
  anycl::Buffer ab = anycl_test::upload(rt, a, c.a_off), bb = anycl_test::upload(rt, b, c.b_off),
                cb = anycl_test::upload(rt, c0, c.c_off);
  anycl::gemm<T>(rt, c.shape, T(c.alpha), ab, c.a_off, bb, c.b_off, T(c.beta), cb, c.c_off).wait();
  std::vector<T> got(n.nc);
  rt.read(cb, got.data(), got.size() * sizeof(T), c.c_off * sizeof(T));
  return anycl_test::count_wrong_loop(c.shape, c.alpha, c.beta, a, b, c0, got, first);
}

anycl::Runtime tiled_runtime() {
  const ScopedEnv forced("ANYCL_GEMM_FAMILY", "tiled");
  return anycl::Runtime("pocl");
}

std::string describe(const anycl::detail::ParamSet& p) {
  std::string s;
  for (const auto& [k, v] : p) s += k + "=" + std::to_string(v) + " ";
  return s;
}

// Replaces the runtime's program of `variant` by one built with `config`.
void install(anycl::Runtime& rt, const std::string& variant, const anycl::detail::ParamSet& config) {
  anycl::detail::Engine& e = anycl::detail::engine(rt);
  anycl::detail::rebuild_program(e.devices.build_context(), e.slot(0), variant, config);
}

anycl::DeviceInfo device_of(const char* type, bool dedicated) {
  anycl::DeviceInfo d;
  d.id = "9:9", d.name = "test device", d.type = type, d.local_mem_dedicated = dedicated;
  return d;
}

}  // namespace

TEST_CASE("gemm family by capability: tiled on GPUs and accelerators with dedicated local memory") {
  using anycl::detail::GemmFamily;
  using anycl::detail::gemm_family;
  CHECK(gemm_family(device_of("gpu", true)) == GemmFamily::Tiled);
  CHECK(gemm_family(device_of("accelerator", true)) == GemmFamily::Tiled);
  CHECK(gemm_family(device_of("gpu", false)) == GemmFamily::Cpu);
  CHECK(gemm_family(device_of("cpu", true)) == GemmFamily::Cpu);
  {
    const ScopedEnv forced("ANYCL_GEMM_FAMILY", "tiled");
    CHECK(gemm_family(device_of("cpu", false)) == GemmFamily::Tiled);
  }
  {
    const ScopedEnv forced("ANYCL_GEMM_FAMILY", "cpu");
    CHECK(gemm_family(device_of("gpu", true)) == GemmFamily::Cpu);
  }
  const ScopedEnv wrong("ANYCL_GEMM_FAMILY", "fastest");
  std::string message;
  CHECK(anycl_test::status_of([] { (void)gemm_family(device_of("gpu", true)); }, &message) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(message.find("ANYCL_GEMM_FAMILY='fastest'") != std::string::npos);
  CHECK(message.find("test device") != std::string::npos);
}

TEST_CASE("ANYCL_GEMM_FAMILY=tiled builds gemm_tiled on the CPU device and only then") {
  anycl::Runtime forced = tiled_runtime();
  CHECK(anycl::detail::engine(forced).slot(0).has_program("gemm_tiled_f32"));
  anycl::Runtime plain("pocl");
  CHECK_FALSE(anycl::detail::engine(plain).slot(0).has_program("gemm_tiled_f32"));
}

TEST_CASE("gemm_tiled defaults: every case through the public GEMM API in float and double") {
  anycl::Runtime rt = tiled_runtime();
  const std::vector<Case> all = cases();
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string first;
    INFO("case " << i);
    CHECK(run_case<float>(rt, all[i], unsigned(i), &first) == 0);
    INFO(first);
    if (rt.device(0).fp64) CHECK(run_case<double>(rt, all[i], unsigned(i + 100), &first) == 0);
  }
}

TEST_CASE("gemm_tiled search space: the file's constraints hold for every configuration it yields") {
  anycl::Runtime rt("pocl");
  const auto space = anycl::detail::load_search_space(rt.kernel_dir(), "gemm_tiled");
  const auto configs = space.configurations(rt.device(0), sizeof(float));
  REQUIRE(configs.size() > 100);  // 176 where the largest tiles (16 KiB in fp32) fit
  for (const auto& p : configs) {
    INFO(describe(p));
    REQUIRE(p.at("MWG") % (p.at("MDIMC") * p.at("VWM")) == 0);
    REQUIRE(p.at("NWG") % (p.at("NDIMC") * p.at("VWN")) == 0);
    REQUIRE(p.at("KWG") % p.at("KWI") == 0);
  }
  anycl::DeviceInfo small = rt.device(0);
  small.local_mem = 4096;  // the largest tiles no longer fit
  CHECK(space.configurations(small, sizeof(float)).size() < configs.size());
}

// Every configuration of the declared space in float; every 8th also in double: about 200
// builds, which dominate the test's time on POCL (about 2 CPU-minutes).
TEST_CASE("gemm_tiled: every configuration of the search space computes correct results") {
  anycl::Runtime rt = tiled_runtime();
  const auto space = anycl::detail::load_search_space(rt.kernel_dir(), "gemm_tiled");
  const auto configs = space.configurations(rt.device(0), sizeof(float));
  const std::vector<Case> all = cases();
  std::size_t failed = 0;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    install(rt, "gemm_tiled_f32", configs[i]);
    std::string first;
    const std::size_t c = i % all.size();
    const std::size_t wrong = run_case<float>(rt, all[c], unsigned(i), &first);
    if (wrong && failed++ < 5)
      FAIL_CHECK("f32 " << describe(configs[i]) << "case " << c << ": " << wrong << " wrong, first " << first);
    if (i % 8 || !rt.device(0).fp64) continue;
    install(rt, "gemm_tiled_f64", configs[i]);
    const std::size_t wrong64 = run_case<double>(rt, all[i / 8 % all.size()], unsigned(i), &first);
    if (wrong64 && failed++ < 5)
      FAIL_CHECK("f64 " << describe(configs[i]) << ": " << wrong64 << " wrong, first " << first);
  }
  INFO(configs.size() << " configurations");
  CHECK(failed == 0);
}

TEST_CASE("a search space file that names an unknown tunable or a bad constraint is refused") {
  const std::string dir = "/tmp/anycl_space_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir + "/params");
  auto write = [&](const std::string& text) { std::ofstream(dir + "/params/bad.space.json") << text; };
  write(R"({"values": {"A": [1, 2]}, "constraints": [{"multiple": ["A"], "of": ["B"]}]})");
  std::string message;
  CHECK(anycl_test::status_of([&] { anycl::detail::load_search_space(dir, "bad"); }, &message) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(message.find("B, which has no values") != std::string::npos);
  write(R"({"values": {"A": [1, 2]}, "constraints": [{"between": ["A"]}]})");
  CHECK(anycl_test::status_of([&] { anycl::detail::load_search_space(dir, "bad"); }, &message) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(message.find("none of equal") != std::string::npos);
  std::filesystem::remove_all(dir);
}
