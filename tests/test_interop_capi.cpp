// The C API on the caller's own OpenCL objects (anycl.h "Interop"): runtime, wrapped buffers,
// GEMM and the three convolution passes with wait lists and events; refusals by name.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "anycl/anycl.h"
#include "conv_check.hpp"
#include "interop_support.hpp"

using anycl_test::CallerCl;
using anycl_test::Mem;
using anycl_test::refs;

namespace {

// The runtime and buffers a C caller holds, destroyed at scope exit.
struct CRuntime {
  anycl_runtime* rt = nullptr;
  std::vector<anycl_buffer*> buffers;
  explicit CRuntime(const CallerCl& cl) {
    REQUIRE(anycl_runtime_create_from_queues(cl.context, cl.queues.data(), cl.queues.size(), &rt) == ANYCL_SUCCESS);
  }
  ~CRuntime() {
    for (anycl_buffer* b : buffers) anycl_buffer_destroy(b);
    anycl_runtime_destroy(rt);
  }
  CRuntime(const CRuntime&) = delete;
  CRuntime& operator=(const CRuntime&) = delete;
  anycl_buffer* wrap(cl_mem m, std::size_t offset = 0, std::size_t bytes = 0) {
    anycl_buffer* b = nullptr;
    REQUIRE(anycl_buffer_wrap(rt, m, offset, bytes, 0, &b) == ANYCL_SUCCESS);
    buffers.push_back(b);
    return b;
  }
};

void check_error(anycl_status s, std::initializer_list<const char*> words) {
  CHECK(s == ANYCL_ERROR_INVALID_ARGUMENT);
  const std::string msg = anycl_last_error();
  INFO(msg);
  for (const char* w : words) CHECK(anycl_test::contains(msg, w));
}

}  // namespace

TEST_CASE("C API: strided-batched GEMM on wrapped buffers waits for the caller's event", "[interop]") {
  CallerCl cl;
  CRuntime c(cl);
  const std::size_t m = 13, n = 11, k = 7, batch = 3;
  const auto ha = anycl_test::random_floats(batch * m * k, 1), hb = anycl_test::random_floats(batch * k * n, 2);
  Mem a(cl.buffer(ha)), b(cl.buffer(hb)), out(cl.buffer(std::vector<float>(batch * m * n + 5, std::nanf(""))));
  cl_int err = CL_SUCCESS;
  cl_event held = clCreateUserEvent(cl.context, &err), done = nullptr;
  REQUIRE(err == CL_SUCCESS);
  // C starts 5 elements into its buffer: the call's element offset.
  REQUIRE(anycl_sgemm_strided_batched_buffers(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, m, n, k, 1.f,
                                              c.wrap(a.m), 0, k, m * k, c.wrap(b.m), 0, n, k * n, 0.f, c.wrap(out.m), 5,
                                              n, m * n, batch, 1, &held, &done) == ANYCL_SUCCESS);
  REQUIRE(done != nullptr);
  anycl_test::check_held_back(done);
  REQUIRE(clSetUserEventStatus(held, CL_COMPLETE) == CL_SUCCESS);
  REQUIRE(clWaitForEvents(1, &done) == CL_SUCCESS);
  clReleaseEvent(done);
  clReleaseEvent(held);
  const auto got = cl.read(out.m, batch * m * n + 5);
  for (int i = 0; i < 5; ++i) CHECK(std::isnan(got[std::size_t(i)]));
  for (std::size_t i = 0; i < batch; ++i) {
    INFO("batch item " << i);
    const std::vector<float> ai(ha.begin() + long(i * m * k), ha.begin() + long((i + 1) * m * k));
    const std::vector<float> bi(hb.begin() + long(i * k * n), hb.begin() + long((i + 1) * k * n));
    const std::vector<float> ci(got.begin() + long(5 + i * m * n), got.begin() + long(5 + (i + 1) * m * n));
    CHECK(anycl_test::count_off(ci, anycl_test::gemm_ref(m, n, k, ai, bi)) == 0);
  }
}

TEST_CASE("C API: double GEMM and the three convolution passes on wrapped buffers", "[interop]") {
  CallerCl cl;
  CRuntime c(cl);
  const std::size_t n = 6;
  std::vector<double> ha(n * n), hb(n * n);
  for (std::size_t i = 0; i < n * n; ++i) ha[i] = double(i % 7) - 3.0, hb[i] = double(i % 5) * 0.5;
  cl_int err = CL_SUCCESS;
  Mem da(clCreateBuffer(cl.context, CL_MEM_COPY_HOST_PTR, n * n * 8, ha.data(), &err));
  Mem db(clCreateBuffer(cl.context, CL_MEM_COPY_HOST_PTR, n * n * 8, hb.data(), &err));
  Mem dc(clCreateBuffer(cl.context, CL_MEM_READ_WRITE, n * n * 8, nullptr, &err));
  REQUIRE(err == CL_SUCCESS);
  cl_event g = nullptr;
  REQUIRE(anycl_dgemm_buffers(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, n, n, n, 1.0, c.wrap(da.m), 0, n,
                              c.wrap(db.m), 0, n, 0.0, c.wrap(dc.m), 0, n, 0, nullptr, &g) == ANYCL_SUCCESS);
  std::vector<double> got(n * n);
  REQUIRE(clEnqueueReadBuffer(cl.queues[0], dc.m, CL_TRUE, 0, n * n * 8, got.data(), 1, &g, nullptr) == CL_SUCCESS);
  clReleaseEvent(g);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double ref = 0;
      for (std::size_t p = 0; p < n; ++p) ref += ha[i * n + p] * hb[p * n + j];
      REQUIRE(got[i * n + j] == Approx(ref).margin(1e-12));  // small integers and halves: exact in double
    }

  const anycl_test::ConvDesc r = {2, 3, 7, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  const anycl_conv2d_desc cd = {d.n, d.c, d.h, d.w, d.k, d.r, d.s, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ANYCL_CONV_NCHW};
  const auto hx = anycl_test::random_floats(r.x_size(), 3), hw = anycl_test::random_floats(r.w_size(), 4);
  const auto hdy = anycl_test::random_floats(r.y_size(), 5);
  Mem x(cl.buffer(hx)), w(cl.buffer(hw)), dy(cl.buffer(hdy)), y(cl.buffer(std::vector<float>(r.y_size())));
  Mem dx(cl.buffer(std::vector<float>(r.x_size()))), dw(cl.buffer(std::vector<float>(r.w_size())));
  Mem dbias(cl.buffer(std::vector<float>(std::size_t(r.k))));
  cl_event f = nullptr, bd = nullptr, bw = nullptr;
  REQUIRE(anycl_conv2d_forward_buffers(c.rt, &cd, c.wrap(x.m), c.wrap(w.m), nullptr, c.wrap(y.m), ANYCL_CONV_IM2COL, 0,
                                       nullptr, &f) == ANYCL_SUCCESS);
  REQUIRE(anycl_conv2d_backward_data_buffers(c.rt, &cd, c.wrap(dy.m), c.wrap(w.m), c.wrap(dx.m), ANYCL_CONV_AUTO, 1, &f,
                                             &bd) == ANYCL_SUCCESS);
  REQUIRE(anycl_conv2d_backward_weights_buffers(c.rt, &cd, c.wrap(x.m), c.wrap(dy.m), c.wrap(dw.m), c.wrap(dbias.m),
                                                ANYCL_CONV_AUTO, 1, &bd, &bw) == ANYCL_SUCCESS);
  REQUIRE(clWaitForEvents(1, &bw) == CL_SUCCESS);
  CHECK(anycl_test::status(f) == CL_COMPLETE);
  for (cl_event e : {f, bd, bw}) clReleaseEvent(e);
  using anycl_test::abs_of;
  using anycl_test::count_bad;
  CHECK(count_bad(cl.read(y.m, r.y_size()), anycl_test::conv_forward(r, hx, hw, {}, false),
                  anycl_test::conv_forward(r, abs_of(hx), abs_of(hw), {}, false), double(r.c) * 9, 16) == 0);
  CHECK(count_bad(cl.read(dx.m, r.x_size()), anycl_test::conv_backward_data(r, hdy, hw),
                  anycl_test::conv_backward_data(r, abs_of(hdy), abs_of(hw)), double(r.k) * 9, 16) == 0);
  std::vector<float> dwref, dbref, dwabs, dbabs;
  anycl_test::conv_backward_weights(r, hx, hdy, dwref, dbref);
  anycl_test::conv_backward_weights(r, abs_of(hx), abs_of(hdy), dwabs, dbabs);
  const double red = double(r.n) * r.out_h() * r.out_w();
  CHECK(count_bad(cl.read(dw.m, r.w_size()), dwref, dwabs, red, 16) == 0);
  CHECK(count_bad(cl.read(dbias.m, std::size_t(r.k)), dbref, dbabs, red, 16) == 0);
}

TEST_CASE("C API: bad handles are refused by name with nothing retained and no event out", "[interop]") {
  CallerCl mine, other;
  const cl_uint ctx_refs = refs(mine.context), foreign_refs = refs(other.queues[0]);
  anycl_runtime* rt = reinterpret_cast<anycl_runtime*>(&mine);  // overwritten with NULL on failure
  check_error(anycl_runtime_create_from_queues(mine.context, other.queues.data(), 1, &rt), {"queues[0]", "another context"});
  CHECK(rt == nullptr);
  check_error(anycl_runtime_create_from_queues(mine.context, nullptr, 1, &rt), {"queues is NULL"});
  check_error(anycl_runtime_create_from_queues(mine.context, mine.queues.data(), 1, nullptr), {"out is NULL"});
  CHECK(refs(mine.context) == ctx_refs);
  CHECK(refs(other.queues[0]) == foreign_refs);

  CRuntime c(mine);
  Mem own(mine.buffer(std::vector<float>(16, 2.f))), foreign(other.buffer(std::vector<float>(16, 2.f)));
  const cl_uint foreign_mem_refs = refs(foreign.m);
  anycl_buffer* b = nullptr;
  check_error(anycl_buffer_wrap(c.rt, foreign.m, 0, 0, 0, &b), {"mem", "another OpenCL context"});
  check_error(anycl_buffer_wrap(c.rt, own.m, 0, 17 * sizeof(float), 0, &b), {"mem holds 64 bytes"});
  check_error(anycl_buffer_wrap(nullptr, own.m, 0, 0, 0, &b), {"anycl_buffer_wrap", "runtime is NULL"});
  CHECK(b == nullptr);
  CHECK(refs(foreign.m) == foreign_mem_refs);

  anycl_buffer* ob = c.wrap(own.m);
  cl_event ev = reinterpret_cast<cl_event>(&mine);  // overwritten with NULL on failure
  check_error(anycl_sgemm_buffers(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.f, nullptr, 0, 4, ob,
                                  0, 4, 0.f, ob, 0, 4, 0, nullptr, &ev),
              {"anycl_sgemm_buffers", "a is NULL"});
  CHECK(ev == nullptr);
  check_error(anycl_sgemm_buffers(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.f, ob, 0, 4, ob, 0, 4,
                                  0.f, ob, 0, 4, 2, nullptr, &ev),
              {"wait_list is NULL but num_events is 2"});
  cl_event null_event = nullptr;
  check_error(anycl_sgemm_buffers(c.rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 4, 4, 4, 1.f, ob, 0, 4, ob, 0, 4,
                                  0.f, ob, 0, 4, 1, &null_event, &ev),
              {"wait_list[0] is NULL"});
  const anycl_conv2d_desc cd = {1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ANYCL_CONV_NCHW};
  check_error(anycl_conv2d_forward_buffers(c.rt, &cd, ob, ob, nullptr, nullptr, ANYCL_CONV_AUTO, 0, nullptr, &ev),
              {"anycl_conv2d_forward_buffers", "y is NULL"});
  check_error(anycl_conv2d_backward_weights_buffers(c.rt, nullptr, ob, ob, ob, nullptr, ANYCL_CONV_AUTO, 0, nullptr, &ev),
              {"descriptor is NULL"});
  CHECK(ev == nullptr);
  for (float v : mine.read(own.m, 16)) REQUIRE(v == 2.f);
}

TEST_CASE("C API: buffers of anycl's own, and the caller's host memory in place", "[interop]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create("", &rt) == ANYCL_SUCCESS);
  const std::size_t m = 9, n = 7, k = 5, c_bytes = m * n * sizeof(float);
  const auto ha = anycl_test::random_floats(m * k, 3), hb = anycl_test::random_floats(k * n, 4);
  const auto expected = anycl_test::gemm_ref(m, n, k, ha, hb);
  anycl_buffer *a = nullptr, *b = nullptr, *c = nullptr;
  REQUIRE(anycl_buffer_alloc(rt, ha.size() * sizeof(float), 0, &a) == ANYCL_SUCCESS);
  REQUIRE(anycl_buffer_alloc(rt, hb.size() * sizeof(float), 0, &b) == ANYCL_SUCCESS);
  REQUIRE(anycl_buffer_write(rt, a, 0, ha.data(), ha.size() * sizeof(float)) == ANYCL_SUCCESS);
  REQUIRE(anycl_buffer_write(rt, b, 0, hb.data(), hb.size() * sizeof(float)) == ANYCL_SUCCESS);
  // C = A B on c, waited for through the call's event.
  auto sgemm_into_c = [&] {
    cl_event done = nullptr;
    REQUIRE(anycl_sgemm_buffers(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, m, n, k, 1.f, a, 0, k, b, 0, n,
                                0.f, c, 0, n, 0, nullptr, &done) == ANYCL_SUCCESS);
    REQUIRE(clWaitForEvents(1, &done) == CL_SUCCESS);
    clReleaseEvent(done);
  };

  SECTION("alloc, write, GEMM, read") {
    REQUIRE(anycl_buffer_alloc(rt, c_bytes, 0, &c) == ANYCL_SUCCESS);
    sgemm_into_c();
    std::vector<float> got(m * n, std::nanf(""));
    REQUIRE(anycl_buffer_read(rt, c, 0, got.data(), c_bytes) == ANYCL_SUCCESS);
    CHECK(anycl_test::count_off(got, expected) == 0);
    // From byte offset 8: the last m n - 2 elements land at the start of `tail`, its end untouched.
    std::vector<float> tail(m * n, std::nanf(""));
    REQUIRE(anycl_buffer_read(rt, c, 8, tail.data(), c_bytes - 8) == ANYCL_SUCCESS);
    CHECK(std::equal(got.begin() + 2, got.end(), tail.begin()));
    CHECK((std::isnan(tail[m * n - 2]) && std::isnan(tail[m * n - 1])));
    check_error(anycl_buffer_read(rt, c, 4, got.data(), c_bytes), {"exceeds the buffer"});
    check_error(anycl_buffer_write(rt, c, 0, nullptr, 4), {"null source"});
    check_error(anycl_buffer_read(rt, nullptr, 0, got.data(), 4), {"anycl_buffer_read", "src is NULL"});
    CHECK(anycl_buffer_write(nullptr, c, 0, got.data(), 4) != ANYCL_SUCCESS);
    CHECK(anycl_test::contains(anycl_last_error(), "anycl_buffer_write"));
  }

  SECTION("the caller's host memory, written in place") {
    const std::size_t bytes = 4096;
    void* host = nullptr;
    REQUIRE(posix_memalign(&host, bytes, bytes) == 0);
    std::unique_ptr<void, decltype(&std::free)> owner(host, &std::free);
    auto* hc = static_cast<float*>(host);
    std::fill(hc, hc + bytes / sizeof(float), std::nanf(""));
    anycl_device_info info{};
    info.struct_size = sizeof info;
    REQUIRE(anycl_runtime_device_info(rt, 0, &info) == ANYCL_SUCCESS);
    const anycl_status s = anycl_buffer_wrap_host(rt, host, bytes, 0, &c);
    INFO(anycl_last_error());
    if (!info.unified_memory) {
      CHECK(s == ANYCL_ERROR_UNSUPPORTED);
      CHECK(c == nullptr);
    } else {
      REQUIRE(s == ANYCL_SUCCESS);
      sgemm_into_c();
      CHECK(anycl_test::count_off(std::vector<float>(hc, hc + m * n), expected) == 0);
      CHECK(std::isnan(hc[m * n]));  // nothing past C written
      anycl_buffer* misaligned = nullptr;
      CHECK(anycl_buffer_wrap_host(rt, hc + 1, 64, 0, &misaligned) == ANYCL_ERROR_UNSUPPORTED);
      CHECK(misaligned == nullptr);
      const std::string why = anycl_last_error();
      INFO(why);
      CHECK(anycl_test::contains(why, "CL_DEVICE_MEM_BASE_ADDR_ALIGN"));
    }
    anycl_buffer* none = nullptr;
    check_error(anycl_buffer_wrap_host(rt, nullptr, 64, 0, &none), {"host is NULL"});
    CHECK(none == nullptr);
  }
  anycl_buffer* huge = nullptr;
  CHECK(anycl_buffer_alloc(rt, std::size_t(1) << 62, 0, &huge) == ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(huge == nullptr);
  check_error(anycl_buffer_alloc(rt, 64, 0, nullptr), {"anycl_buffer_alloc", "out is NULL"});
  for (anycl_buffer* x : {a, b, c}) anycl_buffer_destroy(x);
  anycl_runtime_destroy(rt);
}
