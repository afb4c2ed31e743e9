// The C API on the caller's own OpenCL objects (anycl.h "Interop", docs/interop.md).
#include <string>
#include <vector>

#include "capi/convert.hpp"
#include "capi/guard.hpp"

struct anycl_buffer {
  anycl::Buffer buffer;
};

namespace {

using anycl::capi::guard;
using anycl::capi::runtime_or_throw;

[[noreturn]] void refuse(const std::string& fn, const std::string& what) {
  throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, fn + ": " + what);
}

const anycl::Buffer& buffer_of(const anycl_buffer* b, const std::string& fn, const char* name) {
  if (!b) refuse(fn, std::string(name) + " is NULL");
  return b->buffer;
}

const anycl::Buffer* optional_buffer(const anycl_buffer* b) { return b ? &b->buffer : nullptr; }

// The caller's events, each retained for as long as the call holds it.
std::vector<anycl::Event> wait_events(cl_uint count, const cl_event* list, const std::string& fn) {
  if (count && !list) refuse(fn, "wait_list is NULL but num_events is " + std::to_string(count));
  if (!count && list) refuse(fn, "wait_list is given but num_events is 0");
  std::vector<anycl::Event> events;
  for (cl_uint i = 0; i < count; ++i) {
    const std::string name = "wait_list[" + std::to_string(i) + "]";
    if (!list[i]) refuse(fn, name + " is NULL");
    if (clRetainEvent(list[i]) != CL_SUCCESS) refuse(fn, name + " is not a live event (clRetainEvent failed)");
    events.emplace_back(list[i]);
  }
  return events;
}

// Runs `call` (which returns the call's Event) and hands the caller its own reference.
template <typename Call>
anycl_status async_call(cl_event* event, Call&& call) {
  if (event) *event = nullptr;
  return guard([&] {
    const anycl::Event done = call();
    if (event && done.valid()) {
      clRetainEvent(done.native());
      *event = done.native();
    }
  });
}

template <typename T>
anycl_status gemm_buffers(const char* fn, anycl_runtime* rt, const anycl::GemmShape& s, T alpha,
                          const anycl_buffer* a, size_t a_offset, const anycl_buffer* b, size_t b_offset, T beta,
                          const anycl_buffer* c, size_t c_offset, cl_uint num_events, const cl_event* wait_list,
                          cl_event* event) {
  return async_call(event, [&] {
    anycl::Runtime& r = runtime_or_throw(rt, fn);
    return anycl::gemm<T>(r, s, alpha, buffer_of(a, fn, "a"), a_offset, buffer_of(b, fn, "b"), b_offset, beta,
                          buffer_of(c, fn, "c"), c_offset, wait_events(num_events, wait_list, fn));
  });
}

anycl::GemmShape strided_shape(anycl_layout layout, anycl_transpose ta, anycl_transpose tb, size_t m, size_t n,
                               size_t k, size_t lda, size_t stride_a, size_t ldb, size_t stride_b, size_t ldc,
                               size_t stride_c, size_t batch) {
  anycl::GemmShape s = anycl::capi::shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc);
  s.batch = batch, s.stride_a = stride_a, s.stride_b = stride_b, s.stride_c = stride_c;
  return s;
}

anycl::ConvAlgo algo_of(anycl_conv_algo algo) { return anycl::capi::from_c_enum<anycl::ConvAlgo>(algo); }

}  // namespace

extern "C" {

anycl_status anycl_runtime_create_from_queues(cl_context context, const cl_command_queue* queues, size_t queue_count,
                                              anycl_runtime** out) {
  const char* fn = "anycl_runtime_create_from_queues";
  return guard([&] {
    if (!out) refuse(fn, "out is NULL");
    *out = nullptr;
    if (queue_count && !queues) refuse(fn, "queues is NULL but queue_count is " + std::to_string(queue_count));
    const std::vector<cl_command_queue> list(queues, queues + queue_count);
    auto* rt = new anycl_runtime{anycl::Runtime(context, list), {}};
    for (size_t i = 0; i < rt->rt.device_count(); ++i) rt->names.push_back(rt->rt.device(i).name);
    *out = rt;
  });
}

anycl_status anycl_buffer_wrap(anycl_runtime* rt, cl_mem mem, size_t offset, size_t bytes, size_t device,
                               anycl_buffer** out) {
  const char* fn = "anycl_buffer_wrap";
  return guard([&] {
    if (!out) refuse(fn, "out is NULL");
    *out = nullptr;
    anycl::Buffer wrapped = runtime_or_throw(rt, fn).wrap(mem, offset, bytes, device);
    *out = new anycl_buffer{std::move(wrapped)};
  });
}

void anycl_buffer_destroy(anycl_buffer* buffer) { delete buffer; }

anycl_status anycl_buffer_alloc(anycl_runtime* rt, size_t bytes, size_t device, anycl_buffer** out) {
  const char* fn = "anycl_buffer_alloc";
  return guard([&] {
    if (!out) refuse(fn, "out is NULL");
    *out = nullptr;
    *out = new anycl_buffer{runtime_or_throw(rt, fn).alloc(bytes, device)};
  });
}

anycl_status anycl_buffer_wrap_host(anycl_runtime* rt, void* host, size_t bytes, size_t device, anycl_buffer** out) {
  const char* fn = "anycl_buffer_wrap_host";
  return guard([&] {
    if (!out) refuse(fn, "out is NULL");
    *out = nullptr;
    *out = new anycl_buffer{runtime_or_throw(rt, fn).wrap_host(host, bytes, device)};
  });
}

anycl_status anycl_buffer_write(anycl_runtime* rt, const anycl_buffer* dst, size_t offset, const void* src,
                                size_t bytes) {
  const char* fn = "anycl_buffer_write";
  return guard([&] { runtime_or_throw(rt, fn).write(buffer_of(dst, fn, "dst"), src, bytes, offset); });
}

anycl_status anycl_buffer_read(anycl_runtime* rt, const anycl_buffer* src, size_t offset, void* dst, size_t bytes) {
  const char* fn = "anycl_buffer_read";
  return guard([&] { runtime_or_throw(rt, fn).read(buffer_of(src, fn, "src"), dst, bytes, offset); });
}

anycl_status anycl_sgemm_buffers(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                 size_t m, size_t n, size_t k, float alpha, const anycl_buffer* a, size_t a_offset,
                                 size_t lda, const anycl_buffer* b, size_t b_offset, size_t ldb, float beta,
                                 const anycl_buffer* c, size_t c_offset, size_t ldc, cl_uint num_events,
                                 const cl_event* wait_list, cl_event* event) {
  return gemm_buffers("anycl_sgemm_buffers", rt, anycl::capi::shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc), alpha,
                      a, a_offset, b, b_offset, beta, c, c_offset, num_events, wait_list, event);
}

anycl_status anycl_dgemm_buffers(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta, anycl_transpose tb,
                                 size_t m, size_t n, size_t k, double alpha, const anycl_buffer* a, size_t a_offset,
                                 size_t lda, const anycl_buffer* b, size_t b_offset, size_t ldb, double beta,
                                 const anycl_buffer* c, size_t c_offset, size_t ldc, cl_uint num_events,
                                 const cl_event* wait_list, cl_event* event) {
  return gemm_buffers("anycl_dgemm_buffers", rt, anycl::capi::shape_of(layout, ta, tb, m, n, k, lda, ldb, ldc), alpha,
                      a, a_offset, b, b_offset, beta, c, c_offset, num_events, wait_list, event);
}

anycl_status anycl_sgemm_strided_batched_buffers(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta,
                                                 anycl_transpose tb, size_t m, size_t n, size_t k, float alpha,
                                                 const anycl_buffer* a, size_t a_offset, size_t lda, size_t stride_a,
                                                 const anycl_buffer* b, size_t b_offset, size_t ldb, size_t stride_b,
                                                 float beta, const anycl_buffer* c, size_t c_offset, size_t ldc,
                                                 size_t stride_c, size_t batch, cl_uint num_events,
                                                 const cl_event* wait_list, cl_event* event) {
  return gemm_buffers("anycl_sgemm_strided_batched_buffers", rt,
                      strided_shape(layout, ta, tb, m, n, k, lda, stride_a, ldb, stride_b, ldc, stride_c, batch),
                      alpha, a, a_offset, b, b_offset, beta, c, c_offset, num_events, wait_list, event);
}

anycl_status anycl_dgemm_strided_batched_buffers(anycl_runtime* rt, anycl_layout layout, anycl_transpose ta,
                                                 anycl_transpose tb, size_t m, size_t n, size_t k, double alpha,
                                                 const anycl_buffer* a, size_t a_offset, size_t lda, size_t stride_a,
                                                 const anycl_buffer* b, size_t b_offset, size_t ldb, size_t stride_b,
                                                 double beta, const anycl_buffer* c, size_t c_offset, size_t ldc,
                                                 size_t stride_c, size_t batch, cl_uint num_events,
                                                 const cl_event* wait_list, cl_event* event) {
  return gemm_buffers("anycl_dgemm_strided_batched_buffers", rt,
                      strided_shape(layout, ta, tb, m, n, k, lda, stride_a, ldb, stride_b, ldc, stride_c, batch),
                      alpha, a, a_offset, b, b_offset, beta, c, c_offset, num_events, wait_list, event);
}

anycl_status anycl_conv2d_forward_buffers(anycl_runtime* rt, const anycl_conv2d_desc* d, const anycl_buffer* x,
                                          const anycl_buffer* w, const anycl_buffer* bias, const anycl_buffer* y,
                                          anycl_conv_algo algo, cl_uint num_events, const cl_event* wait_list,
                                          cl_event* event) {
  const char* fn = "anycl_conv2d_forward_buffers";
  return async_call(event, [&] {
    anycl::Runtime& r = runtime_or_throw(rt, fn);
    return anycl::conv2d_forward(r, anycl::capi::to_desc(d), buffer_of(x, fn, "x"), buffer_of(w, fn, "w"),
                                 optional_buffer(bias), buffer_of(y, fn, "y"), algo_of(algo),
                                 wait_events(num_events, wait_list, fn));
  });
}

anycl_status anycl_conv2d_backward_data_buffers(anycl_runtime* rt, const anycl_conv2d_desc* d, const anycl_buffer* dy,
                                                const anycl_buffer* w, const anycl_buffer* dx, anycl_conv_algo algo,
                                                cl_uint num_events, const cl_event* wait_list, cl_event* event) {
  const char* fn = "anycl_conv2d_backward_data_buffers";
  return async_call(event, [&] {
    anycl::Runtime& r = runtime_or_throw(rt, fn);
    return anycl::conv2d_backward_data(r, anycl::capi::to_desc(d), buffer_of(dy, fn, "dy"), buffer_of(w, fn, "w"),
                                       buffer_of(dx, fn, "dx"), algo_of(algo), wait_events(num_events, wait_list, fn));
  });
}

anycl_status anycl_conv2d_backward_weights_buffers(anycl_runtime* rt, const anycl_conv2d_desc* d,
                                                   const anycl_buffer* x, const anycl_buffer* dy,
                                                   const anycl_buffer* dw, const anycl_buffer* dbias,
                                                   anycl_conv_algo algo, cl_uint num_events,
                                                   const cl_event* wait_list, cl_event* event) {
  const char* fn = "anycl_conv2d_backward_weights_buffers";
  return async_call(event, [&] {
    anycl::Runtime& r = runtime_or_throw(rt, fn);
    return anycl::conv2d_backward_weights(r, anycl::capi::to_desc(d), buffer_of(x, fn, "x"), buffer_of(dy, fn, "dy"),
                                          buffer_of(dw, fn, "dw"), optional_buffer(dbias), algo_of(algo),
                                          wait_events(num_events, wait_list, fn));
  });
}

}  // extern "C"
