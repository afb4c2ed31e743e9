// The BLAS behind libanycl_blas: where small products and failed calls go, and the error
// handlers bad arguments are reported to (docs/blas.md).
#pragma once

#include <cstddef>
#include <type_traits>

#include "blas/gemm_call.hpp"

namespace anycl::blas {

template <typename T>
using CblasGemm = void (*)(int, int, int, int, int, int, T, const T*, int, const T*, int, T, T*, int);
template <typename T>
using FortranGemm = void (*)(const char*, const char*, const int*, const int*, const int*, const T*, const T*,
                             const int*, const T*, const int*, const T*, T*, const int*, std::size_t, std::size_t);

// The entry points of the first BLAS found, resolved once per process (thread-safe): the
// library ANYCL_BLAS_FALLBACK names, else the next definitions in lookup order
// (dlsym(RTLD_NEXT)), else the first of libblas.so.3, libopenblas.so.0, libcblas.so.3 that
// dlopen finds. libanycl_blas's own definitions are never taken.
struct NextBlas {
  CblasGemm<float> cblas_sgemm = nullptr;
  CblasGemm<double> cblas_dgemm = nullptr;
  FortranGemm<float> sgemm = nullptr;
  FortranGemm<double> dgemm = nullptr;

  template <typename T>
  CblasGemm<T> cblas() const {
    if constexpr (std::is_same_v<T, float>) return cblas_sgemm;
    else return cblas_dgemm;
  }
  template <typename T>
  FortranGemm<T> fortran() const {
    if constexpr (std::is_same_v<T, float>) return sgemm;
    else return dgemm;
  }
  template <typename T>
  bool has() const { return cblas<T>() || fortran<T>(); }
  // Runs the call there, through the interface the caller used when the BLAS has it.
  template <typename T>
  void forward(const ColMajorCall<T>& call, bool from_cblas) const;
};

const NextBlas& next_blas() noexcept;

// Reports a bad argument as reference BLAS does: xerbla_("SGEMM ", &info, 6) for the Fortran
// interface, cblas_xerbla(p, "cblas_sgemm", message) for CBLAS, to the handler docs/blas.md
// names. Never stops or exits the process itself.
void report_fortran_error(const char* srname6, int info) noexcept;
// `form` is reference CBLAS's message: one %d for `value`, or none.
void report_cblas_error(int p, const char* routine, const char* form, int value) noexcept;

}  // namespace anycl::blas
