// anycl on the caller's own OpenCL objects (docs/interop.md): a Boost.Compute program's context,
// queue and vectors; raw OpenCL on in-order and out-of-order queues with event wait lists.
#include <catch2/catch.hpp>

#include <boost/compute/algorithm/copy.hpp>
#include <boost/compute/algorithm/fill.hpp>
#include <boost/compute/algorithm/reduce.hpp>
#include <boost/compute/container/vector.hpp>
#include <cmath>

#include "conv_check.hpp"
#include "interop_support.hpp"

namespace bc = boost::compute;
using anycl_test::CallerCl;
using anycl_test::Mem;
using anycl_test::refs;

namespace {

// The first 3x3 layer of a small CNN: batch 2, 3 -> 4 channels, 9 x 11, padding 1.
const anycl_test::ConvDesc kConv = {2, 3, 9, 11, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};

bc::vector<float> device_vector(const std::vector<float>& host, bc::command_queue& q) {
  bc::vector<float> v(host.size(), q.get_context());
  bc::copy(host.begin(), host.end(), v.begin(), q);
  return v;
}

std::vector<float> host_copy(const bc::vector<float>& v, bc::command_queue& q) {
  std::vector<float> h(v.size());
  bc::copy(v.begin(), v.end(), h.begin(), q);
  return h;
}

float device_sum(const bc::vector<float>& v, bc::command_queue& q) {
  float sum = 0;
  bc::reduce(v.begin(), v.end(), &sum, q);
  return sum;
}

// A Boost.Compute reduction of anycl's output against the sum of the reference, within the
// reference's rounding plus the float sum's.
void check_sum(float got, const std::vector<float>& ref, const std::vector<float>& ref_abs) {
  double sum = 0, abs = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) sum += ref[i], abs += ref_abs[i];
  CHECK(std::fabs(got - sum) <= 1e-4 * abs + 1e-6);
}

// What the Boost.Compute program below brings back to the host, after everything ran.
struct Outputs {
  std::vector<float> c, y, dx, dw, dbias;
  float sum_c = 0, sum_y = 0, sum_dx = 0, sum_dw = 0;
};

// A Boost.Compute program: its vectors filled on its queue, anycl's GEMM and three convolution
// passes on them queued back to back on that in-order queue, then Boost.Compute reductions of
// the outputs there, with no host wait in between.
Outputs boost_compute_program(bc::command_queue& q, std::size_t m, std::size_t n, std::size_t k,
                              const std::vector<float>& ha, const std::vector<float>& hb, const std::vector<float>& hx,
                              const std::vector<float>& hw, const std::vector<float>& hbias,
                              const std::vector<float>& hdy) {
  const bc::context ctx = q.get_context();
  const anycl_test::ConvDesc& r = kConv;
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  bc::vector<float> a = device_vector(ha, q), b = device_vector(hb, q), c(m * n, ctx);
  bc::vector<float> x = device_vector(hx, q), w = device_vector(hw, q), bias = device_vector(hbias, q);
  bc::vector<float> dy = device_vector(hdy, q), y(r.y_size(), ctx), dx(r.x_size(), ctx), dw(r.w_size(), ctx),
                    dbias(std::size_t(r.k), ctx);
  bc::fill(c.begin(), c.end(), std::nanf(""), q);  // beta = 0: never read
  const cl_uint a_refs = refs(a.get_buffer().get());
  Outputs out;
  {
    anycl::Runtime rt(ctx.get(), {q.get()}, anycl_test::test_options());
    REQUIRE(rt.device_count() == 1);
    CHECK(rt.queue(0) == q.get());
    CHECK(rt.context(0) == ctx.get());
    auto wrap = [&](const bc::vector<float>& v) { return rt.wrap(v.get_buffer().get(), 0, v.size() * sizeof(float)); };
    const anycl::Buffer ba = wrap(a), bb = wrap(b), bcm = wrap(c), bx = wrap(x), bw = wrap(w), bbias = wrap(bias),
                        bdy = wrap(dy), by = wrap(y), bdx = wrap(dx), bdw = wrap(dw), bdbias = wrap(dbias);
    CHECK(refs(a.get_buffer().get()) == a_refs + 1);
    anycl::GemmShape s;
    s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
    anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 0.f, bcm, 0);
    anycl::conv2d_forward(rt, d, bx, bw, &bbias, by);
    anycl::conv2d_backward_data(rt, d, bdy, bw, bdx);
    anycl::conv2d_backward_weights(rt, d, bx, bdy, bdw, &bdbias);
    out.sum_c = device_sum(c, q), out.sum_y = device_sum(y, q);
    out.sum_dx = device_sum(dx, q), out.sum_dw = device_sum(dw, q);
  }
  CHECK(refs(a.get_buffer().get()) == a_refs);
  out.c = host_copy(c, q), out.y = host_copy(y, q), out.dx = host_copy(dx, q);
  out.dw = host_copy(dw, q), out.dbias = host_copy(dbias, q);
  return out;
}

}  // namespace

TEST_CASE("Boost.Compute vectors: anycl GEMM and convolution between Boost.Compute steps", "[interop]") {
  const bc::device dev(anycl_test::cpu_device());
  bc::context ctx(dev);
  bc::command_queue q(ctx, dev);
  const std::size_t m = 37, n = 29, k = 41;
  const auto ha = anycl_test::random_floats(m * k, 1), hb = anycl_test::random_floats(k * n, 2);
  const auto& r = kConv;
  const auto hx = anycl_test::random_floats(r.x_size(), 3), hw = anycl_test::random_floats(r.w_size(), 4);
  const auto hbias = anycl_test::random_floats(std::size_t(r.k), 5), hdy = anycl_test::random_floats(r.y_size(), 6);
  {
    // Boost.Compute caches the programs of its algorithms, each holding a context reference:
    // built before the counts are taken.
    bc::vector<float> warm(16, ctx);
    bc::fill(warm.begin(), warm.end(), 1.f, q);
    device_sum(warm, q);
  }
  q.finish();
  // Compared once the program's buffers are gone: POCL keeps each buffer's last event, which
  // holds its queue.
  const cl_uint ctx_refs = refs(ctx.get()), q_refs = refs(q.get());
  const Outputs out = boost_compute_program(q, m, n, k, ha, hb, hx, hw, hbias, hdy);
  q.finish();
  CHECK(refs(ctx.get()) == ctx_refs);
  CHECK(refs(q.get()) == q_refs);

  const auto gref = anycl_test::gemm_ref(m, n, k, ha, hb);
  CHECK(anycl_test::count_off(out.c, gref) == 0);
  const std::vector<float> gsum(gref.c.begin(), gref.c.end());
  check_sum(out.sum_c, gsum, anycl_test::abs_of(gsum));

  using anycl_test::abs_of;
  const double red = double(r.c) * r.r * r.s;
  const auto yref = anycl_test::conv_forward(r, hx, hw, hbias, false);
  const auto yabs = anycl_test::conv_forward(r, abs_of(hx), abs_of(hw), abs_of(hbias), false);
  CHECK(anycl_test::count_bad(out.y, yref, yabs, red, 16) == 0);
  check_sum(out.sum_y, yref, yabs);
  const auto dxref = anycl_test::conv_backward_data(r, hdy, hw);
  const auto dxabs = anycl_test::conv_backward_data(r, abs_of(hdy), abs_of(hw));
  CHECK(anycl_test::count_bad(out.dx, dxref, dxabs, double(r.k) * r.r * r.s, 16) == 0);
  check_sum(out.sum_dx, dxref, dxabs);
  std::vector<float> dwref, dbref, dwabs, dbabs;
  anycl_test::conv_backward_weights(r, hx, hdy, dwref, dbref);
  anycl_test::conv_backward_weights(r, abs_of(hx), abs_of(hdy), dwabs, dbabs);
  const double wred = double(r.n) * r.out_h() * r.out_w();
  CHECK(anycl_test::count_bad(out.dw, dwref, dwabs, wred, 16) == 0);
  CHECK(anycl_test::count_bad(out.dbias, dbref, dbabs, wred, 16) == 0);
  check_sum(out.sum_dw, dwref, dwabs);
}

namespace {

// C1 = A B, C2 = C1 B2, y = conv(C2 as x) by im2col (several kernels), each call waiting for the
// previous one's event only; the first also waits for the caller's writes of A and B and for a
// user event the test holds back.
void check_event_chain(cl_command_queue_properties props) {
  CallerCl cl(props);
  const std::size_t m = 20, k = 17, n = 36;
  const anycl_test::ConvDesc r = {1, 5, 12, 12, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};  // x = C2, 20 x 36 = 5 x 12 x 12
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  REQUIRE(d.x_size() == m * n);
  const auto ha = anycl_test::random_floats(m * k, 1), hb = anycl_test::random_floats(k * n, 2);
  const auto hb2 = anycl_test::random_floats(n * n, 3), hw = anycl_test::random_floats(r.w_size(), 4);
  const std::vector<float> nans(m * n, std::nanf(""));
  Mem a(cl.buffer(std::vector<float>(ha.size(), 0.f))), b(cl.buffer(std::vector<float>(hb.size(), 0.f)));
  Mem b2(cl.buffer(hb2)), w(cl.buffer(hw)), c1(cl.buffer(nans)), c2(cl.buffer(nans)), y(cl.buffer(std::vector<float>(r.y_size())));
  cl_event wa = nullptr, wb = nullptr;
  cl_command_queue q = cl.queues[0];
  REQUIRE(clEnqueueWriteBuffer(q, a.m, CL_FALSE, 0, ha.size() * 4, ha.data(), 0, nullptr, &wa) == CL_SUCCESS);
  REQUIRE(clEnqueueWriteBuffer(q, b.m, CL_FALSE, 0, hb.size() * 4, hb.data(), 0, nullptr, &wb) == CL_SUCCESS);
  cl_int err = CL_SUCCESS;
  const anycl::Event held(clCreateUserEvent(cl.context, &err));
  REQUIRE(err == CL_SUCCESS);
  anycl::Runtime rt(cl.context, cl.queues, anycl_test::test_options());
  anycl::GemmShape s1, s2;
  s1.m = m, s1.n = n, s1.k = k, s1.lda = k, s1.ldb = n, s1.ldc = n;
  s2.m = m, s2.n = n, s2.k = n, s2.lda = n, s2.ldb = n, s2.ldc = n;
  const anycl::Buffer ba = rt.wrap(a.m), bb = rt.wrap(b.m), bb2 = rt.wrap(b2.m), bw = rt.wrap(w.m), bc1 = rt.wrap(c1.m),
                      bc2 = rt.wrap(c2.m), by = rt.wrap(y.m);
  const anycl::Event g1 =
      anycl::gemm<float>(rt, s1, 1.f, ba, 0, bb, 0, 0.f, bc1, 0, {anycl::Event(wa), anycl::Event(wb), held});
  const anycl::Event g2 = anycl::gemm<float>(rt, s2, 1.f, bc1, 0, bb2, 0, 0.f, bc2, 0, {g1});
  const anycl::Event f = anycl::conv2d_forward(rt, d, bc2, bw, nullptr, by, anycl::ConvAlgo::Im2col, {g2});
  anycl_test::check_held_back(g1.native());
  CHECK(anycl_test::status(f.native()) != CL_COMPLETE);
  // On an out-of-order queue the returned events are the caller queue's own markers.
  cl_command_queue ended_on = nullptr;
  REQUIRE(clGetEventInfo(f.native(), CL_EVENT_COMMAND_QUEUE, sizeof ended_on, &ended_on, nullptr) == CL_SUCCESS);
  CHECK(ended_on == (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE ? q : rt.queue(0)));
  REQUIRE(clSetUserEventStatus(held.native(), CL_COMPLETE) == CL_SUCCESS);
  // The caller's clFinish covers anycl's work on either kind of queue.
  REQUIRE(clFinish(q) == CL_SUCCESS);
  CHECK(anycl_test::status(f.native()) == CL_COMPLETE);
  const auto got1 = cl.read(c1.m, m * n), got2 = cl.read(c2.m, m * n), goty = cl.read(y.m, r.y_size());
  CHECK(anycl_test::count_off(got1, anycl_test::gemm_ref(m, n, k, ha, hb)) == 0);
  // Against the C1 anycl produced: a C2 computed from a C1 still being written would differ.
  CHECK(anycl_test::count_off(got2, anycl_test::gemm_ref(m, n, n, got1, hb2)) == 0);
  using anycl_test::abs_of;
  const auto yref = anycl_test::conv_forward(r, got2, hw, {}, false);
  const auto yabs = anycl_test::conv_forward(r, abs_of(got2), abs_of(hw), {}, false);
  CHECK(anycl_test::count_bad(goty, yref, yabs, double(r.c) * r.r * r.s, 16) == 0);
}

}  // namespace

TEST_CASE("An in-order caller queue: calls wait for the caller's events and chain by theirs", "[interop]") {
  check_event_chain(0);
}

TEST_CASE("An out-of-order caller queue: calls wait for the caller's events and chain by theirs", "[interop]") {
  check_event_chain(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
}

TEST_CASE("A wrapped cl_mem at an offset: GEMM writes there and nowhere else", "[interop]") {
  CallerCl cl;
  anycl::Runtime rt(cl.context, cl.queues, anycl_test::test_options());
  const std::size_t align = std::max(4u, rt.device(0).mem_base_addr_align_bytes) / sizeof(float);  // in floats
  const std::size_t m = 9, n = 7, k = 5;
  const auto ha = anycl_test::random_floats(m * k, 1), hb = anycl_test::random_floats(k * n, 2);
  // A, B and C in one caller buffer, A from `align` floats in, C from an aligned element too.
  const std::size_t a_at = align, b_at = a_at + m * k, c_at = (b_at + k * n + align - 1) / align * align;
  std::vector<float> whole(c_at + m * n + align, -7.f);
  std::copy(ha.begin(), ha.end(), whole.begin() + long(a_at));
  std::copy(hb.begin(), hb.end(), whole.begin() + long(b_at));
  Mem mem(cl.buffer(whole));
  // The wrapped view starts at A (a sub-buffer); the GEMM's element offsets are relative to it.
  const anycl::Buffer view = rt.wrap(mem.m, a_at * sizeof(float), (c_at + m * n - a_at) * sizeof(float));
  CHECK(view.bytes() == (c_at + m * n - a_at) * sizeof(float));
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  anycl::gemm<float>(rt, s, 1.f, view, 0, view, b_at - a_at, 0.f, view, c_at - a_at).wait();
  const auto got = cl.read(mem.m, whole.size());
  const auto ref = anycl_test::gemm_ref(m, n, k, ha, hb);
  CHECK(anycl_test::count_off(std::vector<float>(got.begin() + long(c_at), got.begin() + long(c_at + m * n)), ref) == 0);
  for (std::size_t i = 0; i < whole.size(); ++i)
    if (i < a_at || (i >= b_at + k * n && i < c_at) || i >= c_at + m * n) REQUIRE(got[i] == -7.f);

  // A sub-buffer of the caller's, wrapped at an offset: cut from its parent, retained itself.
  const cl_buffer_region region{a_at * sizeof(float), (whole.size() - a_at) * sizeof(float)};
  cl_int err = CL_SUCCESS;
  Mem sub(clCreateSubBuffer(mem.m, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err));
  REQUIRE(err == CL_SUCCESS);
  const cl_uint sub_refs = refs(sub.m);
  {
    const anycl::Buffer c_only = rt.wrap(sub.m, (c_at - a_at) * sizeof(float), m * n * sizeof(float));
    CHECK(refs(sub.m) == sub_refs + 1);
    anycl::gemm<float>(rt, s, 2.f, view, 0, view, b_at - a_at, 0.f, c_only, 0).wait();
  }
  CHECK(refs(sub.m) == sub_refs);
  const auto twice = cl.read(mem.m, m * n, c_at);
  for (std::size_t i = 0; i < m * n; ++i) REQUIRE(std::fabs(twice[i] - 2 * ref.c[i]) <= 2 * ref.bound[i]);

  std::string msg;
  REQUIRE(align > 1);  // else every offset is aligned
  CHECK(anycl_test::status_of([&] { rt.wrap(mem.m, sizeof(float)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_test::contains(msg, "CL_DEVICE_MEM_BASE_ADDR_ALIGN"));
}
