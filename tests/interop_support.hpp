// Helpers for the interop tests: the caller's own OpenCL objects (made here with raw OpenCL, not
// through anycl), their reference counts, and event states.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "anycl/anycl.hpp"
#include "support.hpp"

namespace anycl_test {

// One cl_uint or cl_int property of a handle, through its clGet*Info.
template <typename T, typename Query, typename Handle, typename Info>
T info(Query query, Handle h, Info what) {
  T v = 0;
  REQUIRE(query(h, what, sizeof v, &v, nullptr) == CL_SUCCESS);
  return v;
}

inline cl_uint raw_refs(cl_context c) { return info<cl_uint>(clGetContextInfo, c, CL_CONTEXT_REFERENCE_COUNT); }
inline cl_uint raw_refs(cl_command_queue q) { return info<cl_uint>(clGetCommandQueueInfo, q, CL_QUEUE_REFERENCE_COUNT); }
inline cl_uint raw_refs(cl_mem m) { return info<cl_uint>(clGetMemObjectInfo, m, CL_MEM_REFERENCE_COUNT); }
inline cl_uint raw_refs(cl_event e) { return info<cl_uint>(clGetEventInfo, e, CL_EVENT_REFERENCE_COUNT); }

// A handle's reference count once it held still for 100 ms (or after 5 s): POCL's finished
// commands and their events drop the references they hold on queues, contexts and buffers a
// little after they end.
template <typename Handle>
cl_uint refs(Handle h) {
  cl_uint last = raw_refs(h);
  for (int still = 0, tries = 0; still < 5 && tries < 250; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const cl_uint now = raw_refs(h);
    still = now == last ? still + 1 : 0;
    last = now;
  }
  return last;
}
inline cl_int status(cl_event e) { return info<cl_int>(clGetEventInfo, e, CL_EVENT_COMMAND_EXECUTION_STATUS); }

// The first CPU device (POCL on the test machines), found without anycl.
inline cl_device_id cpu_device() {
  cl_uint np = 0;
  REQUIRE(clGetPlatformIDs(0, nullptr, &np) == CL_SUCCESS);
  std::vector<cl_platform_id> ps(np);
  REQUIRE(clGetPlatformIDs(np, ps.data(), nullptr) == CL_SUCCESS);
  for (cl_platform_id p : ps) {
    cl_device_id d = nullptr;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_CPU, 1, &d, nullptr) == CL_SUCCESS && d) return d;
  }
  FAIL("no OpenCL CPU device");
  return nullptr;
}

// A caller's context with one queue on each of `devices` (the queues' properties given); the
// caller's references, released on destruction.
struct CallerCl {
  cl_context context = nullptr;
  std::vector<cl_command_queue> queues;
  explicit CallerCl(const std::vector<cl_device_id>& devices, cl_command_queue_properties props = 0) {
    cl_int err = CL_SUCCESS;
    context = clCreateContext(nullptr, cl_uint(devices.size()), devices.data(), nullptr, nullptr, &err);
    REQUIRE(err == CL_SUCCESS);
    for (cl_device_id d : devices) {
      queues.push_back(clCreateCommandQueue(context, d, props, &err));
      REQUIRE(err == CL_SUCCESS);
    }
  }
  explicit CallerCl(cl_command_queue_properties props = 0) : CallerCl(std::vector<cl_device_id>{cpu_device()}, props) {}
  ~CallerCl() {
    for (cl_command_queue q : queues) clReleaseCommandQueue(q);
    clReleaseContext(context);
  }
  CallerCl(const CallerCl&) = delete;
  CallerCl& operator=(const CallerCl&) = delete;

  // A buffer of the context holding `values` (written before return), released by the caller.
  cl_mem buffer(const std::vector<float>& values) const {
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE, values.size() * sizeof(float), nullptr, &err);
    REQUIRE(err == CL_SUCCESS);
    REQUIRE(clEnqueueWriteBuffer(queues[0], m, CL_TRUE, 0, values.size() * sizeof(float), values.data(), 0, nullptr,
                                 nullptr) == CL_SUCCESS);
    return m;
  }
  std::vector<float> read(cl_mem m, std::size_t count, std::size_t offset = 0) const {
    std::vector<float> v(count);
    REQUIRE(clEnqueueReadBuffer(queues[0], m, CL_TRUE, offset * sizeof(float), count * sizeof(float), v.data(), 0,
                                nullptr, nullptr) == CL_SUCCESS);
    return v;
  }
};

// A cl_mem released at scope exit (the caller's reference).
struct Mem {
  cl_mem m;
  explicit Mem(cl_mem m) : m(m) {}
  ~Mem() {
    if (m) clReleaseMemObject(m);
  }
  Mem(const Mem&) = delete;
  Mem& operator=(const Mem&) = delete;
};

inline std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// Row-major C = A B (m x k times k x n) in double, and the bound a float result may miss it by.
struct GemmRef {
  std::vector<double> c, bound;
};
inline GemmRef gemm_ref(std::size_t m, std::size_t n, std::size_t k, const std::vector<float>& a,
                        const std::vector<float>& b) {
  GemmRef r{std::vector<double>(m * n), std::vector<double>(m * n)};
  const double eps = std::numeric_limits<float>::epsilon();
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0, abs = 0;
      for (std::size_t p = 0; p < k; ++p) {
        s += double(a[i * k + p]) * b[p * n + j];
        abs += std::fabs(double(a[i * k + p]) * b[p * n + j]);
      }
      r.c[i * n + j] = s;
      r.bound[i * n + j] = 2.0 * double(k + 2) * eps * abs + 1e-30;
    }
  return r;
}

inline std::size_t count_off(const std::vector<float>& got, const GemmRef& ref) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - ref.c[i]) <= ref.bound[i]) && bad++ < 3)
      UNSCOPED_INFO("element " << i << ": " << got[i] << " vs " << ref.c[i]);
  return bad;
}

inline anycl::RuntimeOptions test_options() {
  anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env();
  o.kernel_path = source_kernel_dir();
  return o;
}

// The event stays pending while its wait list is held back (checked for a while, not forever).
inline void check_held_back(cl_event e) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(status(e) != CL_COMPLETE);
}

}  // namespace anycl_test
