// Exceptions thrown inside libanycl.so (built with hidden visibility) are caught by type in the
// caller: anycl::Error and anycl::BuildError export their typeinfo (ANYCL_API), and this test links
// the shared library only, as a user does. A class whose typeinfo stayed hidden would reach the
// handler of its standard base (or none), and these checks would fail.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "anycl/anycl.hpp"
#include "support.hpp"

TEST_CASE("exceptions from libanycl.so: anycl::Error is caught by type", "[exports][opencl]") {
  bool caught = false;
  try {
    anycl::Runtime rt("no-such-device-anywhere");
  } catch (const anycl::BuildError&) {
    FAIL("a device spec error is no BuildError");
  } catch (const anycl::Error& e) {
    caught = true;
    CHECK(e.status() == ANYCL_ERROR_NO_DEVICE);
  } catch (const std::exception& e) {
    FAIL("reached the std::exception handler: " << e.what());
  }
  CHECK(caught);
}

TEST_CASE("exceptions from libanycl.so: anycl::BuildError is caught by type, and as Error", "[exports][opencl]") {
  anycl_test::TempDir dir;
  anycl_test::copy_kernel_dir(dir.path());
  anycl_test::spit(dir / "gemm_direct.cl",
                   anycl_test::slurp(dir / "gemm_direct.cl") + "\n__kernel void anycl_broken(void) { anycl_undeclared_name; }\n");
  anycl::RuntimeOptions o;
  o.kernel_path = dir.path();
  o.cache = false;
  o.device_spec = "0:0";
  std::string log;
  try {
    anycl::Runtime rt(o);
  } catch (const anycl::BuildError& e) {
    log = e.build_log();
  } catch (const std::exception& e) {
    FAIL("reached the std::exception handler: " << e.what());
  }
  INFO("build log: " << log);
  CHECK(anycl_test::contains(log, "anycl_undeclared_name"));
  bool as_error = false;
  try {
    anycl::Runtime rt(o);
  } catch (const anycl::Error& e) {
    as_error = e.status() == ANYCL_ERROR_BUILD_FAILED;
  }
  CHECK(as_error);
}
