// gemm_tiled (the GPU-class GEMM family) on the Oclgrind simulator: the default configuration
// and a sample of its search space, each over every transpose pair and both layouts with partial
// tiles, a batch and beta 0. ctest runs it under `oclgrind --data-races --uninitialized` (entry
// test_gemm_tiled_oclgrind_oclgrind), which fails on any Oclgrind report (out-of-bounds access,
// data race, uninitialised memory, barrier divergence); results are also checked against a plain
// double loop. Hidden ([.oclgrind]): it needs the Oclgrind device (tests/oclgrind/oclgrind_runtime.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "anycl/anycl.hpp"
#include "oclgrind/oclgrind_runtime.hpp"
#include "sched/engine.hpp"
#include "gemm_loop_check.hpp"
#include "support.hpp"

namespace {

using anycl::GemmShape;
using anycl::Layout;
using anycl::Transpose;
using anycl::detail::ParamSet;

anycl::Runtime& runtime() { return anycl_test::oclgrind_runtime(anycl_test::OclgrindGemm::Tiled); }

GemmShape shape_of(Layout layout, Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k,
                   std::size_t batch) {
  GemmShape s;
  s.layout = layout, s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k, s.batch = batch;
  const bool row = layout == Layout::RowMajor;
  const bool a_rows_m = (ta == Transpose::No) == row, b_rows_k = (tb == Transpose::No) == row;
  s.lda = (a_rows_m ? k : m) + 1, s.ldb = (b_rows_k ? n : k) + 1, s.ldc = (row ? n : m) + 1;
  s.stride_a = (a_rows_m ? m : k) * s.lda, s.stride_b = (b_rows_k ? k : n) * s.ldb, s.stride_c = (row ? m : n) * s.ldc;
  return s;
}

std::size_t span(std::size_t batch, std::size_t stride, std::size_t lines, std::size_t ld) {
  return (batch - 1) * stride + lines * ld;
}

// C = alpha op(A) op(B) + beta C through the public API, then every logical element against the
// plain loop within 2 (k + 2) eps (|alpha| |A||B| + |beta| |C0|). beta 0: C starts as NaN.
template <typename T>
std::size_t wrong_elements(const GemmShape& s, T alpha, T beta, unsigned seed) {
  const bool row = s.layout == Layout::RowMajor;
  const bool ta = s.trans_a == Transpose::Yes, tb = s.trans_b == Transpose::Yes;
  const bool a_rows_m = !ta == row, b_rows_k = !tb == row;
  auto a = anycl_test::random_values<T>(span(s.batch, s.stride_a, a_rows_m ? s.m : s.k, s.lda), seed);
  auto b = anycl_test::random_values<T>(span(s.batch, s.stride_b, b_rows_k ? s.k : s.n, s.ldb), seed + 1);
  auto c = anycl_test::random_values<T>(span(s.batch, s.stride_c, row ? s.m : s.n, s.ldc), seed + 2);
  if (beta == T(0)) c.assign(c.size(), std::numeric_limits<T>::quiet_NaN());
  const std::vector<T> c0 = c;
  anycl::gemm<T>(runtime(), s, alpha, a.data(), b.data(), beta, c.data());
  std::string first;
  const std::size_t wrong = anycl_test::count_wrong_loop(s, double(alpha), double(beta), a, b, c0, c, &first);
  if (wrong) UNSCOPED_INFO(wrong << " wrong, first " << first);
  return wrong;
}

// Every transpose pair, both layouts, partial tiles in m, n and k, batch 2, beta 0 and not.
template <typename T>
void check_all_shapes(unsigned seed) {
  for (Layout layout : {Layout::RowMajor, Layout::ColMajor})
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        const GemmShape s = shape_of(layout, ta, tb, 9, 13, 19, layout == Layout::RowMajor ? 1 : 2);
        INFO("layout " << int(layout) << " trans " << int(ta) << int(tb));
        CHECK(wrong_elements<T>(s, T(1.5), T(0), seed++) == 0);
        CHECK(wrong_elements<T>(s, T(-1), T(0.5), seed++) == 0);
      }
}

ParamSet sample(const ParamSet& want) { return anycl_test::space_sample(runtime(), "gemm_tiled", want); }
void install(const std::string& variant, const ParamSet& config) { anycl_test::install(runtime(), variant, config); }

}  // namespace

TEST_CASE("oclgrind: gemm_tiled default configuration f32 and f64", "[.oclgrind]") {
  REQUIRE(anycl::detail::engine(runtime()).slot(0).has_program("gemm_tiled_f32"));
  check_all_shapes<float>(1);
  if (runtime().device(0).fp64) check_all_shapes<double>(100);
}

TEST_CASE("oclgrind: gemm_tiled sample: global reads (SA SB 0) strided register tile (STRM STRN 1)",
          "[.oclgrind]") {
  install("gemm_tiled_f32", sample({{"SA", 0}, {"STRM", 1}, {"VWM", 2}, {"MWG", 32}}));
  check_all_shapes<float>(200);
}

TEST_CASE("oclgrind: gemm_tiled sample: 4-wide M vectors; 16x16 work-groups", "[.oclgrind]") {
  install("gemm_tiled_f32", sample({{"SA", 1}, {"VWM", 4}, {"VWN", 2}, {"MDIMC", 16}, {"MWG", 64}}));
  check_all_shapes<float>(300);
}

TEST_CASE("oclgrind: gemm_tiled sample: scalar M side; 64x32 tiles; strided; f64 too", "[.oclgrind]") {
  const ParamSet p = sample({{"VWM", 1}, {"MWG", 64}, {"NWG", 32}, {"STRM", 1}, {"SA", 1}});
  install("gemm_tiled_f32", p);
  check_all_shapes<float>(400);
  if (!runtime().device(0).fp64) return;
  install("gemm_tiled_f64", p);
  check_all_shapes<double>(500);
}
