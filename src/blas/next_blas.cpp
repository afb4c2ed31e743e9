#include "blas/next_blas.hpp"

#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "blas/blas_log.hpp"

// Error handlers an application (or the BLAS in the global scope) may define. Weak references:
// they make the linker export an executable's own definitions, and are null when nobody has one.
extern "C" {
__attribute__((weak)) void xerbla_(const char* srname, const int* info, std::size_t srname_len);
__attribute__((weak)) void cblas_xerbla(int p, const char* rout, const char* form, ...);
}

namespace anycl::blas {
namespace {

void* base_of(const void* symbol) {
  Dl_info info;
  return symbol && dladdr(symbol, &info) ? info.dli_fbase : nullptr;
}

bool is_ours(const void* symbol) {
  static void* const own = base_of(reinterpret_cast<const void*>(&next_blas));
  return base_of(symbol) == own;
}

// A definition of `name` reachable from `handle` that is not libanycl_blas's own, or null.
template <typename Fn>
Fn find(void* handle, const char* name) {
  void* symbol = dlsym(handle, name);
  return symbol && !is_ours(symbol) ? reinterpret_cast<Fn>(symbol) : nullptr;
}

bool take_from(void* handle, NextBlas& next) {
  next.cblas_sgemm = find<CblasGemm<float>>(handle, "cblas_sgemm");
  next.cblas_dgemm = find<CblasGemm<double>>(handle, "cblas_dgemm");
  next.sgemm = find<FortranGemm<float>>(handle, "sgemm_");
  next.dgemm = find<FortranGemm<double>>(handle, "dgemm_");
  return next.has<float>() || next.has<double>();
}

const char* file_of(const void* symbol) {
  Dl_info info;
  return symbol && dladdr(symbol, &info) && info.dli_fname ? info.dli_fname : "?";
}

// The search docs/blas.md describes. Libraries opened here stay open for the process.
NextBlas resolve() {
  NextBlas next;
  const char* how = nullptr;
  if (const char* path = std::getenv("ANYCL_BLAS_FALLBACK"); path && *path) {
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      log_warn("ANYCL_BLAS_FALLBACK=%s cannot be loaded (%s); nothing to forward to", path, dlerror());
    } else if (take_from(handle, next)) {
      how = "ANYCL_BLAS_FALLBACK";
    } else {
      log_warn("ANYCL_BLAS_FALLBACK=%s has no ?gemm entry point; nothing to forward to", path);
    }
  } else if (take_from(RTLD_NEXT, next)) {
    how = "next in lookup order";
  } else {
    for (const char* name : {"libblas.so.3", "libopenblas.so.0", "libcblas.so.3"}) {
      void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (handle && take_from(handle, next)) {
        how = name;
        break;
      }
      if (handle) dlclose(handle);
    }
  }
  const void* any = next.sgemm ? reinterpret_cast<const void*>(next.sgemm)
                               : reinterpret_cast<const void*>(next.cblas_sgemm);
  if (how) log_info("the BLAS behind is %s (%s)", file_of(any), how);
  else log_info("no BLAS behind: every call runs on anycl");
  return next;
}

// Whether `handler` belongs to a BLAS library (one that defines cblas_sgemm itself).
bool in_blas_library(const void* handler) {
  Dl_info info;
  if (!dladdr(handler, &info) || !info.dli_fname || !*info.dli_fname) return false;
  void* handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  if (!handle) return false;
  const bool blas = base_of(dlsym(handle, "cblas_sgemm")) == info.dli_fbase;
  dlclose(handle);
  return blas;
}

void builtin_xerbla(const char* srname6, int info) {
  int len = 6;
  while (len > 0 && srname6[len - 1] == ' ') --len;
  std::fprintf(stderr, " ** On entry to %.*s parameter number %2d had an illegal value\n", len, srname6, info);
}

void builtin_cblas_xerbla(int p, const char* rout, const char* form, ...) {
  std::fprintf(stderr, "Parameter %d to routine %s was incorrect\n", p, rout);
  va_list args;
  va_start(args, form);
  std::vfprintf(stderr, form, args);
  va_end(args);
}

using CblasXerbla = void (*)(int, const char*, const char*, ...);

}  // namespace

template <typename T>
void NextBlas::forward(const ColMajorCall<T>& c, bool from_cblas) const {
  const CblasGemm<T> cblas_gemm = cblas<T>();
  const FortranGemm<T> fortran_gemm = fortran<T>();
  if (cblas_gemm && (from_cblas || !fortran_gemm)) {
    auto trans = [](char t) { return t == 'N' ? ANYCL_BLAS_NO_TRANS : t == 'T' ? ANYCL_BLAS_TRANS : ANYCL_BLAS_CONJ_TRANS; };
    cblas_gemm(ANYCL_BLAS_COL_MAJOR, trans(c.trans_a), trans(c.trans_b), c.m, c.n, c.k, c.alpha, c.a, c.lda, c.b, c.ldb,
          c.beta, c.c, c.ldc);
  } else {
    fortran_gemm(&c.trans_a, &c.trans_b, &c.m, &c.n, &c.k, &c.alpha, c.a, &c.lda, c.b, &c.ldb, &c.beta, c.c, &c.ldc, 1, 1);
  }
}
template void NextBlas::forward<float>(const ColMajorCall<float>&, bool) const;
template void NextBlas::forward<double>(const ColMajorCall<double>&, bool) const;

const NextBlas& next_blas() noexcept {
  static const NextBlas next = resolve();
  return next;
}

// Fortran: the xerbla_ of the application or of a BLAS in the global scope (OpenBLAS's and
// Debian's reference libblas.so.3 print and return; a pure Fortran reference XERBLA stops, as it
// would without anycl), else a built-in one that prints reference XERBLA's message and returns.
void report_fortran_error(const char* srname6, int info) noexcept {
  if (xerbla_) xerbla_(srname6, &info, 6);
  else builtin_xerbla(srname6, info);
}

// CBLAS: the application's cblas_xerbla, but not a BLAS library's own (reference CBLAS's and
// OpenBLAS's call exit(-1)); else a built-in one that prints reference CBLAS's message and returns.
void report_cblas_error(int p, const char* routine, const char* form, int value) noexcept {
  static const CblasXerbla handler = cblas_xerbla && !in_blas_library(reinterpret_cast<const void*>(&cblas_xerbla))
                                         ? &cblas_xerbla
                                         : &builtin_cblas_xerbla;
  handler(p, routine, form, value);
}

}  // namespace anycl::blas
