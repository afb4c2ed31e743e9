// GEMM on host pointers: zero-copy views of A and B where the device shares host memory, a device
// copy of C (host_buffer.hpp says why).
#include <memory>
#include <vector>

#include "ops/gemm_clblast.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "runtime/host_buffer.hpp"
#include "sched/run_gemm.hpp"
#include "sched/run_gemm_shared.hpp"

namespace anycl::detail {
namespace {

template <typename T>
void require_pointer(const T* p, std::size_t extent, const char* function, const char* name) {
  if (extent != 0 && p == nullptr)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + name + " is NULL but the sizes need " +
                                           std::to_string(extent) + " elements");
}

std::size_t bytes_of(std::size_t elems, std::size_t size, const char* function) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(elems, size, &r)) fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": size overflows");
  return r;
}

// Runs one validated call on one device, or as one shared pass over `devices` (the first holds
// the buffers): A and B go in, C goes in (unless beta = 0) and comes back.
template <typename T>
void run_on_device(RuntimeImpl& rt, const std::vector<std::size_t>& devices, const GemmShape& shape,
                   const GemmExtents& e, T alpha, const T* a, const T* b, T beta, T* c, const char* function) {
  const DeviceSlot& slot = rt.slot(devices[0]);
  // C's gaps (ldc padding, batch strides) come back with the download, so they must go up too;
  // only a dense C with beta = 0 can skip the upload.
  const bool dense = shape.ldc == (shape.layout == Layout::RowMajor ? shape.n : shape.m) &&
                     (shape.batch <= 1 || shape.stride_c == shape.m * shape.n);
  HostBuffer cb(slot, c, bytes_of(e.c, sizeof(T), function),
                beta != T(0) || !dense ? HostAccess::ReadWrite : HostAccess::Write);
  // A and B are not read when k = 0; C stands in so the kernel gets valid (unused) arguments.
  auto input = [&](const T* p, std::size_t elems) {
    return elems ? std::make_unique<HostBuffer>(slot, p, bytes_of(elems, sizeof(T), function), HostAccess::Read)
                 : nullptr;
  };
  std::unique_ptr<HostBuffer> ab = input(a, e.a), bb = input(b, e.b);
  cl_mem am = ab ? ab->mem() : cb.mem(), bm = bb ? bb->mem() : cb.mem();
  cl_event ev = nullptr;
  if (rt.gemm_provider == GemmProvider::CLBlast) {
    ev = clblast_gemm<T>(slot, shape, alpha, am, 0, bm, 0, beta, cb.mem(), 0);
  } else if (const GemmProblem p = normalize(shape, 0, 0, 0); devices.size() > 1) {
    run_gemm_shared<T>(rt, devices, p, alpha, p.a_is_b ? bm : am, p.a_is_b ? am : bm, beta, cb.mem());
  } else {
    ev = enqueue_gemm<T>(slot, p, alpha, p.a_is_b ? bm : am, p.a_is_b ? am : bm, beta, cb.mem());
  }
  if (ev) clReleaseEvent(ev);
  cb.download(slot);
}

// A runtime with several devices spreads the call over them (src/sched/). Claimed tiles need
// anycl's packed kernels, so CLBlast calls split into pieces.
template <typename T>
void run_on_host(RuntimeImpl& rt, const GemmShape& shape, const GemmExtents& e, T alpha, const T* a, const T* b,
                 T beta, T* c, const char* function) {
  if (e.c == 0) return;  // m, n or batch is 0: nothing to do
  if (rt.gemm_provider == GemmProvider::Anycl)
    if (const auto shared = plan_shared_gemm<T>(rt, normalize(shape, 0, 0, 0), alpha); shared.size() > 1)
      return run_on_device(rt, shared, shape, e, alpha, a, b, beta, c, function);
  const std::vector<Piece> pieces = plan_gemm<T>(rt, shape);
  if (pieces.size() > 1) return run_gemm_pieces(rt, pieces, shape, e, alpha, a, b, beta, c);
  run_on_device(rt, {pieces.empty() ? 0 : pieces[0].device}, shape, e, alpha, a, b, beta, c, function);
}

}  // namespace

}  // namespace anycl::detail

namespace anycl {

template <typename T>
void gemm(Runtime& rt, const GemmShape& shape, T alpha, const T* a, const T* b, T beta, T* c) {
  using namespace detail;
  const char* fn = "anycl::gemm";
  const GemmExtents e = validate_gemm(shape, fn);
  require_pointer(a, e.a, fn, "a");
  require_pointer(b, e.b, fn, "b");
  require_pointer(c, e.c, fn, "c");
  run_on_host(rt.impl(), shape, e, alpha, a, b, beta, c, fn);
}

// Each item runs as its own call: pointer arrays have no common base, and the in-order queue
// keeps the device busy between items.
template <typename T>
void gemm_batched(Runtime& rt, const GemmShape& shape, T alpha, const T* const* a, const T* const* b, T beta,
                  T* const* c) {
  using namespace detail;
  const char* fn = "anycl::gemm_batched";
  GemmShape one = shape;
  one.batch = 1;
  const GemmExtents e = validate_gemm(one, fn);
  if (shape.batch == 0 || e.c == 0) return;
  if (!a || !b || !c) fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(fn) + ": a pointer array is NULL");
  for (std::size_t i = 0; i < shape.batch; ++i) {
    const std::string item = std::string(fn) + " item " + std::to_string(i);
    require_pointer(a[i], e.a, item.c_str(), "a[i]");
    require_pointer(b[i], e.b, item.c_str(), "b[i]");
    require_pointer(c[i], e.c, item.c_str(), "c[i]");
  }
  for (std::size_t i = 0; i < shape.batch; ++i) run_on_host(rt.impl(), one, e, alpha, a[i], b[i], beta, c[i], fn);
}

template void gemm<float>(Runtime&, const GemmShape&, float, const float*, const float*, float, float*);
template void gemm<double>(Runtime&, const GemmShape&, double, const double*, const double*, double, double*);
template void gemm_batched<float>(Runtime&, const GemmShape&, float, const float* const*, const float* const*, float,
                                  float* const*);
template void gemm_batched<double>(Runtime&, const GemmShape&, double, const double* const*, const double* const*,
                                   double, double* const*);

}  // namespace anycl
