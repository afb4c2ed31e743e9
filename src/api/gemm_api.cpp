// The public GEMM functions: validate at the edge, plan, run (include/anycl/gemm.hpp).
#include "anycl/gemm.hpp"

#include <optional>
#include <string>

#include "api/call_log.hpp"
#include "api/numerics_check.hpp"
#include "api/wait_list.hpp"
#include "ops/gemm_clblast.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "sched/run_gemm.hpp"

namespace anycl {
namespace {

using detail::engine;

template <typename T>
std::string gemm_text(const Runtime& rt, const GemmShape& shape, T alpha, T beta, std::size_t a_offset,
                      std::size_t b_offset, std::size_t c_offset) {
  return detail::gemm_call_text({shape, sizeof(T) == sizeof(double), double(alpha), double(beta), a_offset, b_offset,
                                 c_offset, gemm_provider(rt)});
}

template <typename T>
void log_gemm_call(const Runtime& rt, const GemmShape& shape, T alpha, T beta, std::size_t a_offset = 0,
                   std::size_t b_offset = 0, std::size_t c_offset = 0) {
  detail::log_call_if_enabled([&] { return gemm_text(rt, shape, alpha, beta, a_offset, b_offset, c_offset); });
}

// ANYCL_CHECK_NUMERICS: A and B are inputs, C is an output and, unless beta is 0, an input.
// `add(which, region, input)` records one operand; operands the call does not touch (extent 0:
// m, n or k is 0) are left out, as their memory may be too small to hold the region.
template <typename T, typename Add>
std::optional<detail::NumericsScan> gemm_scan(const Runtime& rt, const GemmShape& shape, const detail::GemmExtents& e,
                                              T alpha, T beta, const std::size_t (&offsets)[3], Add add) {
  if (!engine(rt).ops.check_numerics) return std::nullopt;
  std::optional<detail::NumericsScan> scan;
  scan.emplace(gemm_text(rt, shape, alpha, beta, offsets[0], offsets[1], offsets[2]), sizeof(T) == sizeof(double));
  const char names[] = {'a', 'b', 'c'};
  const std::size_t extents[] = {e.a, e.b, e.c};
  for (int i = 0; i < 3; ++i)
    if (extents[i] != 0) add(*scan, i, detail::gemm_region(shape, names[i], offsets[i]), i < 2 || beta != T(0));
  scan->before();
  return scan;
}

template <typename T>
void require_pointer(const T* p, std::size_t extent, const std::string& function, const char* name) {
  if (extent != 0 && p == nullptr)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT,
                 function + ": " + name + " is NULL but the sizes need " + std::to_string(extent) + " elements");
}

// One validated host-pointer call.
template <typename T>
void gemm_host(Runtime& rt, const GemmShape& shape, const detail::GemmExtents& e, T alpha, const T* a, const T* b,
               T beta, T* c) {
  log_gemm_call(rt, shape, alpha, beta);
  const void* host[] = {a, b, c};
  const auto scan = gemm_scan(rt, shape, e, alpha, beta, {0, 0, 0}, [&](detail::NumericsScan& s, int i, auto r, bool in) {
    s.host(host[i], r, in, i == 2);
  });
  const detail::GemmCall call = detail::gemm_call(shape, alpha);
  const detail::Plan plan = detail::plan_call(engine(rt), {call, std::nullopt, true});
  detail::run_gemm<T>(engine(rt), plan, call, e, alpha, a, b, beta, c);
  if (scan) scan->after();
}

}  // namespace

template <typename T>
Event gemm(Runtime& rt, const GemmShape& shape, T alpha, const Buffer& a, std::size_t a_offset, const Buffer& b,
           std::size_t b_offset, T beta, const Buffer& c, std::size_t c_offset, const std::vector<Event>& wait) {
  const char* fn = "anycl::gemm";
  const detail::GemmExtents e = detail::validate_gemm(shape, fn);
  const std::size_t dev = c.device();
  detail::check_operand(&a, a_offset, e.a, sizeof(T), dev, fn, "a");
  detail::check_operand(&b, b_offset, e.b, sizeof(T), dev, fn, "b");
  detail::check_operand(&c, c_offset, e.c, sizeof(T), dev, fn, "c");
  const detail::DeviceSlot& home = engine(rt).slot(dev);
  detail::check_wait_list(home, wait, fn);
  log_gemm_call(rt, shape, alpha, beta, a_offset, b_offset, c_offset);
  if (engine(rt).ops.check_numerics) detail::wait_on_host(wait);
  const cl_mem mems[] = {a.native(), b.native(), c.native()};
  const auto scan = gemm_scan(rt, shape, e, alpha, beta, {a_offset, b_offset, c_offset},
                              [&](detail::NumericsScan& s, int i, auto r, bool in) {
                                s.buffer(engine(rt).slot(dev), mems[i], r, in, i == 2);
                              });
  const detail::GemmCall call = detail::gemm_call(shape, alpha, a_offset, b_offset, c_offset);
  const detail::Plan plan = detail::plan_call(engine(rt), {call, dev, true});
  detail::enqueue_wait_list(home, wait);
  Event done = detail::run_gemm<T>(engine(rt), plan, call, alpha, a.native(), b.native(), beta, c.native());
  if (scan) done.wait(), scan->after();
  return detail::caller_event(home, std::move(done));
}

template <typename T>
void gemm(Runtime& rt, const GemmShape& shape, T alpha, const T* a, const T* b, T beta, T* c) {
  const char* fn = "anycl::gemm";
  const detail::GemmExtents e = detail::validate_gemm(shape, fn);
  require_pointer(a, e.a, fn, "a");
  require_pointer(b, e.b, fn, "b");
  require_pointer(c, e.c, fn, "c");
  gemm_host(rt, shape, e, alpha, a, b, beta, c);
}

// Each item runs as its own call: pointer arrays have no common base, and the in-order queue
// keeps the device busy between items.
template <typename T>
void gemm_batched(Runtime& rt, const GemmShape& shape, T alpha, const T* const* a, const T* const* b, T beta,
                  T* const* c) {
  const char* fn = "anycl::gemm_batched";
  // Before the arrays are read: a huge count would index past the caller's arrays.
  detail::validate_batch_count(shape.batch, fn);
  GemmShape one = shape;
  one.batch = 1;
  const detail::GemmExtents e = detail::validate_gemm(one, fn);
  if (shape.batch == 0 || e.c == 0) return;
  if (!a || !b || !c) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": a pointer array is NULL");
  for (std::size_t i = 0; i < shape.batch; ++i) {
    const std::string item = std::string(fn) + " item " + std::to_string(i);
    require_pointer(a[i], e.a, item, "a[i]");
    require_pointer(b[i], e.b, item, "b[i]");
    require_pointer(c[i], e.c, item, "c[i]");
  }
  for (std::size_t i = 0; i < shape.batch; ++i) gemm_host(rt, one, e, alpha, a[i], b[i], beta, c[i]);
}

#define ANYCL_INSTANTIATE(T)                                                                                       \
  template Event gemm<T>(Runtime&, const GemmShape&, T, const Buffer&, std::size_t, const Buffer&, std::size_t, T, \
                         const Buffer&, std::size_t, const std::vector<Event>&);                                                              \
  template void gemm<T>(Runtime&, const GemmShape&, T, const T*, const T*, T, T*);                                 \
  template void gemm_batched<T>(Runtime&, const GemmShape&, T, const T* const*, const T* const*, T, T* const*);
ANYCL_INSTANTIATE(float)
ANYCL_INSTANTIATE(double)
#undef ANYCL_INSTANTIATE

void set_gemm_provider(Runtime& rt, GemmProvider provider) {
  if (provider != GemmProvider::Anycl && provider != GemmProvider::CLBlast)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "set_gemm_provider: unknown provider");
  if (provider == GemmProvider::CLBlast && !detail::clblast_available())
    detail::fail(ANYCL_ERROR_UNSUPPORTED, "set_gemm_provider: this anycl was built without CLBlast");
  engine(rt).ops.gemm_provider = provider;
}

GemmProvider gemm_provider(const Runtime& rt) { return engine(rt).ops.gemm_provider; }

}  // namespace anycl
