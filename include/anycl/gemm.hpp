// anycl C++ API: general matrix multiply, C = alpha * op(A) * op(B) + beta * C (CBLAS semantics).
#pragma once

#include <cstddef>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl {

enum class Layout { RowMajor = ANYCL_ROW_MAJOR, ColMajor = ANYCL_COL_MAJOR };
enum class Transpose { No = ANYCL_NO_TRANS, Yes = ANYCL_TRANS };
enum class GemmProvider { Anycl = ANYCL_GEMM_ANYCL, CLBlast = ANYCL_GEMM_CLBLAST };

// Sizes, leading dimensions and (for batches) element strides between consecutive matrices.
struct GemmShape {
  Layout layout = Layout::RowMajor;
  Transpose trans_a = Transpose::No, trans_b = Transpose::No;
  std::size_t m = 0, n = 0, k = 0;
  std::size_t lda = 0, ldb = 0, ldc = 0;
  std::size_t batch = 1;
  std::size_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// On device buffers (offsets in elements), asynchronous: returns the event that ends the call;
// none of its work starts before every event of `wait` completed (docs/interop.md).
// A runtime of several devices that share the buffers' memory splits it (docs/multi-device.md).
// beta == 0 means C is not read. Supported T: float, double (double needs an fp64 device).
template <typename T>
ANYCL_API Event gemm(Runtime& rt, const GemmShape& shape, T alpha, const Buffer& a, std::size_t a_offset,
           const Buffer& b, std::size_t b_offset, T beta, const Buffer& c, std::size_t c_offset,
           const std::vector<Event>& wait = {});

// On host pointers, synchronous.
template <typename T>
ANYCL_API void gemm(Runtime& rt, const GemmShape& shape, T alpha, const T* a, const T* b, T beta, T* c);

// Pointer-array batch on host pointers: matrix i is a[i], b[i], c[i]; shape.batch is the count.
template <typename T>
ANYCL_API void gemm_batched(Runtime& rt, const GemmShape& shape, T alpha, const T* const* a,
                  const T* const* b, T beta, T* const* c);

// Routes this runtime's GEMM calls (ANYCL_GEMM=clblast sets the initial choice).
ANYCL_API void set_gemm_provider(Runtime& rt, GemmProvider provider);
ANYCL_API GemmProvider gemm_provider(const Runtime& rt);

}  // namespace anycl
