// src/runtime/runtime.cpp, buffer.cpp, host_buffer.cpp, huge_page_buffer.cpp, error.cpp, version.cpp:
// opening a runtime, device slots and programs, buffers (allocation limits, round trips, ranges,
// huge-page workspaces), events, error names, and no platforms at all.
#include <catch2/catch.hpp>
#include <sys/mman.h>

#include <cstring>
#include <numeric>

#include "anycl/anycl.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/host_buffer.hpp"
#include "sched/engine.hpp"
#include "runtime/workspace.hpp"
#include "support.hpp"

using anycl_test::contains;
using anycl_test::status_of;

namespace {

anycl::Runtime& shared_runtime() {
  static anycl::Runtime rt("0:0");
  return rt;
}

}  // namespace

TEST_CASE("a default runtime opens one device and builds every family", "[runtime][opencl]") {
  anycl::RuntimeOptions o;  // not from_env: default spec regardless of ANYCL_DEVICE
  anycl::Runtime rt(o);
  REQUIRE(rt.device_count() == 1);
  const auto& info = rt.device(0);
  CHECK_FALSE(info.name.empty());
  CHECK(anycl_test::fs::exists(rt.kernel_dir() + "/common.h"));
  REQUIRE_FALSE(rt.build_reports().empty());
  for (const auto& r : rt.build_reports()) {
    INFO(r.family << ": " << r.message);
    CHECK(r.ok);
    CHECK(r.device == 0);
    CHECK(r.milliseconds >= 0);
    CHECK(contains(r.options, "-DREAL="));
    CHECK(anycl::detail::engine(rt).slot(0).has_program(r.family));
  }
  const auto& slot = anycl::detail::engine(rt).slot(0);
  CHECK(slot.where() == "device " + info.id + " '" + info.name + "'");
  CHECK(slot.program(rt.build_reports()[0].family).options == rt.build_reports()[0].options);
  CHECK(anycl::detail::engine(rt).ops.gemm_provider == anycl::GemmProvider::Anycl);
}

TEST_CASE("runtime: device index, unknown programs and kernels are reported, not crashed on", "[runtime][opencl]") {
  auto& rt = shared_runtime();
  std::string msg;
  CHECK(status_of([&] { rt.device(rt.device_count()); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "out of range"));
  CHECK(status_of([&] { anycl::detail::engine(rt).slot(0).program("no_such_family"); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
  CHECK(contains(msg, "no_such_family"));
  CHECK(status_of([&] { anycl::detail::engine(rt).slot(0).program("no_such_family_f64"); }) == ANYCL_ERROR_UNSUPPORTED);
  const std::string family = rt.build_reports()[0].family;
  CHECK(status_of([&] { anycl::detail::engine(rt).slot(0).kernel(family, "no_such_kernel"); }, &msg) == ANYCL_ERROR_KERNEL_NOT_FOUND);
  CHECK(contains(msg, "CL_INVALID_KERNEL_NAME"));
  CHECK(status_of([&] { anycl::detail::engine(rt).slot(0).program(family).param("NO_SUCH_PARAM"); }) == ANYCL_ERROR_INTERNAL);
}

TEST_CASE("runtime can be moved", "[runtime][opencl]") {
  anycl::Runtime a("0:0");
  const std::string name = a.device(0).name;
  anycl::Runtime b(std::move(a));
  CHECK(b.device(0).name == name);
  anycl::Runtime c("0:0");
  c = std::move(b);
  CHECK(c.device_count() == 1);
  CHECK(c.device(0).name == name);
}

TEST_CASE("buffers: write/read round trip, offsets, finish", "[runtime][buffer][opencl]") {
  auto& rt = shared_runtime();
  std::vector<float> in(1000);
  std::iota(in.begin(), in.end(), -3.5f);
  const std::size_t bytes = in.size() * sizeof(float);
  anycl::Buffer buf = rt.alloc(bytes);
  REQUIRE(buf);
  CHECK(buf.bytes() == bytes);
  CHECK(buf.device() == 0);
  CHECK(buf.native() != nullptr);
  rt.write(buf, in.data(), bytes);
  std::vector<float> out(in.size(), 0.f);
  rt.read(buf, out.data(), bytes);
  CHECK(out == in);

  // Partial writes and reads at byte offsets.
  const float patch[3] = {100.f, 200.f, 300.f};
  rt.write(buf, patch, sizeof patch, 10 * sizeof(float));
  float back[5] = {};
  rt.read(buf, back, sizeof back, 9 * sizeof(float));
  CHECK(back[0] == in[9]);
  CHECK(back[1] == 100.f);
  CHECK(back[3] == 300.f);
  CHECK(back[4] == in[13]);
  rt.read(buf, back, sizeof(float), bytes - sizeof(float));  // the very last element
  CHECK(back[0] == in.back());
  rt.write(buf, nullptr, 0, bytes);  // empty range at the end: a no-op
  rt.finish();

  anycl::Buffer empty;
  CHECK_FALSE(empty);
  CHECK(empty.bytes() == 0);
  CHECK(empty.native() == nullptr);
}

TEST_CASE("buffers: out-of-range, null and empty arguments are INVALID_ARGUMENT", "[runtime][buffer][opencl]") {
  auto& rt = shared_runtime();
  anycl::Buffer buf = rt.alloc(64);
  char host[128] = {};
  std::string msg;
  CHECK(status_of([&] { rt.read(buf, host, 65); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "exceeds the buffer's 64 bytes"));
  CHECK(status_of([&] { rt.read(buf, host, 1, 64); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.read(buf, host, 8, 60); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.read(buf, host, 1, std::size_t(-1)); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.read(buf, host, std::size_t(-1), 8); }) == ANYCL_ERROR_INVALID_ARGUMENT);  // no overflow
  CHECK(status_of([&] { rt.write(buf, host, 65); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.write(buf, host, 4, 61); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.read(buf, nullptr, 4); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.write(buf, nullptr, 4); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.read(anycl::Buffer(), host, 4); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "empty buffer"));
  CHECK(status_of([&] { rt.alloc(0); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { rt.alloc(16, rt.device_count()); }) == ANYCL_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("buffers: more than the device can hold is OUT_OF_MEMORY, before the driver sees it",
          "[runtime][buffer][opencl]") {
  auto& rt = shared_runtime();
  const auto& info = rt.device(0);
  REQUIRE(info.max_alloc > 0);
  std::string msg;
  CHECK(status_of([&] { rt.alloc(info.max_alloc + 1); }, &msg) == ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(contains(msg, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
  CHECK(contains(msg, std::to_string(info.max_alloc)));
  CHECK(contains(msg, info.name));
  CHECK(status_of([&] { rt.alloc(std::size_t(-1)); }) == ANYCL_ERROR_OUT_OF_MEMORY);

  // The global-memory limit, on a device whose max alloc is (wrongly) above it.
  anycl::DeviceInfo odd = info;
  odd.max_alloc = ~std::uint64_t(0);
  odd.global_mem = 1000;
  CHECK(status_of([&] { anycl::detail::check_allocation(odd, 1001); }, &msg) == ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(contains(msg, "CL_DEVICE_GLOBAL_MEM_SIZE"));
  CHECK(status_of([&] { anycl::detail::check_allocation(odd, 1000); }) == ANYCL_SUCCESS);
}

TEST_CASE("HostBuffer: zero-copy inputs at the base alignment or an element offset past it; outputs reach the caller in download()",
          "[runtime][buffer][opencl]") {
  using anycl::detail::HostAccess;
  auto& rt = shared_runtime();
  const auto& slot = anycl::detail::engine(rt).slot(0);
  const std::size_t align = std::max<std::size_t>(slot.info.mem_base_addr_align_bytes, 64);
  std::vector<unsigned char> storage(4096 + 2 * align);
  auto* aligned = reinterpret_cast<float*>(
      (reinterpret_cast<std::uintptr_t>(storage.data()) + align - 1) / align * align);
  float* misaligned = aligned + 1;
  for (float* host : {aligned, misaligned}) {
    for (int i = 0; i < 256; ++i) host[i] = float(i);
    // An input: the device sees the caller's data, in place where it may.
    anycl::detail::HostBuffer in(slot, host, 256 * sizeof(float), HostAccess::Read);
    CHECK(in.zero_copy() == (slot.info.unified_memory && host == aligned));
    std::vector<float> seen(256, -1.f);
    REQUIRE(clEnqueueReadBuffer(slot.queue.get(), in.mem(), CL_TRUE, 0, 256 * sizeof(float), seen.data(), 0,
                                nullptr, nullptr) == CL_SUCCESS);
    CHECK(seen[255] == 255.f);
    // With an element size, a misaligned input is a view too: it starts at the aligned address
    // before the caller's data, which the device finds offset() elements in.
    anycl::detail::HostBuffer led(slot, host, 256 * sizeof(float), HostAccess::Read, false, sizeof(float));
    CHECK(led.zero_copy() == slot.info.unified_memory);
    CHECK(led.offset() == (led.zero_copy() ? std::size_t(host - aligned) : 0));
    std::fill(seen.begin(), seen.end(), -1.f);
    REQUIRE(clEnqueueReadBuffer(slot.queue.get(), led.mem(), CL_TRUE, led.offset() * sizeof(float),
                                256 * sizeof(float), seen.data(), 0, nullptr, nullptr) == CL_SUCCESS);
    CHECK(seen[0] == 0.f);
    CHECK(seen[255] == 255.f);
    // An output is a device copy: device writes reach the caller in download(), not before.
    for (HostAccess access : {HostAccess::Write, HostAccess::ReadWrite}) {
      anycl::detail::HostBuffer out(slot, host, 256 * sizeof(float), access);
      CHECK_FALSE(out.zero_copy());
      const float v = 42.f;
      REQUIRE(clEnqueueFillBuffer(slot.queue.get(), out.mem(), &v, sizeof v, 0, 256 * sizeof(float), 0, nullptr,
                                  nullptr) == CL_SUCCESS);
      REQUIRE(clFinish(slot.queue.get()) == CL_SUCCESS);
      CHECK(host[7] == 7.f);
      out.download(slot);
      CHECK(host[0] == 42.f);
      CHECK(host[255] == 42.f);
      for (int i = 0; i < 256; ++i) host[i] = float(i);
    }
  }
}

namespace {

// Page-aligned memory that becomes read-only after filling: a write through a view of it faults.
class ReadOnlyPages {
 public:
  explicit ReadOnlyPages(std::size_t bytes) : bytes_(bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    data_ = static_cast<float*>(p);
  }
  ~ReadOnlyPages() { ::munmap(data_, bytes_); }
  ReadOnlyPages(const ReadOnlyPages&) = delete;
  ReadOnlyPages& operator=(const ReadOnlyPages&) = delete;
  float* data() const { return data_; }
  void protect() { REQUIRE(::mprotect(data_, bytes_, PROT_READ) == 0); }

 private:
  std::size_t bytes_;
  float* data_;
};

}  // namespace

// An input view promises the driver the device only reads: CL_MEM_READ_ONLY on the zero-copy
// buffer, so caller memory that is read-only is never written back to.
TEST_CASE("HostBuffer: zero-copy input views are read-only; a GEMM reads read-only memory", "[runtime][buffer][opencl]") {
  auto& rt = shared_runtime();
  const auto& slot = anycl::detail::engine(rt).slot(0);
  const std::size_t m = 64, n = 48, k = 40;
  ReadOnlyPages a(64 * 1024), b(64 * 1024);
  const auto av = anycl_test::random_values(m * k, 11), bv = anycl_test::random_values(k * n, 12);
  std::copy(av.begin(), av.end(), a.data());
  std::copy(bv.begin(), bv.end(), b.data());
  a.protect();
  b.protect();
  {
    anycl::detail::HostBuffer in(slot, a.data(), m * k * sizeof(float), anycl::detail::HostAccess::Read);
    REQUIRE(in.zero_copy() == slot.info.unified_memory);
    cl_mem_flags flags = 0;
    REQUIRE(clGetMemObjectInfo(in.mem(), CL_MEM_FLAGS, sizeof flags, &flags, nullptr) == CL_SUCCESS);
    if (in.zero_copy()) {
      CHECK((flags & CL_MEM_USE_HOST_PTR) != 0);
      CHECK((flags & (CL_MEM_READ_WRITE | CL_MEM_WRITE_ONLY | CL_MEM_READ_ONLY)) == CL_MEM_READ_ONLY);
    }
  }
  std::vector<float> c(m * n, 0.0f);
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  anycl::gemm(rt, s, 1.0f, static_cast<const float*>(a.data()), static_cast<const float*>(b.data()), 0.0f, c.data());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double want = 0;
      for (std::size_t p = 0; p < k; ++p) want += double(av[i * k + p]) * bv[p * n + j];
      CHECK(c[i * n + j] == Approx(want).margin(1e-5));
    }
}

TEST_CASE("workspace: big buffers on a CPU device live in 2 MiB-aligned host memory; data round-trips",
          "[runtime][buffer][opencl]") {
  auto& rt = shared_runtime();
  const auto& slot = anycl::detail::engine(rt).slot(0);
  REQUIRE(slot.info.type == "cpu");  // the test runtime is POCL's CPU device
  REQUIRE(slot.info.unified_memory);
  anycl::detail::WorkspacePool pool;
  auto host_ptr = [&](const boost::compute::buffer& b) {
    void* p = nullptr;
    REQUIRE(clGetMemObjectInfo(b.get(), CL_MEM_HOST_PTR, sizeof p, &p, nullptr) == CL_SUCCESS);
    return reinterpret_cast<std::uintptr_t>(p);
  };
  const std::size_t big = (std::size_t(6) << 20) + 12, small = std::size_t(1) << 20;
  boost::compute::buffer b = pool.acquire(*slot.context, slot.info, big);
  CHECK(b.size() == big);
  CHECK(host_ptr(b) != 0);
  CHECK(host_ptr(b) % (std::size_t(2) << 20) == 0);
  // The device's writes are what a read returns, at both ends of the buffer.
  const float v = 3.5f;
  REQUIRE(clEnqueueFillBuffer(slot.queue.get(), b.get(), &v, sizeof v, 0, big / 4 * 4, 0, nullptr, nullptr) ==
          CL_SUCCESS);
  std::vector<float> seen(big / 4, 0.f);
  REQUIRE(clEnqueueReadBuffer(slot.queue.get(), b.get(), CL_TRUE, 0, seen.size() * 4, seen.data(), 0, nullptr,
                              nullptr) == CL_SUCCESS);
  CHECK(seen.front() == 3.5f);
  CHECK(seen.back() == 3.5f);
  // Small buffers stay the driver's own allocations.
  boost::compute::buffer s = pool.acquire(*slot.context, slot.info, small);
  CHECK(host_ptr(s) == 0);
}

TEST_CASE("events: default is invalid, copies share the native event", "[runtime][opencl]") {
  anycl::Event none;
  CHECK_FALSE(none.valid());
  none.wait();  // a no-op
  auto& rt = shared_runtime();
  cl_int err = CL_SUCCESS;
  cl_event user = clCreateUserEvent(anycl::detail::engine(rt).slot(0).context->get(), &err);
  REQUIRE(err == CL_SUCCESS);
  clSetUserEventStatus(user, CL_COMPLETE);
  anycl::Event e(user);
  {
    anycl::Event copy = e;
    CHECK(copy.native() == user);
    anycl::Event assigned;
    assigned = copy;
    CHECK(assigned.valid());
    assigned.wait();
  }
  cl_uint refs = 0;
  REQUIRE(clGetEventInfo(user, CL_EVENT_REFERENCE_COUNT, sizeof refs, &refs, nullptr) == CL_SUCCESS);
  CHECK(refs == 1);  // the copies released what they retained
}

TEST_CASE("error names and statuses for OpenCL codes", "[runtime][error]") {
  CHECK(anycl::detail::cl_error_name(CL_OUT_OF_RESOURCES) == "CL_OUT_OF_RESOURCES");
  CHECK(anycl::detail::cl_error_name(CL_BUILD_PROGRAM_FAILURE) == "CL_BUILD_PROGRAM_FAILURE");
  CHECK(anycl::detail::cl_error_name(-1001) == "CL_PLATFORM_NOT_FOUND_KHR");
  CHECK(anycl::detail::cl_error_name(-1234) == "CL_UNKNOWN_ERROR(-1234)");
  CHECK(anycl::detail::status_for(CL_MEM_OBJECT_ALLOCATION_FAILURE) == ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(anycl::detail::status_for(CL_INVALID_BINARY) == ANYCL_ERROR_BUILD_FAILED);
  CHECK(anycl::detail::status_for(CL_DEVICE_NOT_FOUND) == ANYCL_ERROR_NO_DEVICE);
  CHECK(anycl::detail::status_for(CL_INVALID_VALUE) == ANYCL_ERROR_OPENCL);
  std::string msg;
  CHECK(status_of([] { anycl::detail::check(CL_OUT_OF_HOST_MEMORY, "clFoo", "device X"); }, &msg) ==
        ANYCL_ERROR_OUT_OF_MEMORY);
  CHECK(msg == "clFoo failed on device X: CL_OUT_OF_HOST_MEMORY");
  CHECK_NOTHROW(anycl::detail::check(CL_SUCCESS, "clFoo", "x"));
  const anycl::BuildError be("msg", "log text");
  CHECK(be.status() == ANYCL_ERROR_BUILD_FAILED);
  CHECK(be.build_log() == "log text");
  CHECK(std::string(anycl::version()) == ANYCL_TEST_VERSION);
}

// Registered as its own ctest entry with OCL_ICD_VENDORS pointing at an empty folder.
TEST_CASE("no OpenCL platforms: NO_DEVICE with a helpful message, no crash", "[.no-platforms]") {
  std::vector<std::string> warnings;
  CHECK(anycl::discover(&warnings).empty());
  CHECK(warnings.empty());  // "no platforms" is an answer, not a failure
  std::string msg;
  CHECK(status_of([] { anycl::Runtime rt; }, &msg) == ANYCL_ERROR_NO_DEVICE);
  CHECK(contains(msg, "no OpenCL platform"));
  CHECK(contains(msg, "ICD"));
  CHECK(status_of([] { anycl::Runtime rt("cpu"); }) == ANYCL_ERROR_NO_DEVICE);
  CHECK(status_of([] { anycl::Runtime rt("0:0/2"); }) == ANYCL_ERROR_NO_DEVICE);
}
