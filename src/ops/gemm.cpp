// anycl's GEMM kernels on one device: the direct/packed dispatch and the packed family's parts.
#include "ops/gemm_kernels.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

template <>
const char* precision_suffix<float>() { return "f32"; }
template <>
const char* precision_suffix<double>() { return "f64"; }

namespace {

std::string variant(const char* family, const char* suffix) { return std::string(family) + "_" + suffix; }

// The direct kernel reads the caller's matrices in place: it wins when packing cannot be paid
// back (small problems, or one side too narrow to fill the machine with packed tiles), but reads
// B with vector loads only when op(B) rows are contiguous. Thresholds are per-device parameters;
// a narrow C (few columns) and a short C (few rows) have their own, since the direct kernel
// spreads a narrow C's width over a group but walks a short C's long rows tile by tile.
bool prefer_direct(const GemmProblem& p, const BuiltProgram& direct) {
  const double work = double(p.m) * double(p.n) * double(p.k);
  auto cube = [](long v) { return double(v) * double(v) * double(v); };
  if (work <= cube(direct.param("DIRECT_TINY"))) return true;
  if (p.trans_b) return false;
  return work <= cube(direct.param("DIRECT_MAX")) || p.n <= std::size_t(direct.param("DIRECT_NARROW")) ||
         p.m <= std::size_t(direct.param("DIRECT_NARROW_M"));
}

}  // namespace

template <typename T>
cl_event enqueue_direct(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  const std::string v = variant("gemm_direct", precision_suffix<T>());
  const BuiltProgram& prog = slot.program(v);
  auto k = slot.kernel(v, "gemm_direct");
  // k = 0 (also for alpha = 0) scales C by beta without reading A or B, as BLAS requires.
  const bool skip_ab = p.k == 0 || alpha == T(0);
  set_args(k, slot.where() + ", gemm_direct", cl_int(p.m), cl_int(p.n), cl_int(skip_ab ? 0 : p.k), alpha, a,
           cl_ulong(p.a_off), cl_int(p.lda), cl_int(p.trans_a), cl_ulong(p.stride_a), b, cl_ulong(p.b_off),
           cl_int(p.ldb), cl_int(p.trans_b), cl_ulong(p.stride_b), beta, c, cl_ulong(p.c_off), cl_int(p.ldc),
           cl_ulong(p.stride_c));
  const std::size_t mr = prog.param("MR"), nr = prog.param("NR");
  // A narrow C is covered by one group across its width, so the group shares A rows instead.
  const std::size_t cols = p.n <= 4 * nr ? ceil_div(p.n, nr) : 1;
  return enqueue(slot, k, {ceil_div(p.n, nr), ceil_div(p.m, mr), p.batch}, {cols, std::size_t(prog.param("WG_ROWS")), 1},
                 "gemm_direct");
}

// The GPU-class family: one kernel for every shape, tiles staged through local memory.
template <typename T>
cl_event enqueue_tiled(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  const std::string v = variant("gemm_tiled", precision_suffix<T>());
  const BuiltProgram& prog = slot.program(v);
  const bool skip_ab = p.k == 0 || alpha == T(0);
  const std::size_t mdimc = prog.param("MDIMC"), ndimc = prog.param("NDIMC");
  return enqueue_kernel(slot, v, "gemm_tiled", nullptr, {0, 0, 0},
                        {ceil_div(p.n, prog.param("MWG")) * mdimc, ceil_div(p.m, prog.param("NWG")) * ndimc, p.batch},
                        {mdimc, ndimc, 1}, cl_int(p.m), cl_int(p.n), cl_int(skip_ab ? 0 : p.k), alpha, a,
                        cl_ulong(p.a_off), cl_int(p.lda), cl_int(p.trans_a), cl_ulong(p.stride_a), b,
                        cl_ulong(p.b_off), cl_int(p.ldb), cl_int(p.trans_b), cl_ulong(p.stride_b), beta, c,
                        cl_ulong(p.c_off), cl_int(p.ldc), cl_ulong(p.stride_c));
}

template <typename T>
cl_event enqueue_packed(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  const PackedPanels panels(slot, p, packed_layout(slot, precision_suffix<T>()), sizeof(T));
  enqueue_pack_ab<T>(slot, p, a, panels.ap.mem(), panels.ap_elems, panels.batch_a, b, panels.bp.mem(), panels.bp_elems,
                     panels.batch_b);
  return enqueue_packed_micro<T>(slot, p.m, p.n, p.k, alpha, panels.ap.mem(), panels.ap_stride(), panels.bp.mem(),
                                 panels.bp_stride(), beta, c, p.c_off, p.ldc, p.stride_c, p.batch);
}

PackedPanels::PackedPanels(const DeviceSlot& slot, const GemmProblem& p, const PackedLayout& lay, std::size_t elem)
    : batch_a(p.stride_a == 0 ? 1 : p.batch),
      batch_b(p.stride_b == 0 ? 1 : p.batch),
      ap_elems(lay.a_panel_elems(p.m, p.k)),
      bp_elems(lay.b_panel_elems(p.n, p.k)),
      ap(*slot.workspace, *slot.context, slot.info, workspace_bytes({ap_elems, batch_a, elem})),
      bp(*slot.workspace, *slot.context, slot.info, workspace_bytes({bp_elems, batch_b, elem})) {}

bool runs_packed(const DeviceSlot& slot, const GemmProblem& p, bool alpha_zero, const char* suffix) {
  if (p.m == 0 || p.n == 0 || p.batch == 0 || p.k == 0 || alpha_zero) return false;
  if (slot.has_program(variant("gemm_tiled", suffix))) return false;
  return !prefer_direct(p, slot.program(variant("gemm_direct", suffix)));
}

PackedLayout tile_layout(const DeviceSlot& slot, const std::string& name) {
  const BuiltProgram& prog = slot.program(name);
  return {std::size_t(prog.param("MR")), std::size_t(prog.param("NR"))};
}

PackedLayout packed_layout(const DeviceSlot& slot, const char* suffix) {
  return tile_layout(slot, variant("gemm_packed", suffix));
}

namespace {

// pack_a and pack_b differ only in which operand and panel width they take.
template <typename T>
void enqueue_pack(const DeviceSlot& slot, const char* name, std::size_t rows, std::size_t k, bool trans, cl_mem src,
                  std::size_t off, std::size_t ld, std::size_t stride, const char* width, cl_mem dst,
                  std::size_t dst_stride, std::size_t batch, const Claim* claim) {
  const std::string v = variant("gemm_packed", precision_suffix<T>());
  const BuiltProgram& prog = slot.program(v);
  clReleaseEvent(enqueue_kernel(slot, v, name, claim, {0, 0, 0},
                                {ceil_div(k, prog.param("PACK_KC")), ceil_div(rows, prog.param(width)), batch},
                                {std::size_t(prog.param("WG_PACK")), 1, 1}, cl_int(rows), cl_int(k), cl_int(trans), src,
                                cl_ulong(off), cl_int(ld), cl_ulong(stride), dst, cl_ulong(dst_stride)));
}

}  // namespace

// Both operands in one launch (pack_ab): on a CPU device every launch costs a queue hand-off.
template <typename T>
void enqueue_pack_ab(const DeviceSlot& slot, const GemmProblem& p, cl_mem a, cl_mem ap, std::size_t ap_stride,
                     std::size_t batch_a, cl_mem b, cl_mem bp, std::size_t bp_stride, std::size_t batch_b) {
  const std::string v = variant("gemm_packed", precision_suffix<T>());
  const BuiltProgram& prog = slot.program(v);
  const std::size_t panel_rows = ceil_div(p.m, prog.param("MR")) + ceil_div(p.n, prog.param("NR"));
  clReleaseEvent(enqueue_kernel(slot, v, "pack_ab", nullptr, {0, 0, 0},
                                {ceil_div(p.k, prog.param("PACK_KC")), panel_rows, std::max(batch_a, batch_b)},
                                {std::size_t(prog.param("WG_PACK")), 1, 1}, cl_int(p.m), cl_int(p.n), cl_int(p.k),
                                cl_int(p.trans_a), cl_int(p.trans_b), a, cl_ulong(p.a_off), cl_int(p.lda),
                                cl_ulong(p.stride_a), ap, cl_ulong(ap_stride), cl_int(batch_a), b, cl_ulong(p.b_off),
                                cl_int(p.ldb), cl_ulong(p.stride_b), bp, cl_ulong(bp_stride), cl_int(batch_b)));
}

template <typename T>
void enqueue_pack_a(const DeviceSlot& slot, const GemmProblem& p, cl_mem a, cl_mem ap, std::size_t ap_stride,
                    std::size_t batch, const Claim* claim) {
  enqueue_pack<T>(slot, "pack_a", p.m, p.k, p.trans_a, a, p.a_off, p.lda, p.stride_a, "MR", ap, ap_stride, batch,
                  claim);
}

template <typename T>
void enqueue_pack_b(const DeviceSlot& slot, const GemmProblem& p, cl_mem b, cl_mem bp, std::size_t bp_stride,
                    std::size_t batch, const Claim* claim) {
  enqueue_pack<T>(slot, "pack_b", p.n, p.k, p.trans_b, b, p.b_off, p.ldb, p.stride_b, "NR", bp, bp_stride, batch,
                  claim);
}

namespace {
// Panel rows a gemm_packed work-group takes: at most WG_ROWS, spread evenly over the groups so
// that none is a stub (22 panels as 16 + 6 left one of two cores idle: 1.27x the time).
std::size_t group_rows(std::size_t panels, std::size_t wg_rows) {
  return ceil_div(panels, std::max<std::size_t>(ceil_div(panels, wg_rows), 1));
}

// The launch every tile kernel of gemm_packed.cl shares: one work-item an MR x NR tile of an
// m x n product (from panel first_panel on), the panels of a column spread by group_rows.
template <typename T, typename... Args>
cl_event enqueue_tiles(const DeviceSlot& slot, const char* kernel, std::size_t m, std::size_t n, std::size_t batch,
                       std::size_t first_panel, const Claim* claim, const Args&... args) {
  const std::string v = variant("gemm_packed", precision_suffix<T>());
  const BuiltProgram& prog = slot.program(v);
  const std::size_t panels = ceil_div(m, prog.param("MR")), rows = panels - std::min(first_panel, panels);
  return enqueue_kernel(slot, v, kernel, claim, {0, first_panel, 0}, {ceil_div(n, prog.param("NR")), rows, batch},
                        {1, group_rows(rows, std::size_t(prog.param("WG_ROWS"))), 1}, args...);
}
}  // namespace

template <typename T>
cl_event enqueue_packed_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k, T alpha, cl_mem ap,
                              std::size_t ap_stride, cl_mem bp, std::size_t bp_stride, T beta, cl_mem c,
                              std::size_t c_off, std::size_t ldc, std::size_t c_stride, std::size_t batch,
                              std::size_t c_seg, std::size_t c_seg_stride, std::size_t first_panel,
                              const Claim* claim) {
  return enqueue_tiles<T>(slot, "gemm_packed", m, n, batch, first_panel, claim, cl_int(m), cl_int(n), cl_int(k), alpha,
                          ap, cl_ulong(ap_stride), bp, cl_ulong(bp_stride), beta, c, cl_ulong(c_off), cl_int(ldc),
                          cl_ulong(c_stride), cl_int(c_seg ? c_seg : n), cl_ulong(c_seg_stride));
}

cl_event enqueue_rows_a_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k, std::size_t seg,
                              cl_mem a, std::size_t a_off, std::size_t lda, std::size_t a_seg_stride, cl_mem bp,
                              float beta, cl_mem c, std::size_t c_off, std::size_t ldc) {
  return enqueue_tiles<float>(slot, "gemm_rows_a", m, n, 1, 0, nullptr, cl_int(m), cl_int(n), cl_int(k), cl_int(seg),
                              a, cl_ulong(a_off), cl_int(lda), cl_ulong(a_seg_stride), bp, beta, c, cl_ulong(c_off),
                              cl_int(ldc));
}

cl_event enqueue_rows_b_micro(const DeviceSlot& slot, std::size_t m, std::size_t n, std::size_t k, cl_mem ap,
                              cl_mem b, std::size_t b_off, std::size_t ldb, std::size_t seg, std::size_t b_seg_stride,
                              cl_mem c, std::size_t c_off, std::size_t ldc, std::size_t c_seg,
                              std::size_t c_seg_stride) {
  return enqueue_tiles<float>(slot, "gemm_rows_b", m, n, 1, 0, nullptr, cl_int(m), cl_int(n), cl_int(k), ap, b,
                              cl_ulong(b_off), cl_int(ldb), cl_int(seg), cl_ulong(b_seg_stride), c, cl_ulong(c_off),
                              cl_int(ldc), cl_int(c_seg), cl_ulong(c_seg_stride));
}

template <typename T>
cl_event enqueue_gemm(const DeviceSlot& slot, const GemmProblem& p, T alpha, cl_mem a, cl_mem b, T beta, cl_mem c) {
  if (p.m == 0 || p.n == 0 || p.batch == 0) return enqueue_marker(slot);
  if (runs_packed(slot, p, alpha == T(0), precision_suffix<T>())) return enqueue_packed(slot, p, alpha, a, b, beta, c);
  if (slot.has_program(variant("gemm_tiled", precision_suffix<T>()))) return enqueue_tiled(slot, p, alpha, a, b, beta, c);
  return enqueue_direct(slot, p, alpha, a, b, beta, c);
}

#define ANYCL_INSTANTIATE(T)                                                                                         \
  template cl_event enqueue_gemm<T>(const DeviceSlot&, const GemmProblem&, T, cl_mem, cl_mem, T, cl_mem);          \
  template cl_event enqueue_packed<T>(const DeviceSlot&, const GemmProblem&, T, cl_mem, cl_mem, T, cl_mem);        \
  template cl_event enqueue_tiled<T>(const DeviceSlot&, const GemmProblem&, T, cl_mem, cl_mem, T, cl_mem);         \
  template cl_event enqueue_direct<T>(const DeviceSlot&, const GemmProblem&, T, cl_mem, cl_mem, T, cl_mem);        \
  template void enqueue_pack_ab<T>(const DeviceSlot&, const GemmProblem&, cl_mem, cl_mem, std::size_t, std::size_t, \
                                   cl_mem, cl_mem, std::size_t, std::size_t);                                      \
  template void enqueue_pack_a<T>(const DeviceSlot&, const GemmProblem&, cl_mem, cl_mem, std::size_t, std::size_t,   \
                                  const Claim*);                                                                   \
  template void enqueue_pack_b<T>(const DeviceSlot&, const GemmProblem&, cl_mem, cl_mem, std::size_t, std::size_t,   \
                                  const Claim*);                                                                   \
  template cl_event enqueue_packed_micro<T>(const DeviceSlot&, std::size_t, std::size_t, std::size_t, T, cl_mem,   \
                                            std::size_t, cl_mem, std::size_t, T, cl_mem, std::size_t, std::size_t, \
                                            std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,       \
                                            const Claim*);
ANYCL_INSTANTIATE(float)
ANYCL_INSTANTIATE(double)
#undef ANYCL_INSTANTIATE

}  // namespace anycl::detail
