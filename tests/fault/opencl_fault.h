/* The OpenCL fault injector's control interface (tests/fault/opencl_fault.c).
 *
 * The injector defines a few OpenCL entry points in front of the ICD loader's (linked into a
 * test executable that exports its symbols, or LD_PRELOADed) and forwards every call to the real
 * function, except the one call it was armed to fail. */
#ifndef ANYCL_OPENCL_FAULT_H
#define ANYCL_OPENCL_FAULT_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fails the nth call (1 = the next one) of `entry` made from now on with `error`, once. Only
 * calls for a platform whose CL_PLATFORM_NAME contains `platform_filter` count when the filter is
 * not NULL (clGetDeviceIDs only). Returns 0, or -1 for an entry the injector does not wrap or
 * nth < 1. Arming resets the counters. */
int anycl_fault_arm(const char* entry, long nth, cl_int error, const char* platform_filter);

/* Stops injecting; calls pass through untouched. */
void anycl_fault_disarm(void);

/* Failures injected since the last arm (0 or 1): lets a test prove its fault really fired. */
long anycl_fault_fired(void);

/* Calls of the armed entry counted since the last arm. */
long anycl_fault_seen(void);

#ifdef __cplusplus
}
#endif

#endif
