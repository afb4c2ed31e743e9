// GEMM against OpenBLAS in double: both layouts, every transpose pair, alpha/beta including 0, 1
// and negatives, awkward sizes, padded leading dimensions, buffer offsets, batches, double.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "gemm_reference.hpp"
#include "support.hpp"

namespace {

using anycl::GemmShape;
using anycl::Layout;
using anycl::Transpose;
using anycl_test::random_values;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// Leading dimensions padded past their minimum, so row strides are exercised.
GemmShape make_shape(Layout layout, Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k) {
  GemmShape s;
  s.layout = layout, s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k;
  const bool row = layout == Layout::RowMajor;
  const std::size_t a_line = row ? (ta == Transpose::Yes ? m : k) : (ta == Transpose::Yes ? k : m);
  const std::size_t b_line = row ? (tb == Transpose::Yes ? k : n) : (tb == Transpose::Yes ? n : k);
  s.lda = std::max<std::size_t>(1, a_line) + 3;
  s.ldb = std::max<std::size_t>(1, b_line) + 1;
  s.ldc = std::max<std::size_t>(1, row ? n : m) + 2;
  return s;
}

std::size_t extent(const GemmShape& s, char which) {
  const bool row = s.layout == Layout::RowMajor;
  const bool ta = s.trans_a == Transpose::Yes, tb = s.trans_b == Transpose::Yes;
  if (which == 'a') return anycl_test::stored_elems(row, ta ? s.k : s.m, ta ? s.m : s.k, s.lda);
  if (which == 'b') return anycl_test::stored_elems(row, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb);
  return anycl_test::stored_elems(row, s.m, s.n, s.ldc);
}

std::size_t c_index(const GemmShape& s, std::size_t i, std::size_t j) {
  return s.layout == Layout::RowMajor ? i * s.ldc + j : j * s.ldc + i;
}

// Checks every logical element against the oracle's bound; elements outside the m x n view must
// be untouched. Returns the number of bad elements (reported through INFO).
template <typename T>
std::size_t count_bad(const GemmShape& s, const std::vector<T>& got, const std::vector<T>& before,
                      const anycl_test::GemmOracle& o) {
  std::size_t bad = 0;
  std::vector<char> logical(got.size(), 0);
  for (std::size_t i = 0; i < s.m; ++i)
    for (std::size_t j = 0; j < s.n; ++j) {
      const std::size_t x = c_index(s, i, j);
      logical[x] = 1;
      if (!(std::fabs(double(got[x]) - o.c[x]) <= o.bound[x])) {
        if (bad++ < 3) UNSCOPED_INFO("C(" << i << "," << j << ") = " << got[x] << ", expected " << o.c[x] << " +- " << o.bound[x]);
      }
    }
  for (std::size_t x = 0; x < got.size(); ++x)
    if (!logical[x] && !(std::isnan(before[x]) ? std::isnan(got[x]) : got[x] == before[x])) ++bad;
  return bad;
}

// One call through device buffers with non-zero offsets; beta = 0 puts NaN in C to prove it is
// not read.
template <typename T>
std::size_t run_case(const GemmShape& s, T alpha, T beta, unsigned seed) {
  auto& rt = runtime();
  const std::size_t off_a = 5, off_b = 3, off_c = 7;
  const auto a = random_values<T>(extent(s, 'a'), seed), b = random_values<T>(extent(s, 'b'), seed + 1);
  auto c = random_values<T>(extent(s, 'c'), seed + 2);
  if (beta == T(0)) std::fill(c.begin(), c.end(), std::numeric_limits<T>::quiet_NaN());
  const auto oracle = anycl_test::gemm_oracle<T>(s, alpha, a.data(), b.data(), beta, c.data());
  auto upload = [&](const std::vector<T>& v, std::size_t off) {
    anycl::Buffer buf = rt.alloc((v.size() + off + 1) * sizeof(T));
    if (!v.empty()) rt.write(buf, v.data(), v.size() * sizeof(T), off * sizeof(T));
    return buf;
  };
  anycl::Buffer A = upload(a, off_a), B = upload(b, off_b), C = upload(c, off_c);
  anycl::gemm<T>(rt, s, alpha, A, off_a, B, off_b, beta, C, off_c).wait();
  std::vector<T> got(c.size());
  if (!got.empty()) rt.read(C, got.data(), got.size() * sizeof(T), off_c * sizeof(T));
  return count_bad(s, got, c, oracle);
}

const std::size_t kSizes[] = {1, 2, 3, 7, 16, 17, 31, 64, 100, 127, 128, 129, 255, 256, 1000};
const std::pair<float, float> kScalars[] = {{1, 0}, {1, 1}, {-1.5f, 0.5f}, {0.5f, -1}, {0, 2}, {2, 0}};

}  // namespace

TEST_CASE("sgemm matches CBLAS over layouts, transposes, scalars and sizes", "[gemm]") {
  const Layout layout = GENERATE(Layout::RowMajor, Layout::ColMajor);
  const Transpose ta = GENERATE(Transpose::No, Transpose::Yes);
  const Transpose tb = GENERATE(Transpose::No, Transpose::Yes);
  // 15 (m, n, k) triples per combination: every size appears once in each position, mixed.
  for (std::size_t i = 0; i < 15; ++i) {
    const std::size_t m = kSizes[i], n = kSizes[(i * 7 + 3) % 15], k = kSizes[(i * 11 + 5) % 15];
    const auto [alpha, beta] = kScalars[i % 6];
    const GemmShape s = make_shape(layout, ta, tb, m, n, k);
    INFO("layout " << int(layout) << " trans " << int(ta) << "/" << int(tb) << " m " << m << " n " << n << " k " << k
                   << " alpha " << alpha << " beta " << beta);
    CHECK(run_case<float>(s, alpha, beta, unsigned(i * 31 + 1)) == 0);
  }
}

TEST_CASE("sgemm shapes that pick the packed kernels match CBLAS", "[gemm]") {
  const Transpose ta = GENERATE(Transpose::No, Transpose::Yes);
  const Transpose tb = GENERATE(Transpose::No, Transpose::Yes);
  for (auto [m, n, k] : {std::array<std::size_t, 3>{257, 300, 255}, {513, 129, 400}, {200, 1000, 333}}) {
    INFO("m " << m << " n " << n << " k " << k);
    CHECK(run_case<float>(make_shape(Layout::RowMajor, ta, tb, m, n, k), 0.75f, -0.25f, unsigned(m + n + k)) == 0);
  }
}

// Long reductions, k past 2048, with row panels past MR = 12 not filling the last work-group.
TEST_CASE("sgemm with a long reduction matches CBLAS", "[gemm]") {
  const Transpose ta = GENERATE(Transpose::No, Transpose::Yes);
  for (auto [m, n, k] : {std::array<std::size_t, 3>{100, 150, 2500}, {203, 130, 3072}}) {
    INFO("m " << m << " n " << n << " k " << k);
    CHECK(run_case<float>(make_shape(Layout::RowMajor, ta, Transpose::No, m, n, k), 1.5f, 0.5f, unsigned(m + k)) == 0);
  }
}

TEST_CASE("dgemm matches CBLAS", "[gemm][double]") {
  if (!runtime().device(0).fp64) {
    // Not a silent skip: the device has no fp64, so the API must say UNSUPPORTED.
    GemmShape s = make_shape(Layout::RowMajor, Transpose::No, Transpose::No, 4, 4, 4);
    std::vector<double> a(64, 1), b(64, 1), c(64, 0);
    CHECK(anycl_test::status_of([&] { anycl::gemm<double>(runtime(), s, 1.0, a.data(), b.data(), 0.0, c.data()); }) ==
          ANYCL_ERROR_UNSUPPORTED);
    return;
  }
  const Layout layout = GENERATE(Layout::RowMajor, Layout::ColMajor);
  const Transpose ta = GENERATE(Transpose::No, Transpose::Yes);
  const Transpose tb = GENERATE(Transpose::No, Transpose::Yes);
  for (std::size_t i = 0; i < 15; i += 2) {
    const std::size_t m = kSizes[i], n = kSizes[(i * 7 + 3) % 15], k = kSizes[(i * 11 + 5) % 15];
    INFO("m " << m << " n " << n << " k " << k);
    CHECK(run_case<double>(make_shape(layout, ta, tb, m, n, k), -0.5, i % 2 ? 0.0 : 1.25, unsigned(i + 7)) == 0);
  }
  CHECK(run_case<double>(make_shape(layout, ta, tb, 300, 280, 260), 1.0, 0.0, 99u) == 0);
}

TEST_CASE("strided-batched sgemm matches CBLAS per item, including a shared A", "[gemm][batch]") {
  const Layout layout = GENERATE(Layout::RowMajor, Layout::ColMajor);
  const bool share_a = GENERATE(false, true);
  for (auto [m, n, k] : {std::array<std::size_t, 3>{17, 31, 7}, {128, 129, 100}, {300, 64, 256}}) {
    GemmShape s = make_shape(layout, Transpose::No, Transpose::Yes, m, n, k);
    const std::size_t batch = 5, ea = extent(s, 'a'), eb = extent(s, 'b'), ec = extent(s, 'c');
    s.batch = batch, s.stride_a = share_a ? 0 : ea + 4, s.stride_b = eb + 2, s.stride_c = ec + 1;
    const auto a = random_values<float>(share_a ? ea : s.stride_a * batch, 1), b = random_values<float>(s.stride_b * batch, 2);
    auto c = random_values<float>(s.stride_c * batch, 3);
    const auto before = c;
    anycl::gemm<float>(runtime(), s, 1.25f, a.data(), b.data(), -1.0f, c.data());
    GemmShape one = s;
    one.batch = 1;
    for (std::size_t i = 0; i < batch; ++i) {
      INFO("m " << m << " n " << n << " k " << k << " item " << i << (share_a ? " shared A" : ""));
      const auto o = anycl_test::gemm_oracle<float>(one, 1.25f, a.data() + i * s.stride_a, b.data() + i * s.stride_b,
                                                    -1.0f, before.data() + i * s.stride_c);
      std::vector<float> got(c.begin() + i * s.stride_c, c.begin() + i * s.stride_c + ec);
      std::vector<float> was(before.begin() + i * s.stride_c, before.begin() + i * s.stride_c + ec);
      CHECK(count_bad(one, got, was, o) == 0);
    }
  }
}

TEST_CASE("pointer-array batched sgemm and dgemm through the C API match CBLAS", "[gemm][batch][capi]") {
  const std::size_t m = 33, n = 65, k = 129, batch = 4;
  GemmShape s = make_shape(Layout::ColMajor, Transpose::Yes, Transpose::No, m, n, k);
  std::vector<std::vector<float>> a, b, c, before;
  for (unsigned i = 0; i < batch; ++i) {
    a.push_back(random_values<float>(extent(s, 'a'), 10 + i));
    b.push_back(random_values<float>(extent(s, 'b'), 20 + i));
    c.push_back(random_values<float>(extent(s, 'c'), 30 + i));
  }
  before = c;
  std::vector<const float*> pa, pb;
  std::vector<float*> pc;
  for (unsigned i = 0; i < batch; ++i) pa.push_back(a[i].data()), pb.push_back(b[i].data()), pc.push_back(c[i].data());
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  CHECK(anycl_sgemm_batched(rt, ANYCL_COL_MAJOR, ANYCL_TRANS, ANYCL_NO_TRANS, m, n, k, 0.5f, pa.data(), s.lda,
                            pb.data(), s.ldb, 2.0f, pc.data(), s.ldc, batch) == ANYCL_SUCCESS);
  for (unsigned i = 0; i < batch; ++i) {
    const auto o = anycl_test::gemm_oracle<float>(s, 0.5f, a[i].data(), b[i].data(), 2.0f, before[i].data());
    CHECK(count_bad(s, c[i], before[i], o) == 0);
  }
  if (anycl_runtime_device_count(rt) > 0) {
    std::vector<double> da(extent(s, 'a'), 0.5), db(extent(s, 'b'), -2.0), dc(extent(s, 'c'), 1.0);
    const auto dbefore = dc;
    const double* pda = da.data();
    const double* pdb = db.data();
    double* pdc = dc.data();
    const anycl_status st = anycl_dgemm_batched(rt, ANYCL_COL_MAJOR, ANYCL_TRANS, ANYCL_NO_TRANS, m, n, k, 1.0, &pda,
                                                s.lda, &pdb, s.ldb, 0.0, &pdc, s.ldc, 1);
    if (st == ANYCL_SUCCESS) {
      const auto o = anycl_test::gemm_oracle<double>(s, 1.0, da.data(), db.data(), 0.0, dbefore.data());
      CHECK(count_bad(s, dc, dbefore, o) == 0);
    } else {
      CHECK(st == ANYCL_ERROR_UNSUPPORTED);  // only acceptable on a device without fp64
      CHECK_FALSE(runtime().device(0).fp64);
    }
  }
  anycl_runtime_destroy(rt);
}

TEST_CASE("sgemm C API with CBLAS semantics, and zero sizes are no-ops", "[gemm][capi]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  const GemmShape s = make_shape(Layout::RowMajor, Transpose::Yes, Transpose::Yes, 45, 38, 91);
  const auto a = random_values<float>(extent(s, 'a'), 1), b = random_values<float>(extent(s, 'b'), 2);
  auto c = random_values<float>(extent(s, 'c'), 3);
  const auto before = c;
  REQUIRE(anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_TRANS, ANYCL_TRANS, 45, 38, 91, -1.0f, a.data(), s.lda, b.data(),
                      s.ldb, 0.5f, c.data(), s.ldc) == ANYCL_SUCCESS);
  CHECK(count_bad(s, c, before, anycl_test::gemm_oracle<float>(s, -1.0f, a.data(), b.data(), 0.5f, before.data())) == 0);

  SECTION("k = 0 scales C by beta without reading A or B") {
    auto c2 = before;
    REQUIRE(anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 45, 38, 0, 1.0f, nullptr, 1, nullptr, 38,
                        -2.0f, c2.data(), s.ldc) == ANYCL_SUCCESS);
    for (std::size_t i = 0; i < 45; ++i)
      for (std::size_t j = 0; j < 38; ++j) CHECK(c2[i * s.ldc + j] == -2.0f * before[i * s.ldc + j]);
  }
  SECTION("m = 0 or n = 0 touches nothing, even with NULL pointers") {
    CHECK(anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 0, 5, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f,
                      nullptr, 5) == ANYCL_SUCCESS);
    CHECK(anycl_sgemm(rt, ANYCL_COL_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 5, 0, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f,
                      nullptr, 5) == ANYCL_SUCCESS);
  }
  anycl_runtime_destroy(rt);
}

// A huge batch count must be rejected before the pointer arrays (2 entries here) are indexed.
TEST_CASE("pointer-array batched GEMM rejects a batch count of 2^31 or more before reading the arrays",
          "[gemm][batch][capi][errors]") {
  const std::size_t d = 4;
  std::vector<std::vector<float>> fa(2, std::vector<float>(d * d, 1.0f)), fc(2, std::vector<float>(d * d, 7.0f));
  std::vector<std::vector<double>> da(2, std::vector<double>(d * d, 1.0)), dc(2, std::vector<double>(d * d, 7.0));
  const float* pfa[] = {fa[0].data(), fa[1].data()};
  float* pfc[] = {fc[0].data(), fc[1].data()};
  const double* pda[] = {da[0].data(), da[1].data()};
  double* pdc[] = {dc[0].data(), dc[1].data()};
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  for (const std::size_t batch : {(std::size_t(1) << 32) + 2, SIZE_MAX}) {
    INFO("batch = " << batch);
    CHECK(anycl_sgemm_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, d, d, d, 1.0f, pfa, d, pfa, d, 0.0f,
                              pfc, d, batch) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(anycl_last_error()).find("batch must be below 2^31") != std::string::npos);
    CHECK(anycl_dgemm_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, d, d, d, 1.0, pda, d, pda, d, 0.0,
                              pdc, d, batch) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(anycl_last_error()).find("batch must be below 2^31") != std::string::npos);
  }
  for (int i = 0; i < 2; ++i) {
    CHECK(fc[i] == std::vector<float>(d * d, 7.0f));
    CHECK(dc[i] == std::vector<double>(d * d, 7.0));
  }
  anycl_runtime_destroy(rt);
}

TEST_CASE("bad GEMM arguments are INVALID_ARGUMENT naming the argument, and C is untouched", "[gemm][errors]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create(nullptr, &rt) == ANYCL_SUCCESS);
  std::vector<float> a(100, 1), b(100, 1), c(100, 7);
  auto call = [&](int layout, int ta, int tb, std::size_t m, std::size_t n, std::size_t k, std::size_t lda,
                  std::size_t ldb, std::size_t ldc, const float* pa, const float* pb, float* pc) {
    return anycl_sgemm(rt, anycl_layout(layout), anycl_transpose(ta), anycl_transpose(tb), m, n, k, 1.0f, pa, lda, pb,
                       ldb, 0.0f, pc, ldc);
  };
  struct Case {
    const char* what;
    anycl_status status;
  };
  const std::vector<std::pair<Case, anycl_status>> results = {
      {{"layout 7", ANYCL_ERROR_INVALID_ARGUMENT}, call(7, 111, 111, 4, 4, 4, 4, 4, 4, a.data(), b.data(), c.data())},
      {{"trans_a 3", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 3, 111, 4, 4, 4, 4, 4, 4, a.data(), b.data(), c.data())},
      {{"trans_b 0", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 0, 4, 4, 4, 4, 4, 4, a.data(), b.data(), c.data())},
      {{"lda too small", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 111, 4, 4, 4, 3, 4, 4, a.data(), b.data(), c.data())},
      {{"ldb too small", ANYCL_ERROR_INVALID_ARGUMENT}, call(102, 111, 111, 4, 4, 5, 4, 4, 4, a.data(), b.data(), c.data())},
      {{"ldc too small", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 111, 4, 5, 4, 4, 5, 4, a.data(), b.data(), c.data())},
      {{"null a", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 111, 4, 4, 4, 4, 4, 4, nullptr, b.data(), c.data())},
      {{"null c", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 111, 4, 4, 4, 4, 4, 4, a.data(), b.data(), nullptr)},
      {{"huge m", ANYCL_ERROR_INVALID_ARGUMENT}, call(101, 111, 111, std::size_t(1) << 40, 4, 4, 4, 4, 4, a.data(), b.data(), c.data())},
      {{"extent beyond memory", ANYCL_ERROR_OUT_OF_MEMORY},
       call(101, 111, 111, 0x7fffffff, 4, 4, 0x7fffffff, 4, 0x7fffffff, a.data(), b.data(), c.data())},
      {{"batch extent overflows", ANYCL_ERROR_INVALID_ARGUMENT},
       anycl_sgemm_strided_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.0f, a.data(), 4, 4,
                                   b.data(), 4, 4, 0.0f, c.data(), 4, SIZE_MAX / 2, 3)},
  };
  for (const auto& [expect, got] : results) {
    INFO(expect.what);
    CHECK(got == expect.status);
  }
  // Each status above came with a message; spot-check that one names its cause.
  CHECK(anycl_sgemm_strided_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.0f, a.data(), 4, 4,
                                    b.data(), 4, 4, 0.0f, c.data(), 4, SIZE_MAX / 2, 3) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(anycl_last_error()).find("overflow") != std::string::npos);
  // The message of the last failing call names its argument.
  CHECK(call(101, 111, 111, 4, 4, 4, 3, 4, 4, a.data(), b.data(), c.data()) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(anycl_last_error()).find("lda") != std::string::npos);
  for (float v : c) CHECK(v == 7.0f);
  CHECK(anycl_sgemm(nullptr, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 1, 1, 1, 1, a.data(), 1, b.data(), 1, 0,
                    c.data(), 1) == ANYCL_ERROR_INVALID_ARGUMENT);
  anycl_runtime_destroy(rt);
}

TEST_CASE("device-buffer GEMM refuses buffers that are too small", "[gemm][errors]") {
  auto& rt = runtime();
  GemmShape s = make_shape(Layout::RowMajor, Transpose::No, Transpose::No, 16, 16, 16);
  anycl::Buffer small = rt.alloc(16 * sizeof(float)), big = rt.alloc(4096 * sizeof(float));
  try {
    anycl::gemm<float>(rt, s, 1.f, small, 0, big, 0, 0.f, big, 0);
    FAIL("no error for a too-small A buffer");
  } catch (const anycl::Error& e) {
    CHECK(e.status() == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(e.what()).find("buffer a") != std::string::npos);
  }
}

TEST_CASE("the CLBlast provider computes the same GEMM", "[gemm][clblast]") {
  anycl::Runtime rt("");
  anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast);
  CHECK(anycl::gemm_provider(rt) == anycl::GemmProvider::CLBlast);
  const GemmShape s = make_shape(Layout::ColMajor, Transpose::No, Transpose::Yes, 70, 50, 40);
  const auto a = random_values<float>(extent(s, 'a'), 4), b = random_values<float>(extent(s, 'b'), 5);
  auto c = random_values<float>(extent(s, 'c'), 6);
  const auto before = c;
  anycl::gemm<float>(rt, s, 2.0f, a.data(), b.data(), 0.5f, c.data());
  CHECK(count_bad(s, c, before, anycl_test::gemm_oracle<float>(s, 2.0f, a.data(), b.data(), 0.5f, before.data())) == 0);
}

// CLBlast rejects k = 0; the provider must still give C = beta*C (beta = 0 overwrites NaN with 0).
TEST_CASE("the CLBlast provider with k = 0 scales C by beta, host and buffer", "[gemm][clblast]") {
  anycl::Runtime rt("");
  anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast);
  for (const std::size_t mn : {std::size_t(1), std::size_t(37)}) {
    const GemmShape s = make_shape(Layout::RowMajor, Transpose::No, Transpose::No, mn, mn, 0);
    const std::vector<float> a(extent(s, 'a') + 1, 1.0f), b(extent(s, 'b') + 1, 1.0f);
    for (const float beta : {0.0f, 0.5f}) {
      auto c0 = random_values<float>(extent(s, 'c'), 9);
      if (beta == 0.0f) std::fill(c0.begin(), c0.end(), std::numeric_limits<float>::quiet_NaN());
      const auto want = anycl_test::gemm_oracle<float>(s, 1.0f, a.data(), b.data(), beta, c0.data());
      auto host = c0;
      REQUIRE_NOTHROW(anycl::gemm<float>(rt, s, 1.0f, a.data(), b.data(), beta, host.data()));
      CHECK(count_bad(s, host, c0, want) == 0);
      anycl::Buffer A = rt.alloc(a.size() * sizeof(float)), B = rt.alloc(b.size() * sizeof(float));
      anycl::Buffer C = rt.alloc(c0.size() * sizeof(float));
      rt.write(C, c0.data(), c0.size() * sizeof(float));
      REQUIRE_NOTHROW(anycl::gemm<float>(rt, s, 1.0f, A, 0, B, 0, beta, C, 0).wait());
      std::vector<float> dev(c0.size());
      rt.read(C, dev.data(), dev.size() * sizeof(float));
      CHECK(count_bad(s, dev, c0, want) == 0);
    }
  }
}

// beta = 0 must not read C: first leave NaN in the workspace pool (a beta = 1 call whose C is NaN),
// then a beta = 0 call on a NaN-filled, dense C (ldc = n) must come out finite and match the oracle.
TEST_CASE("the CLBlast provider with beta = 0 ignores NaN in C and in pooled workspaces", "[gemm][clblast]") {
  anycl::Runtime rt("");
  anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast);
  GemmShape s = make_shape(Layout::RowMajor, Transpose::No, Transpose::No, 45, 38, 29);
  s.lda = s.k, s.ldb = s.n, s.ldc = s.n;
  const auto a = random_values<float>(extent(s, 'a'), 11), b = random_values<float>(extent(s, 'b'), 12);
  const std::vector<float> nan_c(extent(s, 'c'), std::numeric_limits<float>::quiet_NaN());
  auto poison = nan_c;
  anycl::gemm<float>(rt, s, 1.0f, a.data(), b.data(), 1.0f, poison.data());
  auto c = nan_c;
  anycl::gemm<float>(rt, s, 1.0f, a.data(), b.data(), 0.0f, c.data());
  for (const float x : c) REQUIRE(std::isfinite(x));
  CHECK(count_bad(s, c, nan_c, anycl_test::gemm_oracle<float>(s, 1.0f, a.data(), b.data(), 0.0f, nan_c.data())) == 0);
}
