/* OpenCL fault injector: fails the Nth call of one chosen OpenCL entry point with a chosen error
 * and forwards every other call to the real function (dlsym(RTLD_NEXT)). Armed at run time with
 * anycl_fault_arm() (opencl_fault.h) or at load time from the environment:
 *
 *   ANYCL_FAULT="<entry>:<nth>:<CL error name or number>[:<platform name substring>]"
 *   e.g. ANYCL_FAULT=clCreateBuffer:3:CL_MEM_OBJECT_ALLOCATION_FAILURE
 *        ANYCL_FAULT=clGetDeviceIDs:1:CL_DEVICE_NOT_AVAILABLE:Oclgrind
 *
 * Works in front of the ICD loader because the process resolves cl* symbols in load order: the
 * test executable (built with exported symbols) or an LD_PRELOADed libanycl_fault.so comes before
 * libOpenCL, for anycl, Boost.Compute (header-only, inside libanycl) and CLBlast alike. */
#define _GNU_SOURCE
#include "opencl_fault.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* const wrapped[] = {"clGetDeviceIDs",  "clCreateContext",        "clCreateBuffer",
                                      "clBuildProgram",  "clEnqueueNDRangeKernel", "clEnqueueReadBuffer",
                                      "clSetUserEventStatus"};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char entry[64];
  char filter[128];
  long nth, seen, fired;
  cl_int error;
} plan;

static int is_wrapped(const char* entry) {
  for (size_t i = 0; i < sizeof wrapped / sizeof wrapped[0]; ++i)
    if (strcmp(entry, wrapped[i]) == 0) return 1;
  return 0;
}

int anycl_fault_arm(const char* entry, long nth, cl_int error, const char* platform_filter) {
  if (!entry || !is_wrapped(entry) || nth < 1) return -1;
  pthread_mutex_lock(&mu);
  snprintf(plan.entry, sizeof plan.entry, "%s", entry);
  snprintf(plan.filter, sizeof plan.filter, "%s", platform_filter ? platform_filter : "");
  plan.nth = nth;
  plan.error = error;
  plan.seen = plan.fired = 0;
  pthread_mutex_unlock(&mu);
  return 0;
}

void anycl_fault_disarm(void) {
  pthread_mutex_lock(&mu);
  plan.entry[0] = '\0';
  pthread_mutex_unlock(&mu);
}

long anycl_fault_fired(void) {
  pthread_mutex_lock(&mu);
  const long n = plan.fired;
  pthread_mutex_unlock(&mu);
  return n;
}

long anycl_fault_seen(void) {
  pthread_mutex_lock(&mu);
  const long n = plan.seen;
  pthread_mutex_unlock(&mu);
  return n;
}

static int platform_matches(cl_platform_id platform, const char* filter) {
  char name[256] = {0};
  if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof name - 1, name, NULL) != CL_SUCCESS) return 0;
  return strstr(name, filter) != NULL;
}

/* The error to return instead of calling through, or CL_SUCCESS to call through. */
static cl_int injected(const char* entry, cl_platform_id platform) {
  cl_int err = CL_SUCCESS;
  pthread_mutex_lock(&mu);
  if (strcmp(entry, plan.entry) == 0 && (!plan.filter[0] || (platform && platform_matches(platform, plan.filter)))) {
    if (++plan.seen == plan.nth) {
      ++plan.fired;
      err = plan.error;
    }
  }
  pthread_mutex_unlock(&mu);
  return err;
}

/* The next definition of `name` after this object: the ICD loader's. */
static void* real(const char* name, void** cache) {
  void* f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
  if (!f) {
    f = dlsym(RTLD_NEXT, name);
    if (!f) {
      fprintf(stderr, "anycl_fault: no next definition of %s\n", name);
      abort();
    }
    __atomic_store_n(cache, f, __ATOMIC_RELEASE);
  }
  return f;
}

#define REAL(name)            \
  static void* name##_real_;  \
  __typeof__(&name) next = (__typeof__(&name))real(#name, &name##_real_)

cl_int clGetDeviceIDs(cl_platform_id platform, cl_device_type type, cl_uint num_entries, cl_device_id* devices,
                      cl_uint* num_devices) {
  REAL(clGetDeviceIDs);
  const cl_int err = injected("clGetDeviceIDs", platform);
  return err != CL_SUCCESS ? err : next(platform, type, num_entries, devices, num_devices);
}

cl_context clCreateContext(const cl_context_properties* props, cl_uint num_devices, const cl_device_id* devices,
                           void(CL_CALLBACK* notify)(const char*, const void*, size_t, void*), void* user_data,
                           cl_int* errcode_ret) {
  REAL(clCreateContext);
  const cl_int err = injected("clCreateContext", NULL);
  if (err == CL_SUCCESS) return next(props, num_devices, devices, notify, user_data, errcode_ret);
  if (errcode_ret) *errcode_ret = err;
  return NULL;
}

cl_mem clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void* host_ptr, cl_int* errcode_ret) {
  REAL(clCreateBuffer);
  const cl_int err = injected("clCreateBuffer", NULL);
  if (err == CL_SUCCESS) return next(context, flags, size, host_ptr, errcode_ret);
  if (errcode_ret) *errcode_ret = err;
  return NULL;
}

cl_int clBuildProgram(cl_program program, cl_uint num_devices, const cl_device_id* devices, const char* options,
                      void(CL_CALLBACK* notify)(cl_program, void*), void* user_data) {
  REAL(clBuildProgram);
  const cl_int err = injected("clBuildProgram", NULL);
  return err != CL_SUCCESS ? err : next(program, num_devices, devices, options, notify, user_data);
}

cl_int clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims, const size_t* offset,
                              const size_t* global, const size_t* local, cl_uint num_events, const cl_event* wait_list,
                              cl_event* event) {
  REAL(clEnqueueNDRangeKernel);
  const cl_int err = injected("clEnqueueNDRangeKernel", NULL);
  return err != CL_SUCCESS ? err : next(queue, kernel, dims, offset, global, local, num_events, wait_list, event);
}

cl_int clEnqueueReadBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size,
                           void* ptr, cl_uint num_events, const cl_event* wait_list, cl_event* event) {
  REAL(clEnqueueReadBuffer);
  const cl_int err = injected("clEnqueueReadBuffer", NULL);
  return err != CL_SUCCESS ? err : next(queue, buffer, blocking, offset, size, ptr, num_events, wait_list, event);
}

cl_int clSetUserEventStatus(cl_event event, cl_int status) {
  REAL(clSetUserEventStatus);
  const cl_int err = injected("clSetUserEventStatus", NULL);
  return err != CL_SUCCESS ? err : next(event, status);
}

/* ---- ANYCL_FAULT, read once at load ---- */

static cl_int error_code(const char* text) {
  static const struct {
    const char* name;
    cl_int code;
  } names[] = {{"CL_DEVICE_NOT_FOUND", CL_DEVICE_NOT_FOUND},
               {"CL_DEVICE_NOT_AVAILABLE", CL_DEVICE_NOT_AVAILABLE},
               {"CL_MEM_OBJECT_ALLOCATION_FAILURE", CL_MEM_OBJECT_ALLOCATION_FAILURE},
               {"CL_OUT_OF_RESOURCES", CL_OUT_OF_RESOURCES},
               {"CL_OUT_OF_HOST_MEMORY", CL_OUT_OF_HOST_MEMORY},
               {"CL_BUILD_PROGRAM_FAILURE", CL_BUILD_PROGRAM_FAILURE},
               {"CL_INVALID_VALUE", CL_INVALID_VALUE},
               {"CL_INVALID_OPERATION", CL_INVALID_OPERATION}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (strcmp(text, names[i].name) == 0) return names[i].code;
  char* end = NULL;
  const long v = strtol(text, &end, 10);
  return *text && end && *end == '\0' ? (cl_int)v : CL_SUCCESS;
}

__attribute__((constructor)) static void arm_from_environment(void) {
  const char* spec = getenv("ANYCL_FAULT");
  if (!spec || !*spec) return;
  char copy[256];
  snprintf(copy, sizeof copy, "%s", spec);
  char* save = NULL;
  const char* entry = strtok_r(copy, ":", &save);
  const char* nth = strtok_r(NULL, ":", &save);
  const char* error = strtok_r(NULL, ":", &save);
  const char* filter = strtok_r(NULL, "", &save);
  const cl_int code = error ? error_code(error) : CL_SUCCESS;
  if (!entry || !nth || code == CL_SUCCESS || anycl_fault_arm(entry, atol(nth), code, filter) != 0)
    fprintf(stderr, "anycl_fault: ignoring ANYCL_FAULT='%s' (want entry:nth:CL_ERROR[:platform])\n", spec);
}
