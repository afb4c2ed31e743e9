// Sizes at the edges: dimensions near SIZE_MAX and INT_MAX, products that overflow size_t or the
// kernels' 32-bit range, and workspaces larger than the device allows, through GEMM (every
// dimension, leading dimension, batch stride and offset), convolution (every Conv2d field),
// Runtime::alloc / read / write and the C API. Each is refused with INVALID_ARGUMENT (or
// OUT_OF_MEMORY for what no device could hold) naming the cause, before any output is touched,
// or, for convolution workspaces, run in smaller chunks with the right result. Nothing wraps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <vector>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace {

using anycl::GemmShape;
using anycl_test::contains;
using anycl_test::status_of;

constexpr std::size_t kHuge = SIZE_MAX, kIntMax = INT_MAX, kAbove = std::size_t(INT_MAX) + 1;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("0:0");
  return rt;
}

GemmShape square(std::size_t n) {
  GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
  return s;
}

// A host-pointer sgemm on 4x4 operands with `s` is refused with `status` and a message holding
// `why`; C is untouched. The device-buffer form is refused too.
void check_gemm_refused(const GemmShape& s, anycl::Status status, const std::string& why) {
  auto& rt = runtime();
  std::vector<float> a(16, 1.f), b(16, 1.f), c(16, 7.f);
  std::string msg;
  CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data()); }, &msg) == status);
  CHECK(contains(msg, why));
  CHECK(c == std::vector<float>(16, 7.f));
  anycl::Buffer A = rt.alloc(64), B = rt.alloc(64), C = rt.alloc(64);
  rt.write(C, c.data(), 64);
  CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, A, 0, B, 0, 0.f, C, 0); }) != ANYCL_SUCCESS);
  rt.read(C, c.data(), 64);
  CHECK(c == std::vector<float>(16, 7.f));
}

}  // namespace

TEST_CASE("sizes: GEMM dimensions at and beyond 2^31 and near SIZE_MAX are refused", "[sizes][gemm]") {
  for (const std::size_t v : {kAbove, kHuge, kHuge - 1, kHuge / 2 + 1}) {
    INFO("value " << v);
    GemmShape s = square(4);
    s.m = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "m, n and k must be below 2^31");
    s = square(4), s.n = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "m, n and k must be below 2^31");
    s = square(4), s.k = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "m, n and k must be below 2^31");
    s = square(4), s.lda = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "lda exceeds 2^31 - 1");
    s = square(4), s.ldb = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "ldb exceeds 2^31 - 1");
    s = square(4), s.ldc = v;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "ldc exceeds 2^31 - 1");
    s = square(4), s.batch = v, s.stride_a = s.stride_b = s.stride_c = 16;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, "batch must be below 2^31");
  }
}

TEST_CASE("sizes: GEMM extents whose products overflow size_t are refused, never wrapped", "[sizes][gemm]") {
  // (batch - 1) * stride overflows for each operand in turn.
  for (const char which : {'a', 'b', 'c'}) {
    INFO("operand " << which);
    GemmShape s = square(4);
    s.batch = 3, s.stride_a = s.stride_b = s.stride_c = 16;
    (which == 'a' ? s.stride_a : which == 'b' ? s.stride_b : s.stride_c) = kHuge / 2 + 1;
    check_gemm_refused(s, ANYCL_ERROR_INVALID_ARGUMENT, std::string(1, which) + " extent overflows size_t");
  }
  // Each matrix fits size_t in elements but not in bytes: 2^31-1 rows of ld 2^31-1 doubles.
  GemmShape big = square(kIntMax);
  std::vector<double> a(16, 1.0), b(16, 1.0), c(16, 7.0);
  std::string msg;
  CHECK(status_of([&] { anycl::gemm<double>(runtime(), big, 1.0, a.data(), b.data(), 0.0, c.data()); }, &msg) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "size overflows"));
  CHECK(c == std::vector<double>(16, 7.0));
  // In bytes they fit, but no device holds them: refused before the driver sees the size.
  GemmShape tall = square(4);
  tall.m = kIntMax, tall.k = 1, tall.lda = 1, tall.ldc = 4;
  check_gemm_refused(tall, ANYCL_ERROR_OUT_OF_MEMORY, "exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE");
}

TEST_CASE("sizes: GEMM buffer offsets near SIZE_MAX are refused naming the buffer", "[sizes][gemm]") {
  auto& rt = runtime();
  anycl::Buffer A = rt.alloc(64), B = rt.alloc(64), C = rt.alloc(64);
  const GemmShape s = square(4);
  for (const std::size_t off : {kHuge, kHuge - 15, std::size_t(1), kHuge / 4 + 1}) {
    INFO("offset " << off);
    std::string msg;
    CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, A, off, B, 0, 0.f, C, 0); }, &msg) ==
          ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, "buffer a"));
    CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, A, 0, B, off, 0.f, C, 0); }, &msg) ==
          ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, "buffer b"));
    CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, A, 0, B, 0, 0.f, C, off); }, &msg) ==
          ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, "buffer c"));
  }
}

TEST_CASE("sizes: the C API refuses huge GEMM sizes with a status and leaves C alone", "[sizes][gemm][capi]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create("0:0", &rt) == ANYCL_SUCCESS);
  std::vector<float> a(16, 1.f), b(16, 1.f), c(16, 7.f);
  CHECK(anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, kHuge, 4, 4, 1.f, a.data(), 4, b.data(), 4,
                    0.f, c.data(), 4) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "below 2^31"));
  CHECK(anycl_sgemm_strided_batched(rt, ANYCL_COL_MAJOR, ANYCL_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.f, a.data(), 4, 0,
                                    b.data(), 4, 0, 0.f, c.data(), 4, 16, kHuge) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "batch"));
  CHECK(anycl_sgemm_strided_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.f, a.data(), 4,
                                    kHuge / 2, b.data(), 4, 0, 0.f, c.data(), 4, 16, 3) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(anycl_last_error(), "overflows"));
  const float* pa[1] = {a.data()};
  const float* pb[1] = {b.data()};
  float* pc[1] = {c.data()};
  CHECK(anycl_sgemm_batched(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, kHuge, 4, 1.f, pa, 4, pb, kHuge, 0.f,
                            pc, kHuge, 1) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(c == std::vector<float>(16, 7.f));
  anycl_runtime_destroy(rt);
}

TEST_CASE("sizes: every Conv2d field beyond 2^31 - 1 is refused by name", "[sizes][conv]") {
  const std::vector<std::pair<const char*, std::size_t anycl::Conv2d::*>> fields = {
      {"n", &anycl::Conv2d::n},
      {"c", &anycl::Conv2d::c},
      {"h", &anycl::Conv2d::h},
      {"w", &anycl::Conv2d::w},
      {"k", &anycl::Conv2d::k},
      {"r", &anycl::Conv2d::r},
      {"s", &anycl::Conv2d::s},
      {"stride_h", &anycl::Conv2d::stride_h},
      {"stride_w", &anycl::Conv2d::stride_w},
      {"pad_top", &anycl::Conv2d::pad_top},
      {"pad_left", &anycl::Conv2d::pad_left},
      {"pad_bottom", &anycl::Conv2d::pad_bottom},
      {"pad_right", &anycl::Conv2d::pad_right},
      {"dilation_h", &anycl::Conv2d::dilation_h},
      {"dilation_w", &anycl::Conv2d::dilation_w},
      {"groups", &anycl::Conv2d::groups},
  };
  for (const auto& [name, field] : fields)
    for (const std::size_t v : {kAbove, kHuge, kHuge - 1, std::size_t(1) << 32}) {
      INFO(name << " = " << v);
      anycl::Conv2d d;
      d.*field = v;
      std::string msg;
      CHECK(status_of([&] { d.validate(); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
      CHECK(contains(msg, std::string(name) + " = " + std::to_string(v) + " exceeds 2^31 - 1"));
    }
  // Large strides and dilations that leave a 1x1 output used to be cut to 32 bits by the kernels:
  // pad_top 2^32 became 0, and the output read x instead of padding.
  anycl::Conv2d wrap;
  wrap.pad_top = std::size_t(1) << 32, wrap.stride_h = std::size_t(1) << 33;
  CHECK(status_of([&] { wrap.validate(); }) == ANYCL_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("sizes: Conv2d products that overflow size_t or the kernels' int range are refused", "[sizes][conv]") {
  struct Case {
    const char* what;
    anycl::Conv2d d;
    const char* why;
  };
  auto make = [](std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t k, std::size_t r,
                 std::size_t s) {
    anycl::Conv2d d;
    d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = r, d.s = s;
    return d;
  };
  std::vector<Case> cases = {
      {"x elements overflow size_t", make(kIntMax, kIntMax, kIntMax, kIntMax, 1, 1, 1), "x size overflows size_t"},
      {"n * k = (2^31 - 1)^2", make(kIntMax, 1, 1, 1, kIntMax, 1, 1), "n * c and n * k"},
      {"filter of (2^31 - 1)^2", make(1, kIntMax, 1, 1, kIntMax, 1, 1), "the filter must have fewer than 2^31"},
      {"one image beyond 2^31", make(1, 2048, 2048, 2048, 1, 1, 1), "one image's tensors"},
      {"filter beyond 2^31", make(1, 1 << 16, 1, 1, 1 << 16, 1, 1), "the filter must have fewer than 2^31"},
      {"n * k beyond 2^31", make(1 << 16, 1, 1, 1, 1 << 16, 1, 1), "n * c and n * k"},
      {"n * c beyond 2^31", make(1 << 16, 1 << 16, 1, 1, 1, 1, 1), "n * c and n * k"},
  };
  anycl::Conv2d padded;  // each pad fits int, the padded height does not
  padded.h = 1 << 30, padded.pad_top = padded.pad_bottom = 1 << 30;
  cases.push_back({"padded height beyond 2^31", padded, "the padded input height"});
  anycl::Conv2d span;  // dilation * (r - 1) fits, but is larger than the padded input
  span.h = 4, span.r = 3, span.dilation_h = kIntMax;
  cases.push_back({"dilated filter larger than the input", span, "the dilated filter"});
  for (const auto& [what, d, why] : cases) {
    INFO(what);
    std::string msg;
    CHECK(status_of([&] { d.validate(); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, why));
    INFO(msg);
  }
}

TEST_CASE("sizes: the C conv API refuses huge descriptors; outputs stay untouched", "[sizes][conv][capi]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create("0:0", &rt) == ANYCL_SUCCESS);
  anycl_conv2d_desc d{};
  d.n = d.c = d.h = d.w = d.k = d.r = d.s = 1;
  d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = d.groups = 1;
  size_t p = 99, q = 99;
  REQUIRE(anycl_conv2d_output_size(&d, &p, &q) == ANYCL_SUCCESS);
  CHECK((p == 1 && q == 1));
  std::vector<float> x(4, 1.f), w(4, 1.f), y(4, 7.f);
  for (size_t anycl_conv2d_desc::*f : {&anycl_conv2d_desc::h, &anycl_conv2d_desc::pad_left,
                                       &anycl_conv2d_desc::stride_w, &anycl_conv2d_desc::groups}) {
    anycl_conv2d_desc bad = d;
    bad.*f = SIZE_MAX;
    p = q = 99;
    CHECK(anycl_conv2d_output_size(&bad, &p, &q) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK((p == 99 && q == 99));
    CHECK(anycl_conv2d_forward(rt, &bad, x.data(), w.data(), nullptr, y.data()) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(anycl_last_error(), "exceeds 2^31 - 1"));
    CHECK(y == std::vector<float>(4, 7.f));
  }
  anycl_runtime_destroy(rt);
}

TEST_CASE("sizes: Runtime::alloc, read and write near SIZE_MAX", "[sizes][buffer]") {
  auto& rt = runtime();
  std::string msg;
  for (const std::size_t bytes : {kHuge, kHuge - 1, kHuge / 2 + 1, std::size_t(rt.device(0).max_alloc) + 1}) {
    INFO(bytes << " bytes");
    CHECK(status_of([&] { rt.alloc(bytes); }, &msg) == ANYCL_ERROR_OUT_OF_MEMORY);
    CHECK(contains(msg, std::to_string(bytes) + " bytes on " + anycl::detail::engine(rt).slot(0).where()));
  }
  anycl::Buffer b = rt.alloc(64);
  std::vector<char> host(64, 'x');
  const std::pair<std::size_t, std::size_t> ranges[] = {{kHuge, 0}, {kHuge, 1}, {1, kHuge}, {kHuge, kHuge}, {65, 0},
                                                        {63, kHuge - 62}};
  for (const auto& [bytes, offset] : ranges) {
    INFO(bytes << " bytes at offset " << offset);
    CHECK(status_of([&] { rt.write(b, host.data(), bytes, offset); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, "exceeds the buffer's 64 bytes"));
    CHECK(status_of([&] { rt.read(b, host.data(), bytes, offset); }) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(host == std::vector<char>(64, 'x'));
  }
}

TEST_CASE("sizes: convolution workspaces above the device's allocation limit run in smaller chunks",
          "[sizes][conv]") {
  anycl::Runtime rt("0:0");
  anycl::DeviceInfo& info = anycl::detail::engine(rt).slot(0).info;
  anycl_test::ConvDesc r;
  r.n = 4, r.c = 3, r.h = 16, r.w = 16, r.k = 5, r.r = 3, r.s = 3, r.pad_top = r.pad_left = r.pad_bottom = 1,
  r.pad_right = 1;
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  const auto x = anycl_test::random_values(r.x_size(), 11), w = anycl_test::random_values(r.w_size(), 12);
  const auto ref = anycl_test::conv_forward(r, x, w, {}, false);
  const auto ref_abs = anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), {}, false);
  // One image whose columns alone exceed the limit is refused, naming the workspace and the
  // limit (device buffers made before the limit drops, so only the workspace meets it; first, so
  // no pooled workspace from an earlier call can serve it).
  const std::uint64_t real_max_alloc = info.max_alloc;
  anycl::Buffer X = rt.alloc(x.size() * 4), W = rt.alloc(w.size() * 4), Y = rt.alloc(r.y_size() * 4);
  rt.write(X, x.data(), x.size() * 4);
  rt.write(W, w.data(), w.size() * 4);
  std::vector<float> y0(r.y_size(), 7.f);
  rt.write(Y, y0.data(), y0.size() * 4);
  info.max_alloc = 8 << 10;
  std::string msg;
  CHECK(status_of([&] { anycl::conv2d_forward(rt, d, X, W, nullptr, Y, anycl::ConvAlgo::Im2col); }, &msg) ==
        ANYCL_ERROR_OUT_OF_MEMORY);
  INFO(msg);
  CHECK_FALSE(contains(msg, "clCreateBuffer"));  // refused before the driver saw it
  CHECK(contains(msg, "workspace"));
  CHECK(contains(msg, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
  CHECK(contains(msg, anycl::detail::engine(rt).slot(0).where()));
  std::vector<float> y_after(r.y_size());
  rt.read(Y, y_after.data(), y_after.size() * 4);
  CHECK(y_after == y0);
  info.max_alloc = real_max_alloc;

  // A device that allocates at most 64 KiB at once: the im2col columns of all four images (4 x
  // 27 KiB) do not fit in one workspace, those of one image do.
  info.max_alloc = 64 << 10;
  for (const auto algo : {anycl::ConvAlgo::Im2col, anycl::ConvAlgo::Winograd}) {
    INFO(anycl::to_string(algo));
    std::vector<float> y(r.y_size(), 7.f);
    anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data(), algo);
    CHECK(anycl_test::count_bad(y, ref, ref_abs, double(r.c * r.r * r.s),
                                anycl_test::tolerance_factor(rt, d, algo, anycl::ConvPass::Forward)) == 0);
  }
}

TEST_CASE("sizes: a GEMM packing workspace above the device's allocation limit is refused", "[sizes][gemm]") {
  anycl::Runtime rt("0:0");
  anycl::DeviceInfo& info = anycl::detail::engine(rt).slot(0).info;
  GemmShape s = square(192);
  s.trans_b = anycl::Transpose::Yes;  // B transposed: the packed kernels, with A and B packed first
  const auto a = anycl_test::random_values(192 * 192, 31), b = anycl_test::random_values(192 * 192, 32);
  const std::vector<float> c0(192 * 192, 7.f);
  anycl::Buffer A = rt.alloc(a.size() * 4), B = rt.alloc(b.size() * 4), C = rt.alloc(c0.size() * 4);
  rt.write(A, a.data(), a.size() * 4);
  rt.write(B, b.data(), b.size() * 4);
  rt.write(C, c0.data(), c0.size() * 4);
  const std::uint64_t real_max_alloc = info.max_alloc;
  info.max_alloc = 64 << 10;  // below one packed 192 x 192 panel set (147 KiB)
  std::string msg;
  CHECK(status_of([&] { anycl::gemm<float>(rt, s, 1.f, A, 0, B, 0, 0.f, C, 0).wait(); }, &msg) ==
        ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(contains(msg, "workspace: allocation of"));
  CHECK(contains(msg, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
  info.max_alloc = real_max_alloc;
  std::vector<float> c(c0.size());
  rt.read(C, c.data(), c.size() * 4);
  CHECK(c == c0);
  anycl::gemm<float>(rt, s, 1.f, A, 0, B, 0, 0.f, C, 0).wait();  // the same runtime works on
  rt.read(C, c.data(), c.size() * 4);
  double worst = 0;
  for (std::size_t i = 0; i < 192; ++i)
    for (std::size_t j = 0; j < 192; ++j) {
      double ref = 0;
      for (std::size_t k = 0; k < 192; ++k) ref += double(a[i * 192 + k]) * b[j * 192 + k];
      worst = std::max(worst, std::fabs(ref - c[i * 192 + j]));
    }
  CHECK(worst < 1e-3);  // |terms| <= 1, 192 of them: float rounding stays far below this
}
