// src/capi/runtime_c.cpp: the C boundary: status strings, anycl_last_error (thread-local), NULL
// arguments, device names, errors as statuses; the C half (test_capi_c.c) compiles as C99.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"
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
