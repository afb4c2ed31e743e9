// Runtime::wrap_host: the caller's host memory as a device Buffer, used in place where the device
// shares host memory, refused with a clear error where it cannot be.
#include <catch2/catch.hpp>

#include <cmath>

#include "anycl/gemm.hpp"
#include "interop_support.hpp"
#include "support.hpp"

namespace {

using anycl_test::HostFloats;

const anycl::DeviceInfo* device_without_shared_memory() {
  static const auto found = [] {
    std::optional<anycl::DeviceInfo> d;
    for (const auto& platform : anycl::discover())
      for (const auto& device : platform.devices)
        if (!device.unified_memory && !d) d = device;
    return d;
  }();
  return found ? &*found : nullptr;
}

}  // namespace

TEST_CASE("wrap_host: GEMM reads and writes the caller's memory in place", "[wrap_host]") {
  anycl::Runtime rt(anycl_test::test_options());
  REQUIRE(rt.device(0).unified_memory);  // the test devices (POCL) share host memory
  const std::size_t m = 9, n = 7, k = 5;
  const auto ha = anycl_test::random_floats(m * k, 1), hb = anycl_test::random_floats(k * n, 2);
  HostFloats a(ha, true), b(hb, true), c(std::vector<float>(m * n, -7.f), true);
  const anycl::Buffer wa = rt.wrap_host(a.p, m * k * sizeof(float)), wb = rt.wrap_host(b.p, k * n * sizeof(float));
  const anycl::Buffer wc = rt.wrap_host(c.p, m * n * sizeof(float));
  CHECK(wc.bytes() == m * n * sizeof(float));
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  anycl::gemm<float>(rt, s, 1.f, wa, 0, wb, 0, 0.f, wc, 0).wait();
  // No read: the result is in the caller's memory once the call finished.
  CHECK(anycl_test::count_off(c.values(), anycl_test::gemm_ref(m, n, k, ha, hb)) == 0);

  // The caller's later writes are what the next call reads, and what Runtime::read returns.
  auto doubled = ha;
  for (std::size_t i = 0; i < m * k; ++i) a.p[i] = doubled[i] = 2 * ha[i];
  anycl::gemm<float>(rt, s, 1.f, wa, 0, wb, 0, 0.f, wc, 0).wait();
  CHECK(anycl_test::count_off(c.values(), anycl_test::gemm_ref(m, n, k, doubled, hb)) == 0);
  std::vector<float> read(m * k);
  rt.read(wa, read.data(), read.size() * sizeof(float));
  CHECK(read == doubled);
}

TEST_CASE("wrap_host: refused with the reason where the memory cannot be used in place", "[wrap_host]") {
  anycl::Runtime rt(anycl_test::test_options());
  HostFloats misaligned(std::vector<float>(64, 1.f), false);  // one float past a page
  std::string msg;
  REQUIRE(rt.device(0).mem_base_addr_align_bytes > sizeof(float));
  CHECK(anycl_test::status_of([&] { rt.wrap_host(misaligned.p, 64 * sizeof(float)); }, &msg) ==
        ANYCL_ERROR_UNSUPPORTED);
  CHECK(anycl_test::contains(msg, "Runtime::wrap_host"));
  CHECK(anycl_test::contains(msg, "4 bytes past a multiple of"));
  CHECK(anycl_test::contains(msg, "CL_DEVICE_MEM_BASE_ADDR_ALIGN"));
  CHECK(misaligned.values() == std::vector<float>(64, 1.f));

  CHECK(anycl_test::status_of([&] { rt.wrap_host(nullptr, 16); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_test::contains(msg, "host is NULL"));
  HostFloats aligned(std::vector<float>(64, 1.f), true);
  CHECK(anycl_test::status_of([&] { rt.wrap_host(aligned.p, 0); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_test::status_of([&] { rt.wrap_host(aligned.p, 64, rt.device_count()); }) != ANYCL_SUCCESS);
}

TEST_CASE("wrap_host: a device that does not share host memory refuses", "[wrap_host]") {
  const anycl::DeviceInfo* d = device_without_shared_memory();
  if (!d) {
    WARN("every OpenCL device here shares host memory; the refusal is covered by the alignment case only");
    return;
  }
  auto options = anycl_test::test_options();
  options.device_spec = d->id;
  anycl::Runtime rt(options);
  HostFloats aligned(std::vector<float>(64, 1.f), true);
  std::string msg;
  CHECK(anycl_test::status_of([&] { rt.wrap_host(aligned.p, 64 * sizeof(float)); }, &msg) == ANYCL_ERROR_UNSUPPORTED);
  CHECK(anycl_test::contains(msg, "does not share host memory"));
}
