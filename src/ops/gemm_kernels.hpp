// Enqueueing anycl's GEMM kernels on one device; shared by the GEMM API and convolution.
#pragma once

#include "ops/gemm_args.hpp"
#include "runtime/runtime_impl.hpp"
#include "runtime/workspace.hpp"

namespace anycl::detail {

struct Claim;  // runtime/launch.hpp: kernels whose work-groups several devices take from one counter

template <typename T>
const char* precision_suffix();  // "f32" / "f64"

// C = alpha * op(A) op(B) + beta * C for a validated row-major problem: the tiled family where the
// device runs it (runtime/gemm_family.hpp), else the direct or the packed kernels by shape.
// Returns the event of the last kernel.
template <typename T>
[[nodiscard]] cl_event enqueue_gemm(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta,
                                    cl_mem c);

// One family regardless of shape (a tuner times the family it tunes): the packed kernels, the
// tiled family (the device must have its program) or the direct kernel.
template <typename T>
[[nodiscard]] cl_event enqueue_packed(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta,
                                      cl_mem c);
template <typename T>
[[nodiscard]] cl_event enqueue_tiled(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta,
                                     cl_mem c);
template <typename T>
[[nodiscard]] cl_event enqueue_direct(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta,
                                      cl_mem c);

// The packed family's pieces, for callers that produce packed panels themselves (im2col).
struct PackedLayout {
  std::size_t mr, nr;
  std::size_t a_panel_elems(std::size_t m, std::size_t k) const { return (m + mr - 1) / mr * mr * k; }
  std::size_t b_panel_elems(std::size_t n, std::size_t k) const { return (n + nr - 1) / nr * nr * k; }
};
PackedLayout packed_layout(const DeviceSlot& slot, const char* suffix = "f32");
// The MR x NR tile of `variant`'s program (a family with the packed panels' layout: its own
// where the parameter table pins one, else gemm_packed's).
PackedLayout tile_layout(const DeviceSlot& slot, const std::string& variant);

// Whether enqueue_gemm runs this problem through the packed kernels (else the tiled family where
// the device runs it, or the direct kernel);
// `suffix` is the precision, "f32" or "f64".
bool runs_packed(const DeviceSlot& slot, const GemmProblem& p, bool alpha_zero, const char* suffix);

// The packed panels of one GEMM, from the slot's workspace pool. A batch that shares one A
// (stride 0) packs it once; likewise B.
struct PackedPanels {
  std::size_t batch_a, batch_b, ap_elems, bp_elems;
  Workspace ap, bp;
  PackedPanels(const DeviceSlot& slot, const GemmProblem& p, const PackedLayout& lay, std::size_t elem_bytes);
  std::size_t ap_stride() const { return batch_a == 1 ? 0 : ap_elems; }
  std::size_t bp_stride() const { return batch_b == 1 ? 0 : bp_elems; }
};

// pack_a and pack_b of one problem in one launch (each operand as its own call would pack it).
template <typename T>
void enqueue_pack_ab(const DeviceSlot& slot, const GemmProblem& p, cl_mem a, cl_mem ap, std::size_t ap_stride,
                     std::size_t batch_a, cl_mem b, cl_mem bp, std::size_t bp_stride, std::size_t batch_b);
template <typename T>
void enqueue_pack_a(const DeviceSlot& slot, const GemmProblem& p, cl_mem a, cl_mem ap, std::size_t ap_stride,
                    std::size_t batch, const Claim* claim = nullptr);
template <typename T>
void enqueue_pack_b(const DeviceSlot& slot, const GemmProblem& p, cl_mem b, cl_mem bp, std::size_t bp_stride,
                    std::size_t batch, const Claim* claim = nullptr);
// Micro-kernel over packed panels: C[c_off + batch*c_stride + (j/c_seg)*c_seg_stride + i*ldc + j%c_seg]
// (c_seg 0 = n: plain row-major C). Rows from first_panel*MR to m: a device's part of a GEMM
// whose packed A holds every row. With `claim`, every device that launches the same rows claims
// their tiles from one counter.
template <typename T>
[[nodiscard]] cl_event enqueue_packed_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k,
                                            T alpha, cl_mem ap, std::size_t ap_stride, cl_mem bp,
                                            std::size_t bp_stride, T beta, cl_mem c, std::size_t c_off,
                                            std::size_t ldc, std::size_t c_stride, std::size_t batch,
                                            std::size_t c_seg = 0, std::size_t c_seg_stride = 0,
                                            std::size_t first_panel = 0, const Claim* claim = nullptr);

// Where A is rows in place rather than packed panels (gemm_rows_a, float, m >= MR): C (row-major,
// ldc) = A * Bp + beta * C, row i's reduction index s*seg + t read at a[a_off + s*a_seg_stride +
// i*lda + t]; Bp packed for the whole k. Backward-weights' dy needs no transposed copy so.
[[nodiscard]] cl_event enqueue_rows_a_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k,
                                            std::size_t seg, cl_mem a, std::size_t a_off, std::size_t lda,
                                            std::size_t a_seg_stride, cl_mem bp, float beta, cl_mem c,
                                            std::size_t c_off, std::size_t ldc);

// Where B is rows in place rather than packed panels (gemm_rows_b, float, seg >= NR, n a multiple of NR):
// C = Ap * B with C's column segments as enqueue_packed_micro's, column s*seg + t of B's row kk
// read at b[b_off + s*b_seg_stride + kk*ldb + t]. A 1x1 convolution's x needs no packed copy so.
[[nodiscard]] cl_event enqueue_rows_b_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k,
                                            cl_mem ap, cl_mem b, std::size_t b_off, std::size_t ldb, std::size_t seg,
                                            std::size_t b_seg_stride, cl_mem c, std::size_t c_off, std::size_t ldc,
                                            std::size_t c_seg, std::size_t c_seg_stride);

}  // namespace anycl::detail
