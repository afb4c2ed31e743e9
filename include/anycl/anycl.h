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
ANYCL_API anycl_status anycl_runtime_create(const char* device_spec, anycl_runtime** out);
ANYCL_API void anycl_runtime_destroy(anycl_runtime* rt);
ANYCL_API size_t anycl_runtime_device_count(const anycl_runtime* rt);
ANYCL_API const char* anycl_runtime_device_name(const anycl_runtime* rt, size_t i);
/* Frees the device memory the runtime keeps for reuse between calls (see
 * anycl::Runtime::release_workspace). */
ANYCL_API anycl_status anycl_runtime_release_workspace(anycl_runtime* rt);
ANYCL_API const char* anycl_status_string(anycl_status s);
ANYCL_API const char* anycl_last_error(void); /* this thread's last detailed message */
/* The library's version, e.g. "0.1.0"; static storage. */
ANYCL_API const char* anycl_version(void);

/* ---- Runtime options (anycl::RuntimeOptions) ----
 * Versioned by struct_size: anycl_runtime_options_init sets it to the size this header declares;
 * a library refuses a larger struct (from a newer header) with ANYCL_ERROR_UNSUPPORTED. */
typedef struct anycl_runtime_options {
  size_t struct_size;
  const char* device_spec; /* NULL or "": ANYCL_DEVICE, else the default device */
  const char* kernel_path; /* tried first; then ANYCL_KERNEL_PATH, the install prefix, build tree */
  const char* cache_dir;   /* NULL or "": ANYCL_CACHE_DIR, then $XDG_CACHE_HOME/anycl */
  const char* binary_path; /* NULL or "": ANYCL_BINARY_PATH, then <kernel dir>/binaries */
  int cache;               /* nonzero: use the on-disk binary cache */
  int binary_only;         /* nonzero: never compile, load prebuilt binaries only */
} anycl_runtime_options;
/* Defaults from the environment, as anycl::RuntimeOptions::from_env: strings NULL, cache off
 * when ANYCL_CACHE=off or 0, binary_only on when ANYCL_BINARY_ONLY=1. */
ANYCL_API void anycl_runtime_options_init(anycl_runtime_options* options);
ANYCL_API anycl_status anycl_runtime_create_with_options(const anycl_runtime_options* options,
                                                         anycl_runtime** out);

/* ---- Device information (anycl::DeviceInfo) ----
 * Set struct_size = sizeof(anycl_device_info) before the call (a caller built against an earlier
 * anycl.h, whose struct ends at is_sub_device, passes that size and gets the fields it has); the
 * strings live as long as the runtime. */
typedef enum anycl_device_type {
  ANYCL_DEVICE_CPU = 0,
  ANYCL_DEVICE_GPU,
  ANYCL_DEVICE_ACCELERATOR,
  ANYCL_DEVICE_CUSTOM
} anycl_device_type;
typedef struct anycl_device_info {
  size_t struct_size;
  const char* id; /* "P:D" as anycl-query numbers devices; sub-devices add ".S" */
  const char* name;
  const char* vendor;
  const char* version;
  const char* driver_version;
  const char* platform_name;
  anycl_device_type type;
  unsigned compute_units;
  unsigned clock_mhz;
  unsigned long long global_mem_bytes;
  unsigned long long local_mem_bytes;
  unsigned long long max_alloc_bytes;
  int fp64;
  int fp16;
  int unified_memory;
  int is_sub_device;
  unsigned long long global_mem_cache_bytes; /* CL_DEVICE_GLOBAL_MEM_CACHE_SIZE (0: none reported) */
  unsigned global_mem_cacheline_bytes;       /* CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE */
} anycl_device_info;
ANYCL_API anycl_status anycl_runtime_device_info(const anycl_runtime* rt, size_t device,
                                                 anycl_device_info* info);

/* ---- GEMM (CBLAS semantics and enum values) ---- */
typedef enum anycl_layout { ANYCL_ROW_MAJOR = 101, ANYCL_COL_MAJOR = 102 } anycl_layout;
typedef enum anycl_transpose { ANYCL_NO_TRANS = 111, ANYCL_TRANS = 112 } anycl_transpose;

ANYCL_API anycl_status anycl_sgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                         anycl_transpose trans_b, size_t m, size_t n, size_t k, float alpha,
                         const float* a, size_t lda, const float* b, size_t ldb, float beta,
                         float* c, size_t ldc);
/* ANYCL_ERROR_UNSUPPORTED where the device has no fp64. */
ANYCL_API anycl_status anycl_dgemm(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                         anycl_transpose trans_b, size_t m, size_t n, size_t k, double alpha,
                         const double* a, size_t lda, const double* b, size_t ldb, double beta,
                         double* c, size_t ldc);
/* Matrix i of a batch starts at a + i * stride_a (likewise b, c). */
ANYCL_API anycl_status anycl_sgemm_strided_batched(anycl_runtime* rt, anycl_layout layout,
                                         anycl_transpose trans_a, anycl_transpose trans_b,
                                         size_t m, size_t n, size_t k, float alpha,
                                         const float* a, size_t lda, size_t stride_a,
                                         const float* b, size_t ldb, size_t stride_b,
                                         float beta, float* c, size_t ldc, size_t stride_c,
                                         size_t batch_count);
ANYCL_API anycl_status anycl_dgemm_strided_batched(anycl_runtime* rt, anycl_layout layout,
                                         anycl_transpose trans_a, anycl_transpose trans_b,
                                         size_t m, size_t n, size_t k, double alpha,
                                         const double* a, size_t lda, size_t stride_a,
                                         const double* b, size_t ldb, size_t stride_b,
                                         double beta, double* c, size_t ldc, size_t stride_c,
                                         size_t batch_count);
/* Pointer-array batch: matrix i is a[i], b[i], c[i]; all share sizes and scalars. */
ANYCL_API anycl_status anycl_sgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                                 anycl_transpose trans_b, size_t m, size_t n, size_t k,
                                 float alpha, const float* const* a, size_t lda,
                                 const float* const* b, size_t ldb, float beta, float* const* c,
                                 size_t ldc, size_t batch_count);
ANYCL_API anycl_status anycl_dgemm_batched(anycl_runtime* rt, anycl_layout layout, anycl_transpose trans_a,
                                 anycl_transpose trans_b, size_t m, size_t n, size_t k,
                                 double alpha, const double* const* a, size_t lda,
                                 const double* const* b, size_t ldb, double beta,
                                 double* const* c, size_t ldc, size_t batch_count);

/* Which GEMM implementation serves calls on this runtime. */
typedef enum anycl_gemm_provider { ANYCL_GEMM_ANYCL = 0, ANYCL_GEMM_CLBLAST = 1 } anycl_gemm_provider;
ANYCL_API anycl_status anycl_runtime_set_gemm_provider(anycl_runtime* rt, anycl_gemm_provider provider);
ANYCL_API anycl_status anycl_runtime_get_gemm_provider(const anycl_runtime* rt,
                                                     anycl_gemm_provider* provider);

/* ---- 2-D convolution, float32, NCHW or channels-last ---- */
/* NCHW: x[n][c][h][w], w[k][c/groups][r][s], y[n][k][p][q]. NHWC (channels-last):
 * x[n][h][w][c], w[k][r][s][c/groups] (OHWI), y[n][p][q][k] (docs/layouts.md). */
typedef enum anycl_conv_layout { ANYCL_CONV_NCHW = 0, ANYCL_CONV_NHWC = 1 } anycl_conv_layout;
typedef struct anycl_conv2d_desc {
  size_t n, c, h, w, k, r, s;
  size_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w,
      groups;
  int relu; /* forward only: y = max(0, conv + bias) */
  anycl_conv_layout layout; /* 0 (a zero-initialized descriptor): ANYCL_CONV_NCHW */
} anycl_conv2d_desc;

ANYCL_API anycl_status anycl_conv2d_output_size(const anycl_conv2d_desc* d, size_t* p, size_t* q);
ANYCL_API anycl_status anycl_conv2d_forward(anycl_runtime* rt, const anycl_conv2d_desc* d, const float* x,
                                  const float* w, const float* bias /* may be NULL */, float* y);
ANYCL_API anycl_status anycl_conv2d_backward_data(anycl_runtime* rt, const anycl_conv2d_desc* d,
                                        const float* dy, const float* w, float* dx);
ANYCL_API anycl_status anycl_conv2d_backward_weights(anycl_runtime* rt, const anycl_conv2d_desc* d,
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
ANYCL_API anycl_status anycl_runtime_set_parallel(anycl_runtime* rt, anycl_parallel mode);
ANYCL_API anycl_status anycl_runtime_get_parallel(const anycl_runtime* rt, anycl_parallel* mode);
/* One relative throughput per device (count = device count, each >= 0, one > 0); share of work
 * is proportional. weights = NULL and count = 0 go back to measured weights. */
ANYCL_API anycl_status anycl_runtime_set_device_weights(anycl_runtime* rt, const double* weights, size_t count);
/* The weights split calls use (count = device count); measures devices not measured yet. */
ANYCL_API anycl_status anycl_runtime_get_device_weights(anycl_runtime* rt, double* weights,
                                                        size_t count);

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
  ANYCL_CONV_WINOGRAD = 4,
  ANYCL_CONV_IMPLICIT_GEMM = 5 /* forward and backward-weights */
} anycl_conv_algo;
#define ANYCL_CONV_ALGO_COUNT 5
typedef enum anycl_conv_pass {
  ANYCL_CONV_FORWARD = 0,
  ANYCL_CONV_BACKWARD_DATA = 1,
  ANYCL_CONV_BACKWARD_WEIGHTS = 2
} anycl_conv_pass;
ANYCL_API anycl_status anycl_conv2d_find(anycl_runtime* rt, const anycl_conv2d_desc* d, anycl_conv_pass pass,
                               size_t device, anycl_conv_algo* algo, double* times_ms, int* timed);
/* Nonzero: the default algorithm runs the find winner (ANYCL_CONV_FIND=1 sets it at creation). */
ANYCL_API anycl_status anycl_runtime_set_conv_find(anycl_runtime* rt, int on);
/* Workspace cap of im2col-style algorithms in bytes (> 0; default 256 MiB or
 * ANYCL_CONV_WORKSPACE_MB); larger problems run in batch chunks. */
ANYCL_API anycl_status anycl_runtime_set_conv_workspace_limit(anycl_runtime* rt, size_t bytes);
/* The algorithm the shape selector picks for the forward pass (what AUTO runs without find). */
ANYCL_API anycl_status anycl_conv2d_select(const anycl_runtime* rt, const anycl_conv2d_desc* d,
                                           anycl_conv_algo* algo);
/* The three passes with a chosen algorithm (ANYCL_CONV_AUTO: as the calls above). An algorithm
 * that does not apply to the descriptor and pass, or that ANYCL_CONV_ALGOS disabled, is
 * ANYCL_ERROR_UNSUPPORTED; a value that is no algorithm is ANYCL_ERROR_INVALID_ARGUMENT. */
ANYCL_API anycl_status anycl_conv2d_forward_algo(anycl_runtime* rt, const anycl_conv2d_desc* d,
                                                 anycl_conv_algo algo, const float* x,
                                                 const float* w, const float* bias, float* y);
ANYCL_API anycl_status anycl_conv2d_backward_data_algo(anycl_runtime* rt,
                                                       const anycl_conv2d_desc* d,
                                                       anycl_conv_algo algo, const float* dy,
                                                       const float* w, float* dx);
ANYCL_API anycl_status anycl_conv2d_backward_weights_algo(anycl_runtime* rt,
                                                          const anycl_conv2d_desc* d,
                                                          anycl_conv_algo algo, const float* x,
                                                          const float* dy, float* dw,
                                                          float* dbias);

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
/* `bytes` of new device memory on device `device` (OUT_OF_MEMORY above what the device allows). */
ANYCL_API anycl_status anycl_buffer_alloc(anycl_runtime* rt, size_t bytes, size_t device,
                                          anycl_buffer** out);
/* The caller's host memory as device memory, without a copy: calls on the buffer read and write
 * the `bytes` bytes at `host` in place. Only where the device shares host memory and `host` is a
 * multiple of its CL_DEVICE_MEM_BASE_ADDR_ALIGN, else ANYCL_ERROR_UNSUPPORTED saying which (use
 * anycl_buffer_alloc and anycl_buffer_write). `host` must outlive the buffer and its calls. */
ANYCL_API anycl_status anycl_buffer_wrap_host(anycl_runtime* rt, void* host, size_t bytes, size_t device,
                                              anycl_buffer** out);
/* Blocking copies between host memory and `bytes` of a buffer from byte `offset`, ordered after
 * the work already queued on the buffer's device. */
ANYCL_API anycl_status anycl_buffer_write(anycl_runtime* rt, const anycl_buffer* dst, size_t offset,
                                          const void* src, size_t bytes);
ANYCL_API anycl_status anycl_buffer_read(anycl_runtime* rt, const anycl_buffer* src, size_t offset, void* dst,
                                         size_t bytes);

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

/* Convolution on buffers (float32 in the descriptor's layout, tensors from each buffer's start). */
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

#include "anycl/train.h" /* the trainer */

#endif /* ANYCL_ANYCL_H */
