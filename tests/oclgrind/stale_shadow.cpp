// Minimal raw-OpenCL reproducer of the Oclgrind 21.10 --uninitialized artefact that
// tests/oclgrind/deferred_release.cpp works around (why there). Run under
// `oclgrind --uninitialized`:
//   stale_shadow keep  <stale_shadow.cl>   a 64-byte host-initialised buffer stays alive: clean.
//   stale_shadow reuse <stale_shadow.cl>   it is released first, so the 1 KiB buffer created
//       next without data takes its slot and inherits its 64-byte shadow: add_one reports
//       "uninitialized value written" for elements 16..255, which `fill` did write.
//   stale_shadow partial <stale_shadow.cl> nothing is released, but 64 bytes are copied into the
//       1 KiB buffer with clEnqueueCopyBuffer before `fill`: a host-side store replaces the
//       buffer's shadow with one of the stored size, so the same 240 reports follow.
// Both modes check every result, so the reports cannot be real uninitialised reads. The ctest
// entry oclgrind_stale_shadow expects no report for `keep` and reports for `reuse`; when an
// Oclgrind release drops a released buffer's shadow, it fails, and the workaround can go.
#include <CL/cl.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool ok(cl_int err, const char* what) {
  if (err != CL_SUCCESS) std::fprintf(stderr, "%s failed: %d\n", what, err);
  return err == CL_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s keep|reuse|partial stale_shadow.cl\n", argv[0]);
    return 2;
  }
  const bool reuse = std::strcmp(argv[1], "reuse") == 0, partial = std::strcmp(argv[1], "partial") == 0;
  std::ifstream file(argv[2]);
  std::stringstream text;
  text << file.rdbuf();
  const std::string src = text.str();
  const char* src_ptr = src.c_str();
  cl_platform_id platform;
  cl_device_id device;
  cl_int err = clGetPlatformIDs(1, &platform, nullptr);
  if (!ok(err, "clGetPlatformIDs") || !ok(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, nullptr), "clGetDeviceIDs"))
    return 2;
  cl_context ctx = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &err);
  cl_command_queue queue = clCreateCommandQueue(ctx, device, 0, &err);
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src_ptr, nullptr, &err);
  if (!ok(clBuildProgram(prog, 1, &device, "", nullptr, nullptr), "clBuildProgram")) return 2;
  cl_kernel fill = clCreateKernel(prog, "fill", &err);
  cl_kernel add_one = clCreateKernel(prog, "add_one", &err);

  std::vector<float> host(16, 1.f);
  cl_mem small = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, 64, host.data(), &err);
  if (reuse) clReleaseMemObject(small);  // its slot goes back to Oclgrind's free list
  const std::size_t n = 256;
  cl_mem big = clCreateBuffer(ctx, CL_MEM_READ_WRITE, n * sizeof(float), nullptr, &err);
  cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE, n * sizeof(float), nullptr, &err);
  if (partial)  // a host-side store of the first 64 bytes only (as a workspace reused for a copy)
    clEnqueueCopyBuffer(queue, small, big, 0, 0, 64, 0, nullptr, nullptr);
  clSetKernelArg(fill, 0, sizeof big, &big);
  clSetKernelArg(add_one, 0, sizeof big, &big);
  clSetKernelArg(add_one, 1, sizeof out, &out);
  if (!ok(clEnqueueNDRangeKernel(queue, fill, 1, nullptr, &n, nullptr, 0, nullptr, nullptr), "fill") ||
      !ok(clEnqueueNDRangeKernel(queue, add_one, 1, nullptr, &n, nullptr, 0, nullptr, nullptr), "add_one"))
    return 2;
  std::vector<float> got(n);
  if (!ok(clEnqueueReadBuffer(queue, out, CL_TRUE, 0, n * sizeof(float), got.data(), 0, nullptr, nullptr), "read"))
    return 2;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) wrong += got[i] != float(i) + 1.f;
  std::printf("%s: %zu of %zu results wrong\n", argv[1], wrong, n);
  clReleaseMemObject(big);
  clReleaseMemObject(out);
  if (!reuse) clReleaseMemObject(small);
  clReleaseKernel(fill);
  clReleaseKernel(add_one);
  clReleaseProgram(prog);
  clReleaseCommandQueue(queue);
  clReleaseContext(ctx);
  return wrong == 0 ? 0 : 1;
}
