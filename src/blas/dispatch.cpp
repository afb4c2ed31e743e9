#include "blas/dispatch.hpp"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>

#include "anycl/anycl.hpp"
#include "blas/blas_log.hpp"
#include "blas/next_blas.hpp"

namespace anycl::blas {
namespace {

// Products of fewer flops (2*m*n*k) go to the BLAS behind. Square float32 products on the
// 2-core POCL CPU against OpenBLAS: anycl lost at n <= 256, split at 320, won from 384 up
// (docs/blas.md, "Choosing ANYCL_BLAS_MIN_FLOPS").
constexpr double kDefaultMinFlops = 2.0 * 320 * 320 * 320;

double min_flops() noexcept {
  static const double value = [] {
    const char* v = std::getenv("ANYCL_BLAS_MIN_FLOPS");
    if (!v || !*v) return kDefaultMinFlops;
    char* end = nullptr;
    const double parsed = std::strtod(v, &end);
    if (*end || !(parsed >= 0)) {
      log_warn("ANYCL_BLAS_MIN_FLOPS=%s is not a number >= 0; using %.0f", v, kDefaultMinFlops);
      return kDefaultMinFlops;
    }
    return parsed;
  }();
  return value;
}

// The process-wide runtime on ANYCL_DEVICE, created at the first call that needs it; null when
// it cannot be created (warned once). Never destroyed: BLAS calls may come from other libraries'
// exit-time code, and OpenCL drivers may already be gone by the time static destructors run.
anycl::Runtime* runtime() noexcept {
  static std::once_flag once;
  static anycl::Runtime* rt = nullptr;
  std::call_once(once, [] {
    try {
      rt = std::make_unique<anycl::Runtime>(anycl::RuntimeOptions::from_env()).release();
    } catch (const std::exception& e) {
      log_warn("no anycl runtime (%s); every call goes to the BLAS behind", e.what());
    } catch (...) {
      log_warn("no anycl runtime (unknown error); every call goes to the BLAS behind");
    }
  });
  return rt;
}

// True when anycl computed the call; a failure is warned about once per process.
template <typename T>
bool run_on_anycl(const ColMajorCall<T>& c) noexcept {
  anycl::Runtime* rt = runtime();
  if (!rt) return false;
  try {
    anycl::GemmShape s;
    s.layout = anycl::Layout::ColMajor;
    s.trans_a = c.trans_a == 'N' ? anycl::Transpose::No : anycl::Transpose::Yes;
    s.trans_b = c.trans_b == 'N' ? anycl::Transpose::No : anycl::Transpose::Yes;
    s.m = static_cast<std::size_t>(c.m), s.n = static_cast<std::size_t>(c.n), s.k = static_cast<std::size_t>(c.k);
    s.lda = static_cast<std::size_t>(c.lda), s.ldb = static_cast<std::size_t>(c.ldb);
    s.ldc = static_cast<std::size_t>(c.ldc);
    anycl::gemm<T>(*rt, s, c.alpha, c.a, c.b, c.beta, c.c);
    return true;
  } catch (const std::exception& e) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) log_warn("anycl failed (%s); such calls go to the BLAS behind", e.what());
  } catch (...) {
  }
  return false;
}

template <typename T>
T op(const T* x, int ld, bool trans, int row, int col) {
  return trans ? x[col + static_cast<std::size_t>(row) * ld] : x[row + static_cast<std::size_t>(col) * ld];
}

// Plain loops for the calls nothing else can take (no BLAS behind and anycl unavailable), and
// for alpha == 0 or k == 0, where reference BLAS only scales C and never reads A or B.
// beta == 0 never reads C, as in reference BLAS.
template <typename T>
void host_gemm(const ColMajorCall<T>& c) {
  const bool ta = c.trans_a != 'N', tb = c.trans_b != 'N';
  for (int j = 0; j < c.n; ++j) {
    for (int i = 0; i < c.m; ++i) {
      T sum = 0;
      if (c.alpha != T(0))
        for (int p = 0; p < c.k; ++p) sum += op(c.a, c.lda, ta, i, p) * op(c.b, c.ldb, tb, p, j);
      T& out = c.c[i + static_cast<std::size_t>(j) * c.ldc];
      out = c.beta == T(0) ? c.alpha * sum : c.alpha * sum + c.beta * out;
    }
  }
}

}  // namespace

template <typename T>
void run_gemm(const char* routine, const ColMajorCall<T>& c, bool from_cblas) noexcept {
  // Reference BLAS's quick return: C is left exactly as it is.
  if (c.m == 0 || c.n == 0 || ((c.alpha == T(0) || c.k == 0) && c.beta == T(1))) return;
  const NextBlas& next = next_blas();
  const bool can_forward = next.has<T>();
  const double flops = 2.0 * c.m * c.n * c.k;
  if (can_forward && flops < min_flops()) {
    log_info("%s %dx%dx%d forwarded (below ANYCL_BLAS_MIN_FLOPS)", routine, c.m, c.n, c.k);
    next.forward(c, from_cblas);
    return;
  }
  if (c.alpha == T(0) || c.k == 0) {
    host_gemm(c);
    return;
  }
  if (run_on_anycl(c)) {
    log_info("%s %dx%dx%d on anycl", routine, c.m, c.n, c.k);
    return;
  }
  if (can_forward) {
    log_info("%s %dx%dx%d forwarded (anycl unavailable)", routine, c.m, c.n, c.k);
    next.forward(c, from_cblas);
    return;
  }
  log_info("%s %dx%dx%d on the built-in loops (no anycl, no BLAS behind)", routine, c.m, c.n, c.k);
  host_gemm(c);
}

template void run_gemm<float>(const char*, const ColMajorCall<float>&, bool) noexcept;
template void run_gemm<double>(const char*, const ColMajorCall<double>&, bool) noexcept;

}  // namespace anycl::blas
