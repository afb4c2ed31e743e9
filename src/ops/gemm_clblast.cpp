#include "ops/gemm_clblast.hpp"

#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "runtime/launch.hpp"

#ifdef ANYCL_HAVE_CLBLAST
#include <clblast.h>

#include <mutex>
#endif

namespace anycl::detail {

#ifdef ANYCL_HAVE_CLBLAST

bool clblast_available() noexcept { return true; }

namespace {

// CLBlast keeps process-wide caches (its tuning database, compiled programs) that concurrent
// calls reach without ordering ThreadSanitizer can see (test_threads races calls on 4 threads):
// anycl enqueues one CLBlast call at a time. A cached call only enqueues, so the lock is short.
std::mutex clblast_calls;

}  // namespace

template <typename T>
cl_event clblast_gemm(const DeviceSlot& slot, const GemmShape& s, T alpha, cl_mem a, std::size_t a_off, cl_mem b,
                      std::size_t b_off, T beta, cl_mem c, std::size_t c_off) {
  if (s.m == 0 || s.n == 0 || s.batch == 0) return enqueue_marker(slot);
  const auto layout = s.layout == Layout::RowMajor ? clblast::Layout::kRowMajor : clblast::Layout::kColMajor;
  const auto ta = s.trans_a == Transpose::Yes ? clblast::Transpose::kYes : clblast::Transpose::kNo;
  const auto tb = s.trans_b == Transpose::Yes ? clblast::Transpose::kYes : clblast::Transpose::kNo;
  cl_command_queue q = slot.queue.get();
  cl_event ev = nullptr;
  std::unique_lock<std::mutex> one_at_a_time(clblast_calls);
  const clblast::StatusCode status =
      s.batch == 1 ? clblast::Gemm<T>(layout, ta, tb, s.m, s.n, s.k, alpha, a, a_off, s.lda, b, b_off, s.ldb, beta, c,
                                      c_off, s.ldc, &q, &ev)
                   : clblast::GemmStridedBatched<T>(layout, ta, tb, s.m, s.n, s.k, alpha, a, a_off, s.lda, s.stride_a,
                                                    b, b_off, s.ldb, s.stride_b, beta, c, c_off, s.ldc, s.stride_c,
                                                    s.batch, &q, &ev);
  one_at_a_time.unlock();
  if (status != clblast::StatusCode::kSuccess) {
    const int code = static_cast<int>(status);
    // CLBlast forwards OpenCL errors as their own (negative) codes.
    const std::string name = code < 0 && code > -100 ? cl_error_name(code) : "CLBlast status " + std::to_string(code);
    fail(code < 0 && code > -100 ? status_for(code) : ANYCL_ERROR_OPENCL,
         "CLBlast GEMM failed on " + slot.where() + ": " + name);
  }
  return ev;
}

#else

bool clblast_available() noexcept { return false; }

template <typename T>
cl_event clblast_gemm(const DeviceSlot&, const GemmShape&, T, cl_mem, std::size_t, cl_mem, std::size_t, T, cl_mem,
                      std::size_t) {
  fail(ANYCL_ERROR_UNSUPPORTED, "this anycl was built without CLBlast (install libclblast-dev and rebuild)");
}

#endif

template <typename T>
cl_event clblast_gemm(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  GemmShape s;
  s.trans_a = p.trans_a ? Transpose::Yes : Transpose::No, s.trans_b = p.trans_b ? Transpose::Yes : Transpose::No;
  s.m = p.m, s.n = p.n, s.k = p.k, s.lda = p.lda, s.ldb = p.ldb, s.ldc = p.ldc;
  s.batch = p.batch, s.stride_a = p.stride_a, s.stride_b = p.stride_b, s.stride_c = p.stride_c;
  return clblast_gemm<T>(slot, s, alpha, a, p.a_off, b, p.b_off, beta, c, p.c_off);
}

template <typename T>
cl_event enqueue_gemm_by(GemmProvider provider, const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a,
                         cl_mem b, T beta, cl_mem c) {
  // CLBlast rejects k = 0 (status -1017); with k = 0 or alpha = 0 the product drops out and anycl's own
  // kernel just scales C by beta, which is the BLAS result.
  const bool scale_only = p.k == 0 || alpha == T(0);
  return provider == GemmProvider::CLBlast && !scale_only ? clblast_gemm<T>(slot, p, alpha, a, b, beta, c)
                                                          : enqueue_gemm<T>(slot, p, alpha, a, b, beta, c);
}

template cl_event enqueue_gemm_by<float>(GemmProvider, const DeviceSlot&, const GemmProblem&, float, cl_mem, cl_mem,
                                         float, cl_mem);
template cl_event enqueue_gemm_by<double>(GemmProvider, const DeviceSlot&, const GemmProblem&, double, cl_mem, cl_mem,
                                          double, cl_mem);
template cl_event clblast_gemm<float>(const DeviceSlot&, const GemmProblem&, float, cl_mem, cl_mem, float, cl_mem);
template cl_event clblast_gemm<double>(const DeviceSlot&, const GemmProblem&, double, cl_mem, cl_mem, double, cl_mem);
template cl_event clblast_gemm<float>(const DeviceSlot&, const GemmShape&, float, cl_mem, std::size_t, cl_mem,
                                      std::size_t, float, cl_mem, std::size_t);
template cl_event clblast_gemm<double>(const DeviceSlot&, const GemmShape&, double, cl_mem, std::size_t, cl_mem,
                                       std::size_t, double, cl_mem, std::size_t);

}  // namespace anycl::detail
