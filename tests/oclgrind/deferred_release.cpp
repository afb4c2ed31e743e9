// Linked into test_kernels_oclgrind only: clReleaseMemObject is deferred until the Catch run
// ends, so no buffer slot of Oclgrind's global memory is ever reused within the run.
//
// Why: Oclgrind 21.10's --uninitialized plugin keeps a shadow per buffer slot and never drops it
// when a buffer is released; Oclgrind hands freed slots to the next clCreateBuffer. A buffer
// created without host data in a reused slot inherits the stale shadow of the released buffer
// (its size and contents): writes past the old size are not recorded, and the next kernel that
// reads them reports "uninitialized value written" although every element was written.
// tests/oclgrind/stale_shadow.cpp reproduces it with raw OpenCL (ctest entry
// oclgrind_stale_shadow). Keeping every buffer alive makes each new buffer start from a fresh,
// fully poisoned shadow of the right size: the check stays complete (it is stricter than with
// stale clean shadows), and no report is filtered.
//
// clEnqueueCopyBuffer (and clEnqueueFillBuffer) is replaced by a byte-copy (byte-fill) kernel
// (tests/oclgrind/copy_buffer.cl) for the same reason: Oclgrind treats a copy as a host-side store, which replaces the destination
// buffer's whole shadow with one of the copied size (stale_shadow `partial`). anycl copies each
// group's packed filter into a pooled workspace; when the pool later hands that buffer out for a
// larger request, kernel writes past the copied size went unrecorded. A kernel copy moves the
// shadow byte for byte (uninitialised source bytes stay uninitialised, and a report names them).
#include <CL/cl.h>
#include <dlfcn.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "oclgrind/deferred_release.hpp"

namespace {

std::mutex& deferred_mutex() {
  static std::mutex mu;
  return mu;
}

std::vector<cl_mem>& deferred() {
  static std::vector<cl_mem> mems;
  return mems;
}

using ReleaseFn = cl_int (*)(cl_mem);

ReleaseFn real_release() {
  static const auto fn = reinterpret_cast<ReleaseFn>(dlsym(RTLD_NEXT, "clReleaseMemObject"));
  return fn;
}

// One built copy program per context (kept until exit: few contexts, tiny programs).
cl_kernel copy_kernel(cl_command_queue queue, const char* name, cl_int* err) {
  static std::mutex mu;
  static std::map<cl_context, cl_program> programs;
  cl_context ctx = nullptr;
  cl_device_id device = nullptr;
  if ((*err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof ctx, &ctx, nullptr)) != CL_SUCCESS ||
      (*err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof device, &device, nullptr)) != CL_SUCCESS)
    return nullptr;
  std::lock_guard<std::mutex> lock(mu);
  cl_program& prog = programs[ctx];
  if (!prog) {
    std::ifstream file(ANYCL_TEST_OCLGRIND_COPY_CL);
    std::stringstream text;
    text << file.rdbuf();
    const std::string src = text.str();
    const char* p = src.c_str();
    prog = clCreateProgramWithSource(ctx, 1, &p, nullptr, err);
    if (*err != CL_SUCCESS || (*err = clBuildProgram(prog, 1, &device, "", nullptr, nullptr)) != CL_SUCCESS) {
      prog = nullptr;
      return nullptr;
    }
  }
  return clCreateKernel(prog, name, err);
}

}  // namespace

extern "C" CL_API_ENTRY cl_int CL_API_CALL clEnqueueCopyBuffer(cl_command_queue queue, cl_mem src, cl_mem dst,
                                                               size_t src_offset, size_t dst_offset, size_t size,
                                                               cl_uint num_events, const cl_event* wait_list,
                                                               cl_event* event) CL_API_SUFFIX__VERSION_1_0 {
  cl_int err = CL_SUCCESS;
  cl_kernel kern = copy_kernel(queue, "copy_bytes", &err);
  if (!kern) return err;
  const cl_ulong so = src_offset, dof = dst_offset;
  if ((err = clSetKernelArg(kern, 0, sizeof src, &src)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 1, sizeof so, &so)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 2, sizeof dst, &dst)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 3, sizeof dof, &dof)) == CL_SUCCESS)
    err = clEnqueueNDRangeKernel(queue, kern, 1, nullptr, &size, nullptr, num_events, wait_list, event);
  clReleaseKernel(kern);
  return err;
}

// A fill is a host-side store too (anycl zeroes the counters of claimed kernels with one).
extern "C" CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue queue, cl_mem dst, const void* pattern,
                                                               size_t pattern_size, size_t offset, size_t size,
                                                               cl_uint num_events, const cl_event* wait_list,
                                                               cl_event* event) CL_API_SUFFIX__VERSION_1_2 {
  cl_int err = CL_SUCCESS;
  cl_context ctx = nullptr;
  if ((err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof ctx, &ctx, nullptr)) != CL_SUCCESS) return err;
  // A fresh buffer of the pattern's size: its shadow is exactly the pattern's bytes.
  cl_mem pat = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, pattern_size, const_cast<void*>(pattern),
                              &err);
  if (err != CL_SUCCESS) return err;
  cl_kernel kern = copy_kernel(queue, "fill_bytes", &err);
  if (!kern) return err;
  const cl_uint ps = cl_uint(pattern_size);
  const cl_ulong off = offset;
  if ((err = clSetKernelArg(kern, 0, sizeof pat, &pat)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 1, sizeof ps, &ps)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 2, sizeof dst, &dst)) == CL_SUCCESS &&
      (err = clSetKernelArg(kern, 3, sizeof off, &off)) == CL_SUCCESS)
    err = clEnqueueNDRangeKernel(queue, kern, 1, nullptr, &size, nullptr, num_events, wait_list, event);
  clReleaseKernel(kern);
  clReleaseMemObject(pat);  // deferred, like every release here
  return err;
}

extern "C" CL_API_ENTRY cl_int CL_API_CALL clReleaseMemObject(cl_mem memobj) CL_API_SUFFIX__VERSION_1_0 {
  if (!memobj) return CL_INVALID_MEM_OBJECT;
  std::lock_guard<std::mutex> lock(deferred_mutex());
  deferred().push_back(memobj);
  return CL_SUCCESS;
}

namespace anycl_test {

std::size_t release_deferred_buffers() {
  std::lock_guard<std::mutex> lock(deferred_mutex());
  const std::size_t n = deferred().size();
  for (cl_mem m : deferred()) real_release()(m);
  deferred().clear();
  return n;
}

}  // namespace anycl_test
