// src/capi/runtime_c.cpp: the C boundary: status strings, anycl_last_error (thread-local), NULL
// arguments, device names, errors as statuses; the C half (test_capi_c.c) compiles as C99.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "support.hpp"

extern "C" int anycl_test_capi_from_c(const char* device_spec, size_t* device_count);

using anycl_test::contains;

TEST_CASE("C API from C: create, count, names, destroy, errors", "[capi][opencl]") {
  size_t count = 0;
  CHECK(anycl_test_capi_from_c("0:0", &count) == 0);
  CHECK(count == 1);
  CHECK(anycl_test_capi_from_c(nullptr, &count) == 0);  // NULL spec = default device
  CHECK(count == 1);
}

TEST_CASE("status strings name every status", "[capi]") {
  std::set<std::string> names;
  for (int s = ANYCL_SUCCESS; s <= ANYCL_ERROR_INTERNAL; ++s) {
    const std::string name = anycl_status_string(static_cast<anycl_status>(s));
    INFO("status " << s);
    CHECK(name.rfind("ANYCL_", 0) == 0);
    CHECK(name != "ANYCL_UNKNOWN_STATUS");
    names.insert(name);
  }
  CHECK(names.size() == ANYCL_ERROR_INTERNAL + 1);
  CHECK(std::string(anycl_status_string(ANYCL_ERROR_NO_DEVICE)) == "ANYCL_ERROR_NO_DEVICE");
  CHECK(std::string(anycl_status_string(ANYCL_ERROR_OUT_OF_MEMORY)) == "ANYCL_ERROR_OUT_OF_MEMORY");
  CHECK(std::string(anycl_status_string(static_cast<anycl_status>(999))) == "ANYCL_UNKNOWN_STATUS");
  CHECK(std::string(anycl_status_string(static_cast<anycl_status>(-1))) == "ANYCL_UNKNOWN_STATUS");
}

TEST_CASE("NULL arguments are INVALID_ARGUMENT or harmless", "[capi]") {
  CHECK(anycl_runtime_create("0:0", nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "anycl_runtime_create"));
  CHECK(anycl_runtime_device_count(nullptr) == 0);
  CHECK(anycl_runtime_device_name(nullptr, 0) == nullptr);
  CHECK(anycl_runtime_release_workspace(nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "anycl_runtime_release_workspace"));
  anycl_runtime_destroy(nullptr);
}

TEST_CASE("failures become statuses with a message in anycl_last_error", "[capi][opencl]") {
  anycl_runtime* rt = reinterpret_cast<anycl_runtime*>(0x1);
  CHECK(anycl_runtime_create("no-such-device-anywhere", &rt) == ANYCL_ERROR_NO_DEVICE);
  CHECK(rt == nullptr);
  const std::string msg = anycl_last_error();
  CHECK(contains(msg, "'no-such-device-anywhere' matches no device"));
  CHECK(contains(msg, "available devices"));

  CHECK(anycl_runtime_create("cpu/0", &rt) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(rt == nullptr);
  CHECK(contains(anycl_last_error(), "sub-device count"));

  // A success clears the message.
  REQUIRE(anycl_runtime_create("0:0", &rt) == ANYCL_SUCCESS);
  REQUIRE(rt != nullptr);
  CHECK(std::string(anycl_last_error()).empty());
  REQUIRE(anycl_runtime_device_count(rt) == 1);
  anycl::Runtime cpp("0:0");
  CHECK(std::string(anycl_runtime_device_name(rt, 0)) == cpp.device(0).name);
  CHECK(anycl_runtime_device_name(rt, 1) == nullptr);
  CHECK(anycl_runtime_release_workspace(rt) == ANYCL_SUCCESS);
  anycl_runtime_destroy(rt);
}

TEST_CASE("anycl_last_error is per thread", "[capi]") {
  CHECK(anycl_runtime_create("0:0", nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  const std::string mine = anycl_last_error();
  REQUIRE_FALSE(mine.empty());
  std::string theirs = "unset";
  std::thread t([&] { theirs = anycl_last_error(); });
  t.join();
  CHECK(theirs.empty());  // the other thread never failed
  CHECK(std::string(anycl_last_error()) == mine);
}

namespace {

// One C runtime on device 0:0 for the calls below, destroyed with the guard.
struct CRuntime {
  anycl_runtime* rt = nullptr;
  CRuntime() { REQUIRE(anycl_runtime_create("0:0", &rt) == ANYCL_SUCCESS); }
  ~CRuntime() { anycl_runtime_destroy(rt); }
  CRuntime(const CRuntime&) = delete;
  CRuntime& operator=(const CRuntime&) = delete;
};

// Row-major C = alpha * op(A) op(B) + beta * C, accumulated in double, one matrix.
template <typename T>
std::vector<double> gemm_loop(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha,
                              const T* a, std::size_t lda, const T* b, std::size_t ldb, double beta, const T* c0,
                              std::size_t ldc) {
  std::vector<double> out(m * ldc);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::size_t p = 0; p < k; ++p)
        sum += double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
      out[i * ldc + j] = alpha * sum + beta * double(c0[i * ldc + j]);
    }
  return out;
}

// Every element within `tol` (relative to the magnitude, floor 1) of the reference.
template <typename T>
std::size_t count_far(const T* got, const std::vector<double>& want, double tol) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol * std::max(1.0, std::fabs(want[i])))) ++bad;
  return bad;
}

anycl_conv2d_desc to_c(const anycl_test::ConvDesc& r) {
  anycl_conv2d_desc d{};
  d.n = size_t(r.n), d.c = size_t(r.c), d.h = size_t(r.h), d.w = size_t(r.w);
  d.k = size_t(r.k), d.r = size_t(r.r), d.s = size_t(r.s);
  d.stride_h = size_t(r.stride_h), d.stride_w = size_t(r.stride_w);
  d.pad_top = size_t(r.pad_top), d.pad_left = size_t(r.pad_left);
  d.pad_bottom = size_t(r.pad_bottom), d.pad_right = size_t(r.pad_right);
  d.dilation_h = size_t(r.dil_h), d.dilation_w = size_t(r.dil_w), d.groups = size_t(r.groups);
  return d;
}

// Grouped, strided, padded: every index term of the convolution matters.
const anycl_test::ConvDesc kConv{2, 4, 9, 8, 6, 3, 3, 2, 1, 1, 0, 2, 1, 1, 1, 2};

}  // namespace

TEST_CASE("C API: anycl_dgemm and anycl_dgemm_strided_batched match a plain loop", "[capi][opencl][double]") {
  CRuntime c;
  const std::size_t m = 13, n = 11, k = 17, batch = 3, lda = m + 2, ldb = k + 1, ldc = n + 3;
  const auto a = anycl_test::random_values<double>(batch * k * lda, 21);  // A transposed: k x lda
  const auto b = anycl_test::random_values<double>(batch * n * ldb, 22);  // B transposed: n x ldb
  const auto c0 = anycl_test::random_values<double>(batch * m * ldc, 23);
  const bool fp64 = anycl::match_devices("0:0").at(0).fp64;
  std::vector<double> got = c0;
  const anycl_status one = anycl_dgemm(c.rt, ANYCL_ROW_MAJOR, ANYCL_TRANS, ANYCL_TRANS, m, n, k, 0.5, a.data(), lda,
                                       b.data(), ldb, -1.5, got.data(), ldc);
  if (!fp64) {  // the documented answer on a device without fp64, not a skip
    CHECK(one == ANYCL_ERROR_UNSUPPORTED);
    return;
  }
  REQUIRE(one == ANYCL_SUCCESS);
  auto want = gemm_loop(true, true, m, n, k, 0.5, a.data(), lda, b.data(), ldb, -1.5, c0.data(), ldc);
  for (std::size_t i = 0; i < m; ++i)  // the gap columns of C stay as they were
    for (std::size_t j = n; j < ldc; ++j) want[i * ldc + j] = c0[i * ldc + j];
  CHECK(count_far(got.data(), want, 1e-12) == 0);

  got = c0;
  const std::size_t sa = k * lda, sb = n * ldb, sc = m * ldc;
  REQUIRE(anycl_dgemm_strided_batched(c.rt, ANYCL_ROW_MAJOR, ANYCL_TRANS, ANYCL_TRANS, m, n, k, 2.0, a.data(), lda, sa,
                                      b.data(), ldb, sb, 0.25, got.data(), ldc, sc, batch) == ANYCL_SUCCESS);
  for (std::size_t t = 0; t < batch; ++t) {
    INFO("batch item " << t);
    auto w = gemm_loop(true, true, m, n, k, 2.0, a.data() + t * sa, lda, b.data() + t * sb, ldb, 0.25,
                       c0.data() + t * sc, ldc);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = n; j < ldc; ++j) w[i * ldc + j] = c0[t * sc + i * ldc + j];
    CHECK(count_far(got.data() + t * sc, w, 1e-12) == 0);
  }

  // One bad argument each: lda smaller than A's stored row.
  CHECK(anycl_dgemm(c.rt, ANYCL_ROW_MAJOR, ANYCL_TRANS, ANYCL_TRANS, m, n, k, 1.0, a.data(), m - 1, b.data(), ldb, 0.0,
                    got.data(), ldc) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "lda"));
  CHECK(anycl_dgemm_strided_batched(c.rt, ANYCL_ROW_MAJOR, ANYCL_TRANS, ANYCL_TRANS, m, n, k, 1.0, a.data(), lda, sa,
                                    nullptr, ldb, sb, 0.0, got.data(), ldc, sc, batch) == ANYCL_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("C API: anycl_conv2d_backward_data and _backward_weights match the reference", "[capi][opencl][conv]") {
  CRuntime c;
  const anycl_conv2d_desc d = to_c(kConv);
  const auto x = anycl_test::random_values(kConv.x_size(), 31), w = anycl_test::random_values(kConv.w_size(), 32);
  const auto dy = anycl_test::random_values(kConv.y_size(), 33);
  const double taps = double(kConv.k_per_group() * kConv.r * kConv.s);
  const double terms = double(kConv.n * kConv.out_h() * kConv.out_w());

  std::vector<float> dx(kConv.x_size(), 7.f);
  REQUIRE(anycl_conv2d_backward_data(c.rt, &d, dy.data(), w.data(), dx.data()) == ANYCL_SUCCESS);
  const auto ref_dx = anycl_test::conv_backward_data(kConv, dy, w);
  const auto abs_dx = anycl_test::conv_backward_data(kConv, anycl_test::abs_of(dy), anycl_test::abs_of(w));
  CHECK(anycl_test::count_bad(dx, ref_dx, abs_dx, taps, 2) == 0);

  std::vector<float> dw(kConv.w_size(), 7.f), db(std::size_t(kConv.k), 7.f), ref_dw, ref_db, abs_dw, abs_db;
  REQUIRE(anycl_conv2d_backward_weights(c.rt, &d, x.data(), dy.data(), dw.data(), db.data()) == ANYCL_SUCCESS);
  anycl_test::conv_backward_weights(kConv, x, dy, ref_dw, ref_db);
  anycl_test::conv_backward_weights(kConv, anycl_test::abs_of(x), anycl_test::abs_of(dy), abs_dw, abs_db);
  CHECK(anycl_test::count_bad(dw, ref_dw, abs_dw, terms, 2) == 0);
  CHECK(anycl_test::count_bad(db, ref_db, abs_db, terms, 2) == 0);
  // dbias may be NULL: dw alone, the same values.
  std::vector<float> dw_only(kConv.w_size(), 7.f);
  REQUIRE(anycl_conv2d_backward_weights(c.rt, &d, x.data(), dy.data(), dw_only.data(), nullptr) == ANYCL_SUCCESS);
  CHECK(anycl_test::count_bad(dw_only, ref_dw, abs_dw, terms, 2) == 0);

  // One bad argument each: the output tensor missing, groups not dividing the channels.
  CHECK(anycl_conv2d_backward_data(c.rt, &d, dy.data(), w.data(), nullptr) == ANYCL_ERROR_INVALID_ARGUMENT);
  anycl_conv2d_desc bad = d;
  bad.groups = 3;
  CHECK(anycl_conv2d_backward_weights(c.rt, &bad, x.data(), dy.data(), dw.data(), db.data()) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "groups"));
}

TEST_CASE("C API: anycl_runtime_set_gemm_provider switches providers; GEMM stays right", "[capi][opencl]") {
  CRuntime c;
  const std::size_t m = 9, n = 14, k = 6;
  const auto a = anycl_test::random_values(m * k, 41), b = anycl_test::random_values(k * n, 42);
  const auto want = gemm_loop(false, false, m, n, k, 1.0, a.data(), k, b.data(), n, 0.0, std::vector<float>(m * n).data(), n);
  for (anycl_gemm_provider p : {ANYCL_GEMM_CLBLAST, ANYCL_GEMM_ANYCL}) {
    INFO("provider " << int(p));
    REQUIRE(anycl_runtime_set_gemm_provider(c.rt, p) == ANYCL_SUCCESS);
    std::vector<float> got(m * n, 7.f);
    REQUIRE(anycl_sgemm(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, m, n, k, 1.f, a.data(), k, b.data(), n,
                        0.f, got.data(), n) == ANYCL_SUCCESS);
    CHECK(count_far(got.data(), want, 1e-5) == 0);
  }
  CHECK(anycl_runtime_set_gemm_provider(c.rt, static_cast<anycl_gemm_provider>(7)) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_runtime_set_gemm_provider(nullptr, ANYCL_GEMM_ANYCL) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "anycl_runtime_set_gemm_provider"));
}

// Registered as its own ctest entry with OCL_ICD_VENDORS pointing at an empty folder.
TEST_CASE("C API with no OpenCL platforms: NO_DEVICE and a message", "[.no-platforms]") {
  anycl_runtime* rt = reinterpret_cast<anycl_runtime*>(0x1);
  CHECK(anycl_runtime_create(nullptr, &rt) == ANYCL_ERROR_NO_DEVICE);
  CHECK(rt == nullptr);
  CHECK(contains(anycl_last_error(), "no OpenCL platform"));
  CHECK(anycl_runtime_create("all", &rt) == ANYCL_ERROR_NO_DEVICE);
  size_t count = 0;
  CHECK(anycl_test_capi_from_c(nullptr, &count) == 4);  // fails at the create step, cleanly
}
