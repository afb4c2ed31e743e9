/* anycl C API: a thin, exception-free shim over the C++ API (anycl.hpp).
 * Every function returns a status; anycl_last_error() gives this thread's detailed message. */
#ifndef ANYCL_ANYCL_H
#define ANYCL_ANYCL_H

#include <stddef.h>

#include "anycl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum anycl_status {
  ANYCL_SUCCESS = 0,
  ANYCL_ERROR_INVALID_ARGUMENT,
  ANYCL_ERROR_NO_DEVICE,
  ANYCL_ERROR_UNSUPPORTED,
  ANYCL_ERROR_OUT_OF_MEMORY,
  ANYCL_ERROR_BUILD_FAILED,
  ANYCL_ERROR_KERNEL_NOT_FOUND,
  ANYCL_ERROR_OPENCL,
  ANYCL_ERROR_INTERNAL
} anycl_status;

typedef struct anycl_runtime anycl_runtime;

/* device_spec: NULL or "" = the default device (see README, "Device spec"). */
anycl_status anycl_runtime_create(const char* device_spec, anycl_runtime** out);
void anycl_runtime_destroy(anycl_runtime* rt);
size_t anycl_runtime_device_count(const anycl_runtime* rt);
const char* anycl_runtime_device_name(const anycl_runtime* rt, size_t i);
/* Frees the device memory the runtime keeps for reuse between calls (see
 * anycl::Runtime::release_workspace). */
anycl_status anycl_runtime_release_workspace(anycl_runtime* rt);
const char* anycl_status_string(anycl_status s);
const char* anycl_last_error(void); /* this thread's last detailed message */

/* ---- GEMM (CBLAS semantics and enum values) ---- */
typedef enum anycl_layout { ANYCL_ROW_MAJOR = 101, ANYCL_COL_MAJOR = 102 } anycl_layout;
typedef enum anycl_transpose { ANYCL_NO_TRANS = 111, ANYCL_TRANS = 112 } anycl_transpose;

anycl_status anycl_sgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                         anycl_transpose trans_b, size_t m, size_t n, size_t k, float alpha,
                         const float* a, size_t lda, const float* b, size_t ldb, float beta,
                         float* c, size_t ldc);
/* ANYCL_ERROR_UNSUPPORTED where the device has no fp64. */
anycl_status anycl_dgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                         anycl_transpose trans_b, size_t m, size_t n, size_t k, double alpha,
                         const double* a, size_t lda, const double* b, size_t ldb, double beta,
                         double* c, size_t ldc);
/* Matrix i of a batch starts at a + i * stride_a (likewise b, c). */
anycl_status anycl_sgemm_strided_batched(anycl_runtime* rt, anycl_layout layout,
                                         anycl_transpose trans_a, anycl_transpose trans_b,
                                         size_t m, size_t n, size_t k, float alpha,
                                         const float* a, size_t lda, size_t stride_a,
                                         const float* b, size_t ldb, size_t stride_b,
                                         float beta, float* c, size_t ldc, size_t stride_c,
                                         size_t batch_count);
anycl_status anycl_dgemm_strided_batched(anycl_runtime* rt, anycl_layout layout,
                                         anycl_transpose trans_a, anycl_transpose trans_b,
                                         size_t m, size_t n, size_t k, double alpha,
                                         const double* a, size_t lda, size_t stride_a,
                                         const double* b, size_t ldb, size_t stride_b,
                                         double beta, double* c, size_t ldc, size_t stride_c,
                                         size_t batch_count);
/* Pointer-array batch: matrix i is a[i], b[i], c[i]; all share sizes and scalars. */
anycl_status anycl_sgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                                 anycl_transpose trans_b, size_t m, size_t n, size_t k,
                                 float alpha, const float* const* a, size_t lda,
                                 const float* const* b, size_t ldb, float beta, float* const* c,
                                 size_t ldc, size_t batch_count);
anycl_status anycl_dgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                                 anycl_transpose trans_b, size_t m, size_t n, size_t k,
                                 double alpha, const double* const* a, size_t lda,
                                 const double* const* b, size_t ldb, double beta,
                                 double* const* c, size_t ldc, size_t batch_count);

/* Which GEMM implementation serves calls on this runtime. */
typedef enum anycl_gemm_provider { ANYCL_GEMM_ANYCL = 0, ANYCL_GEMM_CLBLAST = 1 } anycl_gemm_provider;
anycl_status anycl_runtime_set_gemm_provider(anycl_runtime* rt, anycl_gemm_provider provider);

/* ---- 2-D convolution, NCHW float32 ---- */
typedef struct anycl_conv2d_desc {
  size_t n, c, h, w, k, r, s;
  size_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w,
      groups;
  int relu; /* forward only: y = max(0, conv + bias) */
} anycl_conv2d_desc;

anycl_status anycl_conv2d_output_size(const anycl_conv2d_desc* d, size_t* p, size_t* q);
anycl_status anycl_conv2d_forward(anycl_runtime* rt, const anycl_conv2d_desc* d, const float* x,
                                  const float* w, const float* bias /* may be NULL */, float* y);
anycl_status anycl_conv2d_backward_data(anycl_runtime* rt, const anycl_conv2d_desc* d,
                                        const float* dy, const float* w, float* dx);
anycl_status anycl_conv2d_backward_weights(anycl_runtime* rt, const anycl_conv2d_desc* d,
                                           const float* x, const float* dy, float* dw,
                                           float* dbias /* may be NULL */);

/* ---- Multi-device scheduling (docs/multi-device.md) ---- */
/* How host-pointer GEMM and convolution calls split over a runtime's devices: DATA splits m
 * (GEMM) or the batch (conv), MODEL splits n or the output channels, HYBRID both. */
typedef enum anycl_parallel {
  ANYCL_PARALLEL_AUTO = 0,
  ANYCL_PARALLEL_DATA,
  ANYCL_PARALLEL_MODEL,
  ANYCL_PARALLEL_HYBRID
} anycl_parallel;
anycl_status anycl_runtime_set_parallel(anycl_runtime* rt, anycl_parallel mode);
/* One relative throughput per device (count = device count, each >= 0, one > 0); share of work
 * is proportional. weights = NULL and count = 0 go back to measured weights. */
anycl_status anycl_runtime_set_device_weights(anycl_runtime* rt, const double* weights, size_t count);

/* The find step (README, Convolution): times every algorithm that applies to (device, d, pass)
 * on scratch tensors once, keeps the winner in memory and in the on-disk cache. *algo gets the
 * winner; times_ms (may be NULL) gets ANYCL_CONV_ALGO_COUNT entries, times_ms[a - 1] for
 * algorithm a, negative for one that does not apply; *timed (may be NULL) is 0 when the answer
 * came from memory or the cache. */
typedef enum anycl_conv_algo {
  ANYCL_CONV_AUTO = 0,
  ANYCL_CONV_IM2COL = 1,
  ANYCL_CONV_GEMM1X1 = 2,
  ANYCL_CONV_DIRECT = 3,
  ANYCL_CONV_WINOGRAD = 4
} anycl_conv_algo;
#define ANYCL_CONV_ALGO_COUNT 4
typedef enum anycl_conv_pass {
  ANYCL_CONV_FORWARD = 0,
  ANYCL_CONV_BACKWARD_DATA = 1,
  ANYCL_CONV_BACKWARD_WEIGHTS = 2
} anycl_conv_pass;
anycl_status anycl_conv2d_find(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_pass pass,
                               size_t device, anycl_conv_algo* algo, double* times_ms, int* timed);
/* Nonzero: the default algorithm runs the find winner (ANYCL_CONV_FIND=1 sets it at creation). */
anycl_status anycl_runtime_set_conv_find(anycl_runtime* rt, int on);

#ifdef __cplusplus
}
#endif

/* ---- Interop: the caller's own OpenCL objects (docs/interop.md) ---- */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A runtime on the caller's context with one queue per device (in-order or out-of-order, all of
 * `context`); device i is queues[i]'s device. anycl retains what it keeps and releases only that
 * on anycl_runtime_destroy. Kernels, cache and binaries come from the environment as for
 * anycl_runtime_create. A refused call retains nothing. */
ANYCL_API anycl_status anycl_runtime_create_from_queues(cl_context context,
                                                        const cl_command_queue* queues,
                                                        size_t queue_count, anycl_runtime** out);

/* A caller's cl_mem (of the runtime's context) as device memory of device `device`, without a
 * copy: `bytes` from byte `offset` (bytes 0: up to its end; a nonzero offset a multiple of the
 * device's CL_DEVICE_MEM_BASE_ADDR_ALIGN). Retains mem until anycl_buffer_destroy. */
typedef struct anycl_buffer anycl_buffer;
ANYCL_API anycl_status anycl_buffer_wrap(anycl_runtime* rt, cl_mem mem, size_t offset, size_t bytes,
                                         size_t device, anycl_buffer** out);
ANYCL_API void anycl_buffer_destroy(anycl_buffer* buffer);

/* Asynchronous calls on buffers: none of the call's work starts before the num_events events of
 * wait_list completed; *event (if event is not NULL) gets one event that completes when all of
 * it is done, which the caller releases with clReleaseEvent. Offsets are in elements. */
ANYCL_API anycl_status anycl_sgemm_buffers(
    anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a, anycl_transpose trans_b,
    size_t m, size_t n, size_t k, float alpha, const anycl_buffer* a, size_t a_offset, size_t lda,
    const anycl_buffer* b, size_t b_offset, size_t ldb, float beta, const anycl_buffer* c,
    size_t c_offset, size_t ldc, cl_uint num_events, const cl_event* wait_list, cl_event* event);
ANYCL_API anycl_status anycl_dgemm_buffers(
    anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a, anycl_transpose trans_b,
    size_t m, size_t n, size_t k, double alpha, const anycl_buffer* a, size_t a_offset,
    size_t lda, const anycl_buffer* b, size_t b_offset, size_t ldb, double beta,
    const anycl_buffer* c, size_t c_offset, size_t ldc, cl_uint num_events,
    const cl_event* wait_list, cl_event* event);
/* Matrix i of the batch starts stride_a elements after matrix i - 1 (likewise b, c). */
ANYCL_API anycl_status anycl_sgemm_strided_batched_buffers(
    anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a, anycl_transpose trans_b,
    size_t m, size_t n, size_t k, float alpha, const anycl_buffer* a, size_t a_offset, size_t lda,
    size_t stride_a, const anycl_buffer* b, size_t b_offset, size_t ldb, size_t stride_b,
    float beta, const anycl_buffer* c, size_t c_offset, size_t ldc, size_t stride_c,
    size_t batch_count, cl_uint num_events, const cl_event* wait_list, cl_event* event);
ANYCL_API anycl_status anycl_dgemm_strided_batched_buffers(
    anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a, anycl_transpose trans_b,
    size_t m, size_t n, size_t k, double alpha, const anycl_buffer* a, size_t a_offset,
    size_t lda, size_t stride_a, const anycl_buffer* b, size_t b_offset, size_t ldb,
    size_t stride_b, double beta, const anycl_buffer* c, size_t c_offset, size_t ldc,
    size_t stride_c, size_t batch_count, cl_uint num_events, const cl_event* wait_list,
    cl_event* event);

/* Convolution on buffers (NCHW float32, tensors from each buffer's start). */
ANYCL_API anycl_status anycl_conv2d_forward_buffers(
    anycl_runtime* rt, const anycl_conv2d_desc* d, const anycl_buffer* x, const anycl_buffer* w,
    const anycl_buffer* bias /* may be NULL */, const anycl_buffer* y, anycl_conv_algo algo,
    cl_uint num_events, const cl_event* wait_list, cl_event* event);
ANYCL_API anycl_status anycl_conv2d_backward_data_buffers(
    anycl_runtime* rt, const anycl_conv2d_desc* d, const anycl_buffer* dy, const anycl_buffer* w,
    const anycl_buffer* dx, anycl_conv_algo algo, cl_uint num_events, const cl_event* wait_list,
    cl_event* event);
ANYCL_API anycl_status anycl_conv2d_backward_weights_buffers(
    anycl_runtime* rt, const anycl_conv2d_desc* d, const anycl_buffer* x, const anycl_buffer* dy,
    const anycl_buffer* dw, const anycl_buffer* dbias /* may be NULL */, anycl_conv_algo algo,
    cl_uint num_events, const cl_event* wait_list, cl_event* event);

#ifdef __cplusplus
}
#endif

#endif /* ANYCL_ANYCL_H */
