// The C API's runtime options, device information, settings getters, convolution algorithm choice
// and version (src/capi/options_c.cpp, device_info_c.cpp, settings_c.cpp, conv2d_algo_c.cpp). The
// checks themselves are C99 (test_capi_settings_c.c); this file runs them and holds what needs
// C++: folders, and OpenCL's own answers about the device.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"
#include "cl_device_query.hpp"
#include "support.hpp"

extern "C" {
int capi_options_checks(const char* kernel_dir, const char* headers_only_dir);
int capi_create_with_cache(const char* device_spec, const char* kernel_dir, const char* cache_dir, int cache);
int capi_device_info(const char* device_spec, anycl_device_info* info, char* id_out, char* name_out, size_t size);
int capi_getters(const char* device_spec, int clblast_built);
int capi_conv_algo(const char* device_spec, const anycl_conv2d_desc* d, int pass, anycl_conv_algo algo, double tol,
                   anycl_status* status);
int capi_conv_select(const char* device_spec, const anycl_conv2d_desc* d, anycl_status* status);
int capi_conv_small_workspace(const char* device_spec, const anycl_conv2d_desc* d, size_t cap);
int capi_version(const char* expected);
}

namespace fs = std::filesystem;
using anycl_test::raw;
using anycl_test::raw_string;

namespace {

const char* const kDevice = "0:0";

anycl_conv2d_desc desc(size_t n, size_t c, size_t h, size_t w, size_t k, size_t r, size_t pad) {
  anycl_conv2d_desc d{};
  d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = r, d.s = r;
  d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = d.groups = 1;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
  return d;
}

std::size_t files_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  std::size_t count = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) count += e.is_regular_file();
  return count;
}

}  // namespace

TEST_CASE("C API: anycl_version is the configured version", "[capi]") {
  CHECK(capi_version(ANYCL_TEST_VERSION) == 0);
  CHECK(std::string(anycl_version()) == anycl::version());
}

TEST_CASE("C API: runtime options init and every refusal of a bad struct", "[capi][opencl]") {
  anycl_test::TempDir kernels;
  fs::copy_file(std::string(ANYCL_TEST_KERNEL_DIR) + "/common.h", kernels / "common.h");
  const int failed = capi_options_checks(ANYCL_TEST_KERNEL_DIR, kernels.path().c_str());
  INFO("last error: " << anycl_last_error());
  CHECK(failed == 0);
}

TEST_CASE("C API: the options' cache folder and cache switch are used", "[capi][opencl]") {
  anycl_test::TempDir dir;
  const std::string on = dir / "cache-on", off = dir / "cache-off";
  REQUIRE(capi_create_with_cache(kDevice, ANYCL_TEST_KERNEL_DIR, on.c_str(), 1) == 0);
  CHECK(files_in(on) > 0);  // the program binaries were stored there
  REQUIRE(capi_create_with_cache(kDevice, ANYCL_TEST_KERNEL_DIR, off.c_str(), 0) == 0);
  CHECK(files_in(off) == 0);
}

TEST_CASE("C API: device information matches OpenCL's answers", "[capi][opencl]") {
  anycl_device_info info{};
  char id[256] = "", name[256] = "";
  REQUIRE(capi_device_info(kDevice, &info, id, name, sizeof id) == 0);
  // OpenCL's own answers for the device the runtime opened (its queue's device).
  anycl::Runtime rt(kDevice);
  cl_device_id dev = nullptr;
  REQUIRE(clGetCommandQueueInfo(rt.queue(0), CL_QUEUE_DEVICE, sizeof dev, &dev, nullptr) == CL_SUCCESS);
  CHECK(info.compute_units == raw<cl_uint>(dev, CL_DEVICE_MAX_COMPUTE_UNITS));
  CHECK(info.global_mem_bytes == raw<cl_ulong>(dev, CL_DEVICE_GLOBAL_MEM_SIZE));
  CHECK(info.local_mem_bytes == raw<cl_ulong>(dev, CL_DEVICE_LOCAL_MEM_SIZE));
  CHECK(info.max_alloc_bytes == raw<cl_ulong>(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE));
  CHECK(info.global_mem_cache_bytes == raw<cl_ulong>(dev, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE));
  CHECK(info.global_mem_cacheline_bytes == raw<cl_uint>(dev, CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE));
  CHECK(info.clock_mhz == raw<cl_uint>(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY));
  CHECK((info.fp64 != 0) == (raw<cl_device_fp_config>(dev, CL_DEVICE_DOUBLE_FP_CONFIG) != 0));
  const cl_device_type type = raw<cl_device_type>(dev, CL_DEVICE_TYPE);
  CHECK(info.type == ((type & CL_DEVICE_TYPE_GPU)           ? ANYCL_DEVICE_GPU
                      : (type & CL_DEVICE_TYPE_CPU)         ? ANYCL_DEVICE_CPU
                      : (type & CL_DEVICE_TYPE_ACCELERATOR) ? ANYCL_DEVICE_ACCELERATOR
                                                            : ANYCL_DEVICE_CUSTOM));
  CHECK(info.is_sub_device == 0);
  CHECK(std::string(id) == "0:0");
  CHECK(std::string(name) == raw_string(dev, CL_DEVICE_NAME));
}

TEST_CASE("C API: getters read back what the setters set", "[capi][opencl]") {
  const int failed = capi_getters(kDevice, ANYCL_TEST_HAVE_CLBLAST);
  INFO("last error: " << anycl_last_error());
  CHECK(failed == 0);
}

TEST_CASE("C API: convolution with each algorithm matches plain loops", "[capi][opencl][conv]") {
  anycl_status status = ANYCL_SUCCESS;
  const anycl_conv2d_desc three = desc(2, 4, 9, 7, 5, 3, 1), one = desc(2, 6, 5, 4, 3, 1, 0);
  // Winograd's transforms lose a few more bits than the direct sums: 1e-3 of the largest value.
  const double tol = 1e-3;
  for (int pass = 0; pass < 3; ++pass)
    for (anycl_conv_algo a : {ANYCL_CONV_AUTO, ANYCL_CONV_IM2COL, ANYCL_CONV_DIRECT, ANYCL_CONV_WINOGRAD}) {
      INFO("3x3, pass " << pass << ", algo " << int(a));
      CHECK(capi_conv_algo(kDevice, &three, pass, a, tol, &status) == 0);
      CHECK(status == ANYCL_SUCCESS);  // Winograd serves every pass, backward-weights included
    }
  for (int pass = 0; pass < 3; ++pass) {
    INFO("1x1, pass " << pass);
    CHECK(capi_conv_algo(kDevice, &one, pass, ANYCL_CONV_GEMM1X1, tol, &status) == 0);
    CHECK(status == ANYCL_SUCCESS);
  }
  // ImplicitGemm serves forward and backward-weights; backward-data is refused.
  for (int pass = 0; pass < 3; ++pass) {
    INFO("3x3, pass " << pass << ", ImplicitGemm");
    CHECK(capi_conv_algo(kDevice, &three, pass, ANYCL_CONV_IMPLICIT_GEMM, tol, &status) == 0);
    CHECK(status == (pass == 1 ? ANYCL_ERROR_UNSUPPORTED : ANYCL_SUCCESS));
  }
  // Gemm1x1 on a 3x3 filter does not apply; 9 is no algorithm. The output stays untouched.
  CHECK(capi_conv_algo(kDevice, &three, 0, ANYCL_CONV_GEMM1X1, tol, &status) == 0);
  CHECK(status == ANYCL_ERROR_UNSUPPORTED);
  CHECK(capi_conv_algo(kDevice, &three, 1, static_cast<anycl_conv_algo>(9), tol, &status) == 0);
  CHECK(status == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_test::contains(anycl_last_error(), "not an anycl_conv_algo"));
}

TEST_CASE("C API: anycl_conv2d_select gives the selector's pick", "[capi][opencl][conv]") {
  anycl_status status = ANYCL_SUCCESS;
  anycl::Runtime rt(kDevice);
  for (const anycl_conv2d_desc& d : {desc(2, 6, 5, 4, 3, 1, 0), desc(2, 4, 9, 7, 5, 3, 1), desc(1, 64, 12, 12, 64, 3, 1)}) {
    anycl::Conv2d c;
    c.n = d.n, c.c = d.c, c.h = d.h, c.w = d.w, c.k = d.k, c.r = d.r, c.s = d.s;
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = d.pad_top;
    CHECK(capi_conv_select(kDevice, &d, &status) == int(anycl::conv2d_select(rt, c)));
    CHECK(status == ANYCL_SUCCESS);
  }
  // The rules as documented: pointwise forward is Gemm1x1, wide 3x3 stride 1 is Winograd.
  const anycl_conv2d_desc pointwise = desc(2, 6, 5, 4, 3, 1, 0), wide = desc(1, 64, 12, 12, 64, 3, 1);
  CHECK(capi_conv_select(kDevice, &pointwise, &status) == ANYCL_CONV_GEMM1X1);
  CHECK(capi_conv_select(kDevice, &wide, &status) == ANYCL_CONV_WINOGRAD);
  anycl_conv2d_desc bad = pointwise;
  bad.stride_h = 0;
  CHECK(capi_conv_select(kDevice, &bad, &status) == -1);
  CHECK(status == ANYCL_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("C API: a small convolution workspace cap still computes the right result", "[capi][opencl][conv]") {
  const anycl_conv2d_desc d = desc(4, 3, 10, 9, 4, 3, 1);
  // One image's im2col columns: c*r*s x p*q floats = 27 x 90 x 4 bytes; the cap forces chunks.
  CHECK(capi_conv_small_workspace(kDevice, &d, 27 * 90 * 4) == 0);
}
