// The caller's objects under bad input (docs/interop.md): a clear error naming the argument,
// nothing queued, the caller's objects and their reference counts as they were; and what anycl's
// own references keep alive after the caller drops its own.
#include <catch2/catch.hpp>

#include <cmath>

#include "interop_support.hpp"
#include "plan_support.hpp"

using anycl_test::CallerCl;
using anycl_test::Mem;
using anycl_test::refs;
using anycl_test::status_of;

namespace {

// `call` is refused with ANYCL_ERROR_INVALID_ARGUMENT and a message holding every one of `words`.
void check_refused(const std::function<void()>& call, std::initializer_list<const char*> words) {
  std::string msg;
  CHECK(status_of(call, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  for (const char* word : words) {
    INFO(msg);
    CHECK(anycl_test::contains(msg, word));
  }
}

// Nothing of a refused call waits in the queue: a marker queued after it completes although the
// call's wait list held an event that is never set before the check.
void check_queue_free(cl_command_queue q) {
  cl_event marker = nullptr;
  REQUIRE(clEnqueueMarkerWithWaitList(q, 0, nullptr, &marker) == CL_SUCCESS);
  REQUIRE(clFlush(q) == CL_SUCCESS);
  for (int i = 0; i < 100 && anycl_test::status(marker) != CL_COMPLETE; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(anycl_test::status(marker) == CL_COMPLETE);
  clReleaseEvent(marker);
}

}  // namespace

TEST_CASE("Caller queues: bad handles are refused by name and leave the caller's objects as they were", "[interop]") {
  CallerCl mine, other;
  const cl_command_queue q = mine.queues[0], foreign = other.queues[0];
  const cl_uint ctx_refs = refs(mine.context), q_refs = refs(q), other_refs = refs(other.context),
                foreign_refs = refs(foreign);
  const auto opts = anycl_test::test_options();
  check_refused([&] { anycl::Runtime(mine.context, {foreign}, opts); }, {"queues[0]", "another context"});
  check_refused([&] { anycl::Runtime(mine.context, {q, foreign}, opts); }, {"queues[1]", "another context"});
  check_refused([&] { anycl::Runtime(nullptr, {q}, opts); }, {"context is NULL"});
  check_refused([&] { anycl::Runtime(mine.context, {}, opts); }, {"queues is empty"});
  check_refused([&] { anycl::Runtime(mine.context, {nullptr}, opts); }, {"queues[0] is NULL"});
  check_refused([&] { anycl::Runtime(mine.context, {q, q}, opts); }, {"queues[0] and queues[1]", "same device"});
  CHECK(refs(mine.context) == ctx_refs);
  CHECK(refs(q) == q_refs);
  CHECK(refs(other.context) == other_refs);
  CHECK(refs(foreign) == foreign_refs);
}

TEST_CASE("Wrapping a cl_mem too small or of another context or NULL is refused with refcounts kept", "[interop]") {
  CallerCl mine, other;
  anycl::Runtime rt(mine.context, mine.queues, anycl_test::test_options());
  Mem own(mine.buffer(std::vector<float>(64, 1.f))), foreign(other.buffer(std::vector<float>(64, 1.f)));
  const cl_uint own_refs = refs(own.m), foreign_refs = refs(foreign.m);
  check_refused([&] { rt.wrap(foreign.m); }, {"Runtime::wrap", "mem", "another OpenCL context"});
  check_refused([&] { rt.wrap(own.m, 0, 65 * sizeof(float)); }, {"mem holds 256 bytes", "260 bytes"});
  check_refused([&] { rt.wrap(own.m, 257); }, {"mem holds 256 bytes", "offset 257"});
  check_refused([&] { rt.wrap(own.m, 256); }, {"leaves no bytes"});
  check_refused([&] { rt.wrap(nullptr); }, {"mem is NULL"});
  CHECK(status_of([&] { rt.wrap(own.m, 0, 0, 1); }) == ANYCL_ERROR_INVALID_ARGUMENT);  // no device 1
  CHECK(refs(own.m) == own_refs);
  CHECK(refs(foreign.m) == foreign_refs);
}

TEST_CASE("Device-buffer calls: a bad wait list or operand queues nothing and touches nothing", "[interop]") {
  CallerCl mine, other;
  const cl_command_queue q = mine.queues[0];
  anycl::Runtime rt(mine.context, mine.queues, anycl_test::test_options());
  const std::size_t n = 8;
  Mem a(mine.buffer(anycl_test::random_floats(n * n, 1))), c(mine.buffer(std::vector<float>(n * n, 3.f)));
  const anycl::Buffer ba = rt.wrap(a.m), bc = rt.wrap(c.m), small = rt.wrap(c.m, 0, n * sizeof(float));
  cl_int err = CL_SUCCESS;
  const anycl::Event held(clCreateUserEvent(mine.context, &err)), foreign(clCreateUserEvent(other.context, &err));
  REQUIRE(err == CL_SUCCESS);
  const cl_uint held_refs = refs(held.native()), foreign_refs = refs(foreign.native());
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
  anycl::Conv2d d;
  d.c = 1, d.h = d.w = n, d.k = 1;
  check_refused([&] { anycl::gemm<float>(rt, s, 1.f, ba, 0, ba, 0, 0.f, bc, 0, {held, foreign}); },
                {"anycl::gemm", "wait[1]", "another OpenCL context"});
  check_refused([&] { anycl::gemm<float>(rt, s, 1.f, ba, 0, ba, 0, 0.f, bc, 0, {held, anycl::Event()}); },
                {"wait[1] is an empty event"});
  check_refused([&] { anycl::gemm<float>(rt, s, 1.f, ba, 0, ba, 0, 0.f, small, 0, {held}); }, {"buffer c"});
  check_refused([&] { anycl::conv2d_forward(rt, d, ba, ba, nullptr, bc, anycl::ConvAlgo::Auto, {held, foreign}); },
                {"wait[1]", "another OpenCL context"});
  check_refused([&] { anycl::conv2d_backward_data(rt, d, ba, ba, small, anycl::ConvAlgo::Auto, {held}); },
                {"buffer dx"});
  check_queue_free(q);
  CHECK(refs(held.native()) == held_refs);
  CHECK(refs(foreign.native()) == foreign_refs);
  const auto after = mine.read(c.m, n * n);
  for (float v : after) REQUIRE(v == 3.f);
  REQUIRE(clSetUserEventStatus(held.native(), CL_COMPLETE) == CL_SUCCESS);
}

TEST_CASE("anycl's references keep the caller's objects alive after the caller released its own", "[interop]") {
  const cl_device_id dev = anycl_test::cpu_device();
  cl_int err = CL_SUCCESS;
  cl_context ctx = clCreateContext(nullptr, 1, &dev, nullptr, nullptr, &err);
  REQUIRE(err == CL_SUCCESS);
  cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &err);
  REQUIRE(err == CL_SUCCESS);
  const std::size_t n = 16;
  const auto ha = anycl_test::random_floats(n * n, 1), hb = anycl_test::random_floats(n * n, 2);
  cl_mem mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 3 * n * n * sizeof(float), nullptr, &err);
  REQUIRE(err == CL_SUCCESS);
  anycl::Runtime rt(ctx, {q}, anycl_test::test_options());
  anycl::Buffer whole = rt.wrap(mem);
  clReleaseMemObject(mem);
  clReleaseCommandQueue(q);
  clReleaseContext(ctx);
  rt.write(whole, ha.data(), n * n * sizeof(float));
  rt.write(whole, hb.data(), n * n * sizeof(float), n * n * sizeof(float));
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
  anycl::gemm<float>(rt, s, 1.f, whole, 0, whole, n * n, 0.f, whole, 2 * n * n).wait();
  std::vector<float> got(n * n);
  rt.read(whole, got.data(), n * n * sizeof(float), 2 * n * n * sizeof(float));
  CHECK(anycl_test::count_off(got, anycl_test::gemm_ref(n, n, n, ha, hb)) == 0);
}

TEST_CASE("Caller queues on two sub-devices: a split device-buffer call keeps the wait-list contract", "[interop]") {
  const cl_device_id parent = anycl_test::cpu_device();
  cl_uint units = 0;
  REQUIRE(clGetDeviceInfo(parent, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, nullptr) == CL_SUCCESS);
  REQUIRE(units >= 2);
  const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY, cl_device_partition_property(units / 2),
                                                0};
  cl_device_id subs[2] = {nullptr, nullptr};
  REQUIRE(clCreateSubDevices(parent, props, 2, subs, nullptr) == CL_SUCCESS);
  {
    CallerCl cl({subs[0], subs[1]});
    anycl::Runtime rt(cl.context, cl.queues, anycl_test::test_options());
    REQUIRE(rt.device_count() == 2);
    anycl::set_device_weights(rt, {1.0, 1.0});
    anycl::set_parallel(rt, anycl::Parallel::Data);
    const std::size_t n = 256;
    anycl::GemmShape s;
    s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
    REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s, 1.f, 0)).size() == 2);
    const auto ha = anycl_test::random_floats(n * n, 1), hb = anycl_test::random_floats(n * n, 2);
    Mem a(cl.buffer(ha)), b(cl.buffer(hb)), c(cl.buffer(std::vector<float>(n * n, std::nanf(""))));
    cl_int err = CL_SUCCESS;
    const anycl::Event held(clCreateUserEvent(cl.context, &err));
    REQUIRE(err == CL_SUCCESS);
    const anycl::Event done = anycl::gemm<float>(rt, s, 1.f, rt.wrap(a.m), 0, rt.wrap(b.m), 0, 0.f, rt.wrap(c.m), 0, {held});
    anycl_test::check_held_back(done.native());
    // Neither device's piece ran: C read through a queue of the test's own is untouched.
    cl_command_queue peek = clCreateCommandQueue(cl.context, subs[1], 0, &err);
    REQUIRE(err == CL_SUCCESS);
    std::vector<float> early(n * n);
    REQUIRE(clEnqueueReadBuffer(peek, c.m, CL_TRUE, 0, n * n * sizeof(float), early.data(), 0, nullptr, nullptr) ==
            CL_SUCCESS);
    clReleaseCommandQueue(peek);
    CHECK(std::all_of(early.begin(), early.end(), [](float v) { return std::isnan(v); }));
    REQUIRE(clSetUserEventStatus(held.native(), CL_COMPLETE) == CL_SUCCESS);
    done.wait();
    CHECK(anycl_test::count_off(cl.read(c.m, n * n), anycl_test::gemm_ref(n, n, n, ha, hb)) == 0);
  }
  clReleaseDevice(subs[0]);
  clReleaseDevice(subs[1]);
}

TEST_CASE("Caller queues: the runtime options apply and a failing start releases what it retained", "[interop]") {
  CallerCl cl;
  const cl_uint ctx_refs = refs(cl.context), q_refs = refs(cl.queues[0]);
  // A kernel folder of the caller's choosing that holds common.h and nothing else: the queue is
  // adopted, then the first kernel family cannot be read from there.
  anycl_test::TempDir kernels;
  anycl_test::spit(kernels / "common.h", "// empty\n");
  anycl::RuntimeOptions o = anycl_test::test_options();
  o.kernel_path = kernels.path();
  std::string msg;
  CHECK(status_of([&] { anycl::Runtime(cl.context, cl.queues, o); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
  CHECK(anycl_test::contains(msg, kernels.path()));
  CHECK(refs(cl.context) == ctx_refs);
  CHECK(refs(cl.queues[0]) == q_refs);
}
