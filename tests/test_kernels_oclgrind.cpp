// Every kernel of every family, once, on small shapes, on the Oclgrind simulator. ctest runs this
// under `oclgrind --data-races --uninitialized` (entry test_kernels_oclgrind_oclgrind, see
// tests/CMakeLists.txt), which fails on ANY Oclgrind report: out-of-bounds access, data race,
// use of uninitialised memory, barrier divergence. Buffer releases are deferred to the end of the
// run (tests/oclgrind/deferred_release.cpp says why: an Oclgrind artefact on reused buffer slots). The results are also checked against plain
// references (a double-accumulating loop for GEMM, tests/reference/conv_reference.hpp for
// convolution), so a kernel that Oclgrind runs cleanly but wrongly still fails.
//
// Kernels reached, by family (the test case names say which):
//   gemm_direct_f32/f64  gemm_direct
//   gemm_packed_f32/f64  pack_ab, pack_a, pack_b, gemm_packed, and their _claimed twins;
//                        gemm_rows_a (f32: backward-weights' Im2col GEMM with dy read in place),
//                        gemm_rows_b (f32: a 1x1's GEMM with x, or dy, read in place)
//   conv_im2col          im2col_packed, im2col, col2im, im2col_t_packed, conv_pack_dy_a,
//                        conv_pack_dy_b, conv_pack_x_1x1(_strided), conv_pack_x_t_1x1, conv_bias_act, conv_dbias,
//                        conv_phase_filter, conv_phase_interleave
//   conv_im2col_gemm     conv_im2col_gemm (strided forward Im2col: gather into local memory + GEMM)
//   conv_direct          conv_direct_fwd, conv_direct_bwd_data, conv_direct_bwd_weights,
//                        conv_direct_dbias
//   conv_depthwise       conv_dw_fwd (forward; backward-data with the filter rotated, at stride 2
//                        by output parity), conv_dw_bwd_weights
//   conv_depthwise_nhwc  conv_dwn_fwd (forward; backward-data on upsampled dy), conv_dwn_bwd_weights
//   conv_layout          transpose_batched, nhwc_bias_act, nhwc_dbias
//   conv_winograd        winograd_filter_transform, winograd_tiles (also in parts with global
//                        offsets, as devices sharing one pass run them, over several channel
//                        chunks), and winograd_tiles_claimed; built for F(2x2) and F(4x4);
//                        NCHW and NHWC (also one image a launch); winograd_tiles_fused (the
//                        filter transform inside the tile kernel)
//   conv_winograd_weights  winograd_bwdw_tiles_nchw (NCHW read in place), winograd_bwdw_tiles
//                        (NCHW staged channels-last, NHWC calls; both in groups of rows, of
//                        channels, segments), winograd_bwdw_output
//                        (KCRS and OHWI); the packed path's winograd_bwdw_pack_x_nchw,
//                        winograd_bwdw_pack_dy_nchw and winograd_bwdw_products
//
// The public GEMM API takes the packed path only when m*n*k > DIRECT_TINY^3 with op(B)
// transposed (64^3 = 262144 multiply-adds by default), or, with op(B) not transposed, m*n*k >
// DIRECT_MAX^3 (512^3), n > DIRECT_NARROW and m > DIRECT_NARROW_M: src/ops/gemm.cpp prefer_direct. The
// smallest transposed-B problems past DIRECT_TINY (m = MR + 1, n = NR + 1, k ~ 5800) run once per
// precision. The rest of the packed coverage (op(B) not transposed, partial tiles, offsets,
// shared-A batches) calls the family's three kernels directly through anycl::detail
// (enqueue_pack_ab or enqueue_pack_a and enqueue_pack_b, then enqueue_packed_micro, as
// enqueue_packed does) on tiny shapes,
// which the interpreter runs in moments.
// `im2col` (the plain, unpacked layout) is launched directly here; its library caller, the
// GPU-class path, and that path's own kernels (gemm_tiled, conv_direct_wg, conv_winograd_tiled,
// conv_sum_slices) run in test_gemm_tiled_oclgrind and test_conv_tiled_oclgrind.
//
// Hidden ([.oclgrind]): it needs the Oclgrind device, which only the dedicated ctest entry
// provides (tests/oclgrind/oclgrind_runtime.hpp).

#include <catch2/catch.hpp>

#include <algorithm>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "anycl/anycl.hpp"
#include "ops/conv2d_geometry.hpp"
#include "ops/conv2d_winograd.hpp"
#include "sched/claims.hpp"
#include "sched/engine.hpp"
#include "ops/gemm_kernels.hpp"
#include "conv_check.hpp"
#include "oclgrind/oclgrind_runtime.hpp"
#include "support.hpp"

namespace {

using anycl::ConvAlgo;
using anycl::GemmShape;
using anycl::Layout;
using anycl::Transpose;
using anycl_test::ConvDesc;
using anycl_test::abs_of;
using anycl_test::count_bad;
using anycl_test::describe;
using anycl_test::random_values;
using anycl_test::to_anycl;

anycl::Runtime& runtime() { return anycl_test::oclgrind_runtime(anycl_test::OclgrindGemm::Cpu); }

// ---------------------------------------------------------------------------------------------
// GEMM reference: a plain loop in double over the stored (row- or column-major) matrices, with
// the classic bound |err| <= 2 (k + 2) eps (|alpha| |A||B| + |beta| |C0|) per element.

struct GemmRef {
  std::vector<double> c, bound;
};

std::size_t stored(bool row, std::size_t rows, std::size_t cols, std::size_t ld) {
  return rows == 0 || cols == 0 ? 0 : row ? (rows - 1) * ld + cols : (cols - 1) * ld + rows;
}

template <typename T>
GemmRef gemm_reference(const GemmShape& s, T alpha, const std::vector<T>& a, const std::vector<T>& b, T beta,
                       const std::vector<T>& c0) {
  const bool row = s.layout == Layout::RowMajor;
  const bool ta = s.trans_a == Transpose::Yes, tb = s.trans_b == Transpose::Yes;
  // Element (i, j) of a stored matrix with leading dimension ld.
  auto at = [row](const std::vector<T>& v, std::size_t off, std::size_t ld, std::size_t i, std::size_t j) {
    return double(v[off + (row ? i * ld + j : j * ld + i)]);
  };
  GemmRef r{std::vector<double>(c0.begin(), c0.end()), std::vector<double>(c0.size(), 0.0)};
  const double eps = std::numeric_limits<T>::epsilon();
  for (std::size_t bi = 0; bi < s.batch; ++bi)
    for (std::size_t i = 0; i < s.m; ++i)
      for (std::size_t j = 0; j < s.n; ++j) {
        double acc = 0, mag = 0;
        for (std::size_t l = 0; l < s.k; ++l) {
          const double x = ta ? at(a, bi * s.stride_a, s.lda, l, i) : at(a, bi * s.stride_a, s.lda, i, l);
          const double y = tb ? at(b, bi * s.stride_b, s.ldb, j, l) : at(b, bi * s.stride_b, s.ldb, l, j);
          acc += x * y;
          mag += std::fabs(x * y);
        }
        const std::size_t ci = bi * s.stride_c + (row ? i * s.ldc + j : j * s.ldc + i);
        const double old = beta == T(0) ? 0.0 : double(c0[ci]);
        r.c[ci] = double(alpha) * acc + double(beta) * old;
        r.bound[ci] = 2 * (double(s.k) + 2) * eps * (std::fabs(double(alpha)) * mag + std::fabs(double(beta) * old)) +
                      std::numeric_limits<T>::min();
      }
  return r;
}

// Every element must match: logical ones within the bound, the rest (gaps) untouched.
template <typename T>
std::size_t count_bad(const std::vector<T>& got, const std::vector<T>& before, const GemmRef& r) {
  std::size_t bad = 0;
  for (std::size_t x = 0; x < got.size(); ++x) {
    const bool ok = std::isnan(r.c[x]) ? std::isnan(got[x])
                                       : std::fabs(double(got[x]) - r.c[x]) <= r.bound[x] ||
                                             (r.bound[x] == 0 && double(got[x]) == double(before[x]));
    if (!ok && bad++ < 3) UNSCOPED_INFO("C[" << x << "] = " << got[x] << ", expected " << r.c[x] << " +- " << r.bound[x]);
  }
  return bad;
}

GemmShape shape_of(Layout layout, Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k,
                   std::size_t pad = 1) {
  GemmShape s;
  s.layout = layout, s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k;
  const bool row = layout == Layout::RowMajor, tra = ta == Transpose::Yes, trb = tb == Transpose::Yes;
  s.lda = (row ? (tra ? m : k) : (tra ? k : m)) + pad;
  s.ldb = (row ? (trb ? k : n) : (trb ? n : k)) + pad;
  s.ldc = (row ? n : m) + pad;
  return s;
}

std::size_t extent_a(const GemmShape& s) {
  const bool row = s.layout == Layout::RowMajor, ta = s.trans_a == Transpose::Yes;
  return (s.batch - 1) * s.stride_a + stored(row, ta ? s.k : s.m, ta ? s.m : s.k, s.lda);
}
std::size_t extent_b(const GemmShape& s) {
  const bool row = s.layout == Layout::RowMajor, tb = s.trans_b == Transpose::Yes;
  return (s.batch - 1) * s.stride_b + stored(row, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb);
}
std::size_t extent_c(const GemmShape& s) {
  return (s.batch - 1) * s.stride_c + stored(s.layout == Layout::RowMajor, s.m, s.n, s.ldc);
}

// One host-pointer GEMM checked against the loop. beta == 0 puts NaN in C to prove it is not read.
template <typename T>
void check_gemm(const GemmShape& s, T alpha, T beta, unsigned seed) {
  const auto a = random_values<T>(extent_a(s), seed), b = random_values<T>(extent_b(s), seed + 1);
  std::vector<T> c = random_values<T>(extent_c(s), seed + 2);
  if (beta == T(0)) {  // logical elements NaN (must be overwritten), gaps kept (must survive)
    const bool row = s.layout == Layout::RowMajor;
    for (std::size_t bi = 0; bi < s.batch; ++bi)
      for (std::size_t i = 0; i < s.m; ++i)
        for (std::size_t j = 0; j < s.n; ++j)
          c[bi * s.stride_c + (row ? i * s.ldc + j : j * s.ldc + i)] = std::numeric_limits<T>::quiet_NaN();
  }
  const std::vector<T> before = c;
  const GemmRef ref = gemm_reference(s, alpha, a, b, beta, c);
  anycl::gemm<T>(runtime(), s, alpha, a.data(), b.data(), beta, c.data());
  CHECK(count_bad(c, before, ref) == 0);
}

const char* name_of(Transpose t) { return t == Transpose::Yes ? "T" : "N"; }

// ---------------------------------------------------------------------------------------------
// Packed family called piecewise (as enqueue_packed does): pack_a, pack_b, then gemm_packed.
// With `fused`, pack_ab packs both operands in one launch instead (as enqueue_packed does).
// With `claimed`, the claimed twins run as two devices sharing the call would (sched/claims.hpp),
// each stage launched twice with one counter: the first launch takes every work-group, the
// second finds them taken (beta != 0 would show a tile computed twice).
template <typename T>
void check_packed_pieces(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, std::size_t batch,
                         bool shared_a, unsigned seed, bool claimed = false, bool fused = false) {

  using namespace anycl::detail;
  anycl::Runtime& rt = runtime();
  const DeviceSlot& slot = anycl::detail::engine(rt).slot(0);
  GemmShape s = shape_of(Layout::RowMajor, ta ? Transpose::Yes : Transpose::No, tb ? Transpose::Yes : Transpose::No,
                         m, n, k, 2);
  s.batch = batch;
  const std::size_t one_a = stored(true, ta ? k : m, ta ? m : k, s.lda), one_b = stored(true, tb ? n : k, tb ? k : n, s.ldb);
  s.stride_a = shared_a ? 0 : one_a + 3;
  s.stride_b = one_b + 1;
  s.stride_c = stored(true, m, n, s.ldc) + 2;
  const std::size_t a_off = 5, b_off = 3, c_off = 7;  // element offsets into the device buffers
  const auto a = random_values<T>(extent_a(s), seed), b = random_values<T>(extent_b(s), seed + 1);
  std::vector<T> c = random_values<T>(extent_c(s), seed + 2);
  const T alpha = T(0.75), beta = T(-1.25);
  const GemmRef ref = gemm_reference(s, alpha, a, b, beta, c);

  auto upload = [&](const std::vector<T>& v, std::size_t off) {
    anycl::Buffer buf = rt.alloc((v.size() + off) * sizeof(T));
    std::vector<T> padded(off, T(0));
    padded.insert(padded.end(), v.begin(), v.end());
    rt.write(buf, padded.data(), padded.size() * sizeof(T));
    return buf;
  };
  const anycl::Buffer A = upload(a, a_off), B = upload(b, b_off), C = upload(c, c_off);
  const GemmProblem p{m, n, k, ta, tb, s.lda, s.ldb, s.ldc, a_off, b_off, c_off, batch, s.stride_a, s.stride_b,
                      s.stride_c, false};
  const PackedLayout lay = packed_layout(slot, precision_suffix<T>());
  const std::size_t batch_a = shared_a ? 1 : batch;
  const std::size_t ap_elems = lay.a_panel_elems(m, k), bp_elems = lay.b_panel_elems(n, k);
  // The panels start as NaN: a packed element the kernels failed to write would poison C.
  const anycl::Buffer Ap = upload(std::vector<T>(ap_elems * batch_a, std::numeric_limits<T>::quiet_NaN()), 0);
  const anycl::Buffer Bp = upload(std::vector<T>(bp_elems * batch, std::numeric_limits<T>::quiet_NaN()), 0);
  const Claims claims(slot, 3);
  const Claim pack_a = claims.stage(0), pack_b = claims.stage(1), products = claims.stage(2);
  for (int launch = 0; launch < (claimed ? 2 : 1); ++launch) {
    if (fused) {
      enqueue_pack_ab<T>(slot, p, A.native(), Ap.native(), ap_elems, batch_a, B.native(), Bp.native(), bp_elems, batch);
      continue;
    }
    enqueue_pack_a<T>(slot, p, A.native(), Ap.native(), ap_elems, batch_a, claimed ? &pack_a : nullptr);
    enqueue_pack_b<T>(slot, p, B.native(), Bp.native(), bp_elems, batch, claimed ? &pack_b : nullptr);
  }
  for (int launch = 0; launch < (claimed ? 2 : 1); ++launch)
    anycl::Event(enqueue_packed_micro<T>(slot, m, n, k, alpha, Ap.native(), batch_a == 1 ? 0 : ap_elems, Bp.native(),
                                         bp_elems, beta, C.native(), c_off, s.ldc, s.stride_c, batch, 0, 0, 0,
                                         claimed ? &products : nullptr))
        .wait();
  std::vector<T> got(c.size() + c_off);
  rt.read(C, got.data(), got.size() * sizeof(T));
  got.erase(got.begin(), got.begin() + std::ptrdiff_t(c_off));
  CHECK(count_bad(got, c, ref) == 0);
}

// ---------------------------------------------------------------------------------------------
// Convolution: every pass of one algorithm against the reference, with the bound of test_conv
// (f * (L + 2) * eps * (the reference on |inputs|), f = 2, Winograd's anycl_test::winograd_factor).

struct Passes {
  bool forward = true, backward_data = true, backward_weights = true;
  bool channels_last = false;  // the calls in NHWC, their tensors permuted on the host
};

// A pass's tensor as the call takes or gives it: NCHW-ordered `v` of `b` x `c` x `hw`, or its
// channels-last permutation (and back).
struct CallLayout {
  bool nhwc;
  std::vector<float> in(const std::vector<float>& v, std::size_t b, std::size_t c, std::size_t hw) const {
    return nhwc ? anycl_test::channels_last(v, b, c, hw) : v;
  }
  std::vector<float> out(const std::vector<float>& v, std::size_t b, std::size_t c, std::size_t hw) const {
    return nhwc ? anycl_test::channels_first(v, b, c, hw) : v;
  }
  anycl::Conv2d desc(const ConvDesc& r, bool relu) const {
    anycl::Conv2d d = to_anycl(r, relu);
    d.layout = nhwc ? anycl::ConvLayout::Nhwc : anycl::ConvLayout::Nchw;
    return d;
  }
};

// WINO_M of the device's conv_winograd as built now.
int winograd_tile(anycl::Runtime& rt) {
  return int(anycl::detail::engine(rt).slot(0).program("conv_winograd").param("WINO_M"));
}

void check_conv(const ConvDesc& r, ConvAlgo algo, unsigned seed, Passes passes = {}) {
  anycl::Runtime& rt = runtime();
  // The tile conv_winograd is built with now (a test case may have rebuilt it).
  const double f = algo == ConvAlgo::Winograd ? anycl_test::winograd_tile_factor(winograd_tile(rt)) : 2;
  const double f_weights = algo == ConvAlgo::Winograd ? anycl_test::winograd_tile_factor(2) : 2;
  const auto x = random_values<float>(r.x_size(), seed), w = random_values<float>(r.w_size(), seed + 1);
  const auto bias = random_values<float>(std::size_t(r.k), seed + 2), dy = random_values<float>(r.y_size(), seed + 3);
  const CallLayout lay{passes.channels_last};
  const std::size_t hw = std::size_t(r.h) * r.w, pq = std::size_t(r.out_h()) * r.out_w(), rs = std::size_t(r.r) * r.s;
  const auto xs = lay.in(x, r.n, r.c, hw), ws = lay.in(w, r.k, r.c / r.groups, rs), dys = lay.in(dy, r.n, r.k, pq);
  if (passes.forward) {  // with bias and relu
    INFO("forward " << describe(r) << ", " << anycl::to_string(algo) << ", bias + relu");
    std::vector<float> y(r.y_size(), std::nanf(""));
    anycl::conv2d_forward(rt, lay.desc(r, true), xs.data(), ws.data(), bias.data(), y.data(), algo);
    y = lay.out(y, r.n, r.k, pq);
    CHECK(count_bad(y, anycl_test::conv_forward(r, x, w, bias, true),
                    anycl_test::conv_forward(r, abs_of(x), abs_of(w), abs_of(bias), false),
                    double(r.c / r.groups) * r.r * r.s, f) == 0);
  }
  if (passes.backward_data) {
    INFO("backward-data " << describe(r) << ", " << anycl::to_string(algo));
    std::vector<float> dx(r.x_size(), std::nanf(""));
    anycl::conv2d_backward_data(rt, lay.desc(r, false), dys.data(), ws.data(), dx.data(), algo);
    dx = lay.out(dx, r.n, r.c, hw);
    CHECK(count_bad(dx, anycl_test::conv_backward_data(r, dy, w), anycl_test::conv_backward_data(r, abs_of(dy), abs_of(w)),
                    double(r.k / r.groups) * r.r * r.s, f) == 0);
  }
  if (passes.backward_weights) {  // with dbias
    INFO("backward-weights " << describe(r) << ", " << anycl::to_string(algo) << ", dbias");
    std::vector<float> dw(r.w_size(), std::nanf("")), db(std::size_t(r.k), std::nanf("")), ref_w, ref_b, abs_w, abs_b;
    anycl::conv2d_backward_weights(rt, lay.desc(r, false), xs.data(), dys.data(), dw.data(), db.data(), algo);
    dw = lay.out(dw, r.k, r.c / r.groups, rs);
    anycl_test::conv_backward_weights(r, x, dy, ref_w, ref_b);
    anycl_test::conv_backward_weights(r, abs_of(x), abs_of(dy), abs_w, abs_b);
    const double reduction = double(r.n) * r.out_h() * r.out_w();
    CHECK(count_bad(dw, ref_w, abs_w, reduction, f_weights) == 0);
    CHECK(count_bad(db, ref_b, abs_b, reduction, f_weights) == 0);
  }
}

// n c h w k r s sh sw pt pl pb pr dh dw g
const ConvDesc kGroupedStrided{2, 4, 6, 6, 4, 3, 3, 2, 1, 1, 0, 2, 1, 1, 1, 2};  // groups 2, stride 2/1, asym pad
const ConvDesc kDilated{2, 3, 6, 6, 2, 3, 3, 1, 1, 2, 1, 1, 2, 2, 2, 1};        // dilation 2, asym pad
const ConvDesc kDepthwise{1, 4, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4};      // depthwise
const ConvDesc kDepthwise5s2{2, 3, 11, 19, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 3}; // depthwise 5x5 stride 2
const ConvDesc kDepthwiseDil{1, 2, 9, 18, 2, 3, 3, 1, 1, 2, 0, 0, 2, 1, 2, 2};  // depthwise dilation 1x2
const ConvDesc kDepthwiseVectors{2, 9, 7, 13, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9}; // channel vectors + a partial one
const ConvDesc kDepthwiseWideS2{1, 3, 5, 41, 3, 3, 3, 2, 2, 1, 2, 1, 2, 1, 1, 3};  // stride 2, right pads read
const ConvDesc kDepthwiseInPlace{2, 3, 6, 7, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3};  // 5x5, planes read in place
const ConvDesc kDepthwiseRuns{1, 20, 9, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 20};  // several planes a work-item
const ConvDesc kPointwise{2, 4, 6, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};      // 1x1
const ConvDesc kStrided3{1, 3, 32, 33, 4, 3, 3, 3, 2, 1, 2, 1, 0, 1, 1, 1};     // strides 3x2, pads past the taps
const ConvDesc kStrided3Wide{1, 2, 128, 129, 3, 3, 3, 3, 2, 1, 2, 1, 0, 1, 1, 1}; // the same on a plane phases run on
const ConvDesc kStrided2Wide{2, 2, 5, 41, 3, 3, 3, 2, 2, 1, 1, 1, 2, 1, 1, 1};   // stride 2: vector gathers, col2im vector runs and edges
const ConvDesc kPanels16{2, 5, 9, 37, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};     // stride 2: two A and two B panels of 12 x 32
const ConvDesc kPanels16s1{1, 4, 5, 18, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};   // stride 1, 18 columns: overlapping q blocks
const ConvDesc kPanelsRows7{2, 3, 13, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}; // stride 2, 7x7 out: 16-column blocks over 3-4 rows
const ConvDesc kPanelsRows3{3, 2, 6, 6, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};     // stride 2, 3x3 out: blocks over 6 rows
const ConvDesc kPointwiseStrided{2, 4, 7, 6, 4, 1, 1, 2, 3, 0, 0, 0, 0, 1, 1, 2}; // 1x1 strides 2x3, groups 2
const ConvDesc kPointwiseS2Rows{3, 5, 9, 23, 6, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1}; // 1x1 stride 2, rows of 12, pads unread
const ConvDesc kPointwiseGroups{2, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2}; // 1x1, groups 2
const ConvDesc kPointwisePanels{2, 5, 4, 6, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};  // 1x1, 24 pixels: x read in place
const ConvDesc kPointwisePanelsGroups{2, 6, 4, 4, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2}; // the same, 16 pixels, groups 2
const ConvDesc kPointwisePanels32{2, 3, 4, 8, 14, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}; // 32 pixels: the 12 x 32 tile's
const ConvDesc kPointwiseStraddle{2, 5, 4, 3, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}; // 12 pixels: a panel across images
const ConvDesc kPointwiseStraddleGroups{4, 6, 2, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2}; // 10 pixels, groups 2
const ConvDesc kPointwiseStraddle32{2, 3, 6, 8, 14, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}; // 48 pixels, 32-wide panels
const ConvDesc kStem{2, 3, 11, 13, 5, 7, 7, 2, 2, 3, 3, 2, 3, 1, 1, 1};         // 7x7 stride 2, asym pad
const ConvDesc kStemDilated{1, 2, 9, 12, 4, 3, 5, 3, 2, 1, 2, 1, 0, 2, 2, 2};   // strides 3x2, dilation, groups
const ConvDesc kWinograd{2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};       // 3x3 pad 1, even tiles
const ConvDesc kWinogradOdd{1, 2, 5, 7, 3, 3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1};    // odd output, asym pad
const ConvDesc kWinogradWide{1, 5, 5, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};   // C over a whole MR 4 panel
const ConvDesc kWinogradRows{1, 2, 4, 4, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}; // backward-weights: groups of rows
// backward-weights: more channels than 32 KB of local memory holds for one tile, so groups of channels
const ConvDesc kWinogradCols{1, 520, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};

}  // namespace

TEST_CASE("oclgrind: the runtime runs on the Oclgrind device", "[.oclgrind]") {
  REQUIRE(runtime().device_count() == 1);
  INFO(runtime().device(0).name);
  CHECK(anycl_test::contains(anycl_test::lower(runtime().device(0).platform_name), "oclgrind"));
  CHECK(runtime().device(0).fp64);
}

TEST_CASE("oclgrind: gemm_direct f32/f64; every transpose pair; both layouts; batch; beta 0 and k 0",
          "[.oclgrind]") {
  unsigned seed = 1;
  for (Layout layout : {Layout::RowMajor, Layout::ColMajor})
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        const GemmShape s = shape_of(layout, ta, tb, 9, 7, 5);
        INFO((layout == Layout::RowMajor ? "row" : "col") << "-major " << name_of(ta) << name_of(tb) << " 9x7x5");
        check_gemm<float>(s, 1.5f, -0.5f, seed++);
        check_gemm<double>(s, 1.5, -0.5, seed++);
      }
  {  // beta 0 (C write-only) and the scaling-only paths (alpha 0, k 0)
    const GemmShape s = shape_of(Layout::RowMajor, Transpose::No, Transpose::Yes, 9, 7, 5);
    check_gemm<float>(s, 2.f, 0.f, 40);
    check_gemm<double>(s, 2., 0., 41);
    check_gemm<float>(s, 0.f, 3.f, 42);
    GemmShape k0 = s;
    k0.k = 0;
    check_gemm<double>(k0, 1., -2., 43);
  }
  {  // strided batch of 3, and a batch sharing A (stride 0)
    for (bool shared : {false, true}) {
      GemmShape s = shape_of(Layout::RowMajor, Transpose::Yes, Transpose::No, 9, 7, 5);
      s.batch = 3;
      s.stride_a = shared ? 0 : extent_a(s) + 2;
      s.stride_b = extent_b(s) + 1;
      s.stride_c = extent_c(s) + 3;
      INFO("shared A " << shared);
      check_gemm<float>(s, 1.f, 0.5f, 50 + shared);
      check_gemm<double>(s, 1., 0.5, 52 + shared);
    }
  }
  {  // pointer-array batch
    const GemmShape s = shape_of(Layout::ColMajor, Transpose::No, Transpose::No, 9, 7, 5);
    std::vector<std::vector<double>> a, b, c, before;
    std::vector<GemmRef> refs;
    for (unsigned i = 0; i < 2; ++i) {
      a.push_back(random_values<double>(extent_a(s), 60 + i));
      b.push_back(random_values<double>(extent_b(s), 70 + i));
      c.push_back(random_values<double>(extent_c(s), 80 + i));
      before.push_back(c.back());
      refs.push_back(gemm_reference(s, -1.0, a.back(), b.back(), 2.0, c.back()));
    }
    GemmShape sb = s;
    sb.batch = 2;
    const double* ap[] = {a[0].data(), a[1].data()};
    const double* bp[] = {b[0].data(), b[1].data()};
    double* cp[] = {c[0].data(), c[1].data()};
    anycl::gemm_batched<double>(runtime(), sb, -1.0, ap, bp, 2.0, cp);
    for (unsigned i = 0; i < 2; ++i) CHECK(count_bad(c[i], before[i], refs[i]) == 0);
  }
}

TEST_CASE("oclgrind: pack_ab; gemm_packed through the public API at the smallest shapes that go packed",
          "[.oclgrind]") {
  // prefer_direct (src/ops/gemm.cpp): a transposed op(B) goes packed once m*n*k > DIRECT_TINY^3;
  // read the device's thresholds and tile so the shape stays the smallest packed one if they change.
  const anycl::detail::DeviceSlot& slot = anycl::detail::engine(runtime()).slot(0);
  for (const char* suffix : {"f32", "f64"}) {
    const long tiny = slot.program(std::string("gemm_direct_") + suffix).param("DIRECT_TINY");
    const anycl::detail::PackedLayout lay = anycl::detail::packed_layout(slot, suffix);
    const std::size_t m = lay.mr + 1, n = lay.nr + 1;  // one full and one partial tile each way
    const std::size_t k = std::size_t(tiny) * std::size_t(tiny) * std::size_t(tiny) / (m * n) + 1;
    INFO(suffix << ": DIRECT_TINY " << tiny << ", MR x NR " << lay.mr << " x " << lay.nr << ", m n k " << m << " " << n
                << " " << k);
    REQUIRE(k <= 100000);  // else this is no longer a small case for the interpreter
    const Transpose ta = suffix[1] == '3' ? Transpose::No : Transpose::Yes;
    const GemmShape s = shape_of(Layout::RowMajor, ta, Transpose::Yes, m, n, k);
    if (suffix[1] == '3') check_gemm<float>(s, 1.f, 0.f, 90);
    else check_gemm<double>(s, -1., 0.5, 91);
  }
}

TEST_CASE("oclgrind: pack_a; pack_b; pack_ab; gemm_packed f32/f64; every transpose pair; partial tiles; batches",
          "[.oclgrind]") {
  // m, n not multiples of MR = 4 / NR = 8; k not a multiple of PACK_KC = 16 nor of VW = 4.
  // Packed by pack_a and pack_b, then by pack_ab (both operands in one launch).
  unsigned seed = 100;
  for (bool fused : {false, true}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("fused " << fused << " trans_a " << ta << " trans_b " << tb);
        check_packed_pieces<float>(ta, tb, 9, 11, 21, 1, false, seed++, false, fused);
        check_packed_pieces<double>(ta, tb, 9, 11, 21, 1, false, seed++, false, fused);
      }
    INFO("fused " << fused << " batch 2, own A / shared A");
    check_packed_pieces<float>(true, false, 5, 13, 18, 2, false, seed++, false, fused);
    check_packed_pieces<double>(false, true, 5, 13, 18, 2, true, seed++, false, fused);
  }
}

TEST_CASE("oclgrind: pack_a_claimed; pack_b_claimed; gemm_packed_claimed; partial tiles; batches", "[.oclgrind]") {
  unsigned seed = 150;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      INFO("trans_a " << ta << " trans_b " << tb);
      check_packed_pieces<float>(ta, tb, 9, 11, 21, 1, false, seed++, true);
    }
  INFO("batch 2, own A / shared A");
  check_packed_pieces<float>(true, false, 5, 13, 18, 2, false, seed++, true);
  check_packed_pieces<double>(false, true, 5, 13, 18, 2, true, seed++, true);
}

// Backward-weights' GEMM reads dy in place (gemm_rows_a) where Kg >= MR, here with the .cl's MR 4:
// kPointwiseS2Rows (6 channels: a last tile on rows 2..5, chunked below), kPanels16 and kPanels16s1
// with MR 12 (14 and 13 channels); the other shapes pack dy (conv_pack_dy_a).
TEST_CASE("oclgrind: conv Im2col: im2col_packed; col2im; im2col_t_packed; pack kernels; bias_act; dbias",
          "[.oclgrind]") {
  check_conv(kGroupedStrided, ConvAlgo::Im2col, 200);
  check_conv(kDilated, ConvAlgo::Im2col, 210);
  check_conv(kStrided2Wide, ConvAlgo::Im2col, 215);
  {  // in batch chunks (beta = 1 accumulation of dw and dbias)
    const std::size_t old_limit = anycl::detail::engine(runtime()).ops.conv_workspace_limit;
    anycl::set_conv_workspace_limit(runtime(), 64);  // one image per chunk
    check_conv(kGroupedStrided, ConvAlgo::Im2col, 220);
    anycl::set_conv_workspace_limit(runtime(), old_limit);
  }
}

// MR 12, NR 32 and VW 16, the AVX-512 CPUs' packed tile: im2col_t_packed takes its 16-lane path
// (window loads, register transposes; several rows a tile when Q < 16) instead of the per-element
// copies the .cl defaults (NR 8) run, and conv_im2col_gemm gathers 16-column blocks by strided
// vector loads, a run per output row the block touches: one or two where Q >= 16 (kPanels16,
// kStrided2Wide), up to four where Q is 7 or 5 (kPanelsRows7, kGroupedStrided), and a float at a
// time where a block touches more rows (kPanelsRows3).
TEST_CASE("oclgrind: conv Im2col with 12 x 32 panels: im2col_t_packed transposes 16 x 16 tiles", "[.oclgrind]") {
  anycl::Runtime& rt = runtime();
  anycl_test::install(rt, "gemm_packed_f32",
                      anycl_test::space_sample(rt, "gemm_packed", {{"MR", 12}, {"NR", 32}, {"VW", 16}}));
  anycl_test::install(rt, "conv_im2col", {});
  anycl_test::install(rt, "conv_im2col_gemm", {});
  check_conv(kPanels16, ConvAlgo::Im2col, 270);
  check_conv(kPanels16s1, ConvAlgo::Im2col, 275);
  check_conv(kStrided2Wide, ConvAlgo::Im2col, 280);
  check_conv(kGroupedStrided, ConvAlgo::Im2col, 285);  // 5 output columns: 3 rows a tile, the last one short
  check_conv(kDilated, ConvAlgo::Im2col, 290);
  check_conv(kPanelsRows7, ConvAlgo::Im2col, 295, Passes{true, true, false});
  check_conv(kPanelsRows3, ConvAlgo::Im2col, 296, Passes{true, false, false});
  check_conv(kPointwisePanels32, ConvAlgo::Gemm1x1, 297, Passes{true, false, false});  // gemm_rows_b
  check_conv(kPointwisePanels32, ConvAlgo::Im2col, 298, Passes{false, true, false});
  check_conv(kPointwiseStraddle32, ConvAlgo::Gemm1x1, 299, Passes{true, false, false});
  anycl_test::install(rt, "gemm_packed_f32", {});
  anycl_test::install(rt, "conv_im2col", {});
  anycl_test::install(rt, "conv_im2col_gemm", {});
}

TEST_CASE("oclgrind: conv Im2col strided: backward-data by phase (conv_phase_filter; conv_phase_interleave); "
          "phases run as Gemm1x1 and as im2col, phases no tap reaches, a 1x1's filter packed straight from w",
          "[.oclgrind]") {
  check_conv(kStrided3, ConvAlgo::Im2col, 230);
  check_conv(kStrided3Wide, ConvAlgo::Im2col, 235, Passes{false, true, false});
  check_conv(kPointwiseStrided, ConvAlgo::Im2col, 240);
  check_conv(kPointwiseS2Rows, ConvAlgo::Im2col, 245, Passes{false, true, false});  // 1x1: W^T packed from w
}

TEST_CASE("oclgrind: conv strided 1x1: conv_pack_x_1x1_strided (forward) and conv_pack_x_t_1x1 (backward-weights) "
          "gathering every sw-th pixel",
          "[.oclgrind]") {
  const Passes forward_weights{true, false, true};
  check_conv(kPointwiseStrided, ConvAlgo::Im2col, 250, forward_weights);
  check_conv(kPointwiseS2Rows, ConvAlgo::Im2col, 255, forward_weights);  // vector gathers, panels across images
  const std::size_t old_limit = anycl::detail::engine(runtime()).ops.conv_workspace_limit;
  anycl::set_conv_workspace_limit(runtime(), 64);  // one image per chunk
  check_conv(kPointwiseS2Rows, ConvAlgo::Im2col, 260, forward_weights);
  anycl::set_conv_workspace_limit(runtime(), old_limit);
}

TEST_CASE("oclgrind: conv Gemm1x1 (forward conv_pack_x_1x1 + gemm_packed over column segments; backward-data "
          "gemm_direct batched; backward-weights as im2col); Im2col's backward-data of a 1x1 into dx in place; "
          "gemm_rows_b on batches of whole panels",
          "[.oclgrind]") {
  check_conv(kPointwise, ConvAlgo::Gemm1x1, 300);
  check_conv(kPointwiseGroups, ConvAlgo::Gemm1x1, 310);
  const Passes backward_data{false, true, false};
  check_conv(kPointwise, ConvAlgo::Im2col, 330, backward_data);  // 30 pixels: vector copies, then a tail
  check_conv(kPointwiseGroups, ConvAlgo::Im2col, 340, backward_data);
  // Batches of whole NR-wide panels (8 here): gemm_rows_b reads x (dy) in place, a panel across
  // two images by a select; kPointwise (60 pixels) packs.
  check_conv(kPointwisePanels, ConvAlgo::Gemm1x1, 360, Passes{true, false, false});
  check_conv(kPointwisePanelsGroups, ConvAlgo::Gemm1x1, 370, Passes{true, false, false});
  check_conv(kPointwiseStraddle, ConvAlgo::Gemm1x1, 375, Passes{true, false, false});
  check_conv(kPointwisePanels, ConvAlgo::Im2col, 380, backward_data);
  check_conv(kPointwisePanelsGroups, ConvAlgo::Im2col, 390, backward_data);
  check_conv(kPointwiseStraddleGroups, ConvAlgo::Im2col, 395, backward_data);
  const std::size_t old_limit = anycl::detail::engine(runtime()).ops.conv_workspace_limit;
  anycl::set_conv_workspace_limit(runtime(), 64);  // one image per chunk
  check_conv(kPointwiseGroups, ConvAlgo::Gemm1x1, 320);
  check_conv(kPointwise, ConvAlgo::Im2col, 350, backward_data);
  anycl::set_conv_workspace_limit(runtime(), old_limit);
}

TEST_CASE("oclgrind: conv Direct: conv_direct_fwd; _bwd_data; _bwd_weights; _dbias", "[.oclgrind]") {
  check_conv(kGroupedStrided, ConvAlgo::Direct, 400);
  check_conv(kDilated, ConvAlgo::Direct, 410);
  check_conv(kDepthwise, ConvAlgo::Direct, 420);
}

TEST_CASE("oclgrind: conv ImplicitGemm: conv_ig_pack_w; conv_ig_stage_x; conv_ig_fwd; conv_igw_tiles; "
          "conv_igw_sum (forward and backward-weights)",
          "[.oclgrind]") {
  const Passes forward_weights{true, false, true};
  check_conv(kStem, ConvAlgo::ImplicitGemm, 700, forward_weights);
  check_conv(kStemDilated, ConvAlgo::ImplicitGemm, 710, forward_weights);
  const std::size_t old_limit = anycl::detail::engine(runtime()).ops.conv_workspace_limit;
  anycl::set_conv_workspace_limit(runtime(), 64);  // one image per chunk: dw accumulated over chunks
  check_conv(kStem, ConvAlgo::ImplicitGemm, 720, {false, false, true});
  anycl::set_conv_workspace_limit(runtime(), old_limit);
}

TEST_CASE("oclgrind: conv ImplicitGemm channels-last: conv_ig_stage_x from NHWC; conv_ig_pack_w from OHWI; "
          "conv_ig_fwd storing NHWC",
          "[.oclgrind]") {
  Passes nhwc{true, false, false};
  nhwc.channels_last = true;
  check_conv(kStem, ConvAlgo::ImplicitGemm, 730, nhwc);
  check_conv(kStemDilated, ConvAlgo::ImplicitGemm, 740, nhwc);
}

TEST_CASE("oclgrind: conv depthwise: conv_dw_fwd forward and backward-data (rotated filter)", "[.oclgrind]") {
  check_conv(kDepthwise5s2, ConvAlgo::Direct, 430);
  check_conv(kDepthwiseDil, ConvAlgo::Direct, 440);
  check_conv(kDepthwiseWideS2, ConvAlgo::Direct, 480);   // rows staged as even and odd columns
  check_conv(kDepthwiseInPlace, ConvAlgo::Direct, 490);  // stride-1 planes read without staging
  check_conv(kDepthwiseRuns, ConvAlgo::Direct, 495);     // stores across a run's planes, interior row blocks
}

TEST_CASE("oclgrind: conv depthwise channels-last: conv_dwn_fwd (forward; backward-data on upsampled dy); "
          "conv_dwn_bwd_weights",
          "[.oclgrind]") {
  Passes nhwc;
  nhwc.channels_last = true;
  check_conv(kDepthwise5s2, ConvAlgo::Direct, 450, nhwc);
  check_conv(kDepthwiseDil, ConvAlgo::Direct, 460, nhwc);
  check_conv(kDepthwiseVectors, ConvAlgo::Direct, 470, nhwc);
}

// Channels-last: the transposes around Im2col (every pass), the native pointwise GEMMs with the
// NHWC bias and dbias kernels.
TEST_CASE("oclgrind: conv_layout: transpose_batched; nhwc_bias_act; nhwc_dbias", "[.oclgrind]") {
  Passes nhwc;
  nhwc.channels_last = true;
  check_conv(kGroupedStrided, ConvAlgo::Im2col, 600, nhwc);
  check_conv(kPointwiseGroups, ConvAlgo::Gemm1x1, 610, nhwc);
}

TEST_CASE("oclgrind: conv Winograd: filter; input and output transforms; every pass", "[.oclgrind]") {
  check_conv(kWinograd, ConvAlgo::Winograd, 500);
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 510);
  check_conv(kWinogradRows, ConvAlgo::Winograd, 520, Passes{false, false, true});
  check_conv(kWinogradCols, ConvAlgo::Winograd, 530, Passes{false, false, true});
}

// winograd_bwdw_tiles reads either layout: NCHW in place (STAGE 1: runs of tiles along rows, the
// tiles in the lanes, or on rows narrower than a vector, kWinogradNarrow, channels gathered),
// NCHW staged channels-last (STAGE 2), and a channels-last call read as it is, whose
// winograd_bwdw_output writes OHWI and whose dbias is nhwc_dbias; small GROUP_ROWS and
// GROUPS_PER_CU 4 split the 136 output channels over several groups of rows. kWinogradRuns: 2
// images of 4 x 6 tiles, so runs of 16 tiles start mid-row and cross images, with a left pad of 2.
TEST_CASE("oclgrind: conv Winograd backward-weights: NCHW rows, staged, channels-last reads and output",
          "[.oclgrind]") {
  anycl::Runtime& rt = runtime();
  Passes nhwc{false, false, true};
  nhwc.channels_last = true;
  const ConvDesc kWinogradRuns{2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 2, 0, 1, 1, 1, 1};
  const ConvDesc kWinogradNarrow{2, 5, 6, 1, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  anycl_test::install(rt, "conv_winograd_weights", {{"STAGE", 1}, {"GROUP_ROWS", 32}, {"GROUPS_PER_CU", 4}});
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 540, Passes{false, false, true});
  check_conv(kWinogradRuns, ConvAlgo::Winograd, 545, Passes{false, false, true});
  check_conv(kWinogradNarrow, ConvAlgo::Winograd, 548, Passes{false, false, true});
  check_conv(kWinogradRows, ConvAlgo::Winograd, 550, Passes{false, false, true});
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 560, nhwc);
  anycl_test::install(rt, "conv_winograd_weights", {{"STAGE", 2}, {"GROUP_ROWS", 32}, {"GROUPS_PER_CU", 4}});
  check_conv(kWinogradRows, ConvAlgo::Winograd, 570, Passes{false, false, true});
  check_conv(kWinogradRows, ConvAlgo::Winograd, 580, nhwc);
  anycl_test::install(rt, "conv_winograd_weights", {{"PACKED_MIN_CHANNELS", 1}});
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 590, Passes{false, false, true});
  check_conv(kWinogradRuns, ConvAlgo::Winograd, 595, Passes{false, false, true});
  anycl_test::install(rt, "conv_winograd_weights", {});
}

// The stages as the shared multi-device pass runs them (sched/run_conv_shared.cpp): each over
// parts of its index space with global offsets, an empty part among them, here one after the
// other on one device, then whole with each tile panel's output channels shared by two
// work-groups (winograd_row_groups' split); or with the tile panels claimed. 37 input channels take three chunks
// through local memory (KC is 16 by default, the last chunk partial). Images of 3 x 2 tiles of the
// device's m x m outputs. channels_last: the same on NHWC x and y and OHWI filters, and unclaimed
// also the tiles one image a launch, as the host runs a batch in chunks of images.
void check_winograd_stages(bool claimed, bool channels_last = false) {
  using namespace anycl::detail;
  anycl::Runtime& rt = runtime();
  const DeviceSlot& slot = anycl::detail::engine(rt).slot(0);
  const int mr = int(packed_layout(slot).mr), nr = int(packed_layout(slot).nr);
  const int m = winograd_tile(rt);
  const ConvDesc r{2, claimed ? 37 : 5, 3 * m, 2 * m + 1, 2 * mr + 1, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, 1};
  const anycl::Conv2d d = to_anycl(r, true);
  const WinogradPlan plan = winograd_forward_plan(ConvGeom(d), channels_last ? anycl::ConvLayout::Nhwc : anycl::ConvLayout::Nchw);
  const WinogradLayout lay(slot, plan);
  REQUIRE(lay.row_panels == 3);
  // 2 images of 3 x 2 tiles: two tile panels when nr <= 8, the last one partial.
  REQUIRE(lay.tiles(d.n) == 12);
  REQUIRE(lay.tile_panels(d.n) == std::size_t((12 + nr - 1) / nr));
  REQUIRE(lay.tile_panels(d.n) >= 2);
  const auto x = random_values<float>(r.x_size(), 520), w = random_values<float>(r.w_size(), 521);
  const auto bias = random_values<float>(std::size_t(r.k), 522);
  auto upload = [&](const std::vector<float>& v) { return anycl_test::upload(rt, v); };
  const CallLayout call{channels_last};
  const std::size_t hw = std::size_t(r.h) * r.w, pq = std::size_t(r.out_h()) * r.out_w();
  const anycl::Buffer X = upload(call.in(x, r.n, r.c, hw)), W = upload(call.in(w, r.k, r.c, 9)), B = upload(bias);
  const anycl::Buffer Y = rt.alloc(r.y_size() * sizeof(float));
  const anycl::Buffer U = rt.alloc(lay.planes() * lay.ustride * sizeof(float));
  const std::size_t tp = lay.tile_panels(d.n);
  const Range panels[] = {{0, 1}, {1, 1}, {1, 3}}, tiles[] = {{0, 1}, {1, 1}, {1, tp}};
  for (const Range& p : panels) winograd_filters(slot, plan, lay, W.native(), U.native(), p);
  const Claims claims(slot, 1);
  const Claim tile_claim = claims.stage(0);
  // Claimed: as two devices sharing the pass, the tiles launched twice with one counter.
  if (claimed)
    for (int launch = 0; launch < 2; ++launch)
      winograd_tiles(slot, plan, lay, U.native(), X.native(), B.native(), Y.native(), 0, d.n, true, {0, tp},
                     &tile_claim)
          .wait();
  else
    for (const Range& t : tiles)
      winograd_tiles(slot, plan, lay, U.native(), X.native(), B.native(), Y.native(), 0, d.n, true, t).wait();
  const auto expected = anycl_test::conv_forward(r, x, w, bias, true);
  const auto magnitude = anycl_test::conv_forward(r, abs_of(x), abs_of(w), abs_of(bias), false);
  std::vector<float> y(r.y_size(), std::nanf(""));
  auto check_y = [&](const char* how) {
    INFO(how << (channels_last ? ", NHWC" : ", NCHW"));
    rt.read(Y, y.data(), y.size() * sizeof(float));
    CHECK(count_bad(call.out(y, r.n, r.k, pq), expected, magnitude, double(r.c) * 9,
                    anycl_test::winograd_tile_factor(m)) == 0);
    std::fill(y.begin(), y.end(), std::nanf(""));
    rt.write(Y, y.data(), y.size() * sizeof(float));
  };
  check_y(claimed ? "claimed" : "in parts");
  if (claimed) return;
  // The 3 row panels of each tile panel shared by 2 work-groups (2 work-items each, the last
  // past the output channels, helping only to transform), as few tile panels run.
  winograd_tiles(slot, plan, lay, U.native(), X.native(), B.native(), Y.native(), 0, d.n, true, {0, tp}, nullptr, 2)
      .wait();
  check_y("rows split");
  if (!channels_last) return;
  for (std::size_t b0 = 0; b0 < d.n; ++b0)
    winograd_tiles(slot, plan, lay, U.native(), X.native(), B.native(), Y.native(), b0, 1, true,
                   {0, lay.tile_panels(1)})
        .wait();
  check_y("one image a chunk");
}

TEST_CASE("oclgrind: conv Winograd stages in parts (filters by panel, tiles by panel, rows split)",
          "[.oclgrind]") {
  check_winograd_stages(false);
}

TEST_CASE("oclgrind: conv Winograd stages with the tile panels claimed", "[.oclgrind]") {
  check_winograd_stages(true);
}

// Forward and backward-data read and write channels-last tensors (OHWI filters) themselves; 5
// channels take backward-data's flipped filters a whole MR panel at a time and a partial one.
TEST_CASE("oclgrind: conv Winograd NHWC: forward and backward-data; stages in parts, claimed, by image",
          "[.oclgrind]") {
  Passes nhwc{true, true, false};
  nhwc.channels_last = true;
  check_conv(kWinograd, ConvAlgo::Winograd, 590, nhwc);
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 595, nhwc);
  check_conv(kWinogradWide, ConvAlgo::Winograd, 597, nhwc);
  check_winograd_stages(false, true);
  check_winograd_stages(true, true);
}

// The same kernels built for F(4x4, 3x3) (6x6 input tiles, 36 products), whatever the device's
// table picks, the filter transform taking 2 K-dims a work-item (FT_J: 3 channels leave a partial
// last one); then rebuilt with the table's values for the cases after this one.
TEST_CASE("oclgrind: conv Winograd F(4x4): forward and backward-data; stages in parts and claimed",
          "[.oclgrind]") {
  anycl::Runtime& rt = runtime();
  anycl_test::install(rt, "conv_winograd", {{"WINO_M", 4}, {"FT_J", 2}});
  REQUIRE(winograd_tile(rt) == 4);
  check_conv(kWinograd, ConvAlgo::Winograd, 540, Passes{true, true, false});
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 550, Passes{true, true, false});
  Passes nhwc{true, true, false};
  nhwc.channels_last = true;
  check_conv(kWinogradOdd, ConvAlgo::Winograd, 555, nhwc);
  check_winograd_stages(false);
  check_winograd_stages(true);
  check_winograd_stages(false, true);
  anycl_test::install(rt, "conv_winograd", {});
}

// The staged form, forced (WINOGRAD_STAGED_CHANNELS 1, WINOGRAD_FUSE_PANELS 1) at both tile
// sizes: the filter transform into plain rows (2 K-dims a work-item, so 3 output channels leave a
// partial row panel and 2 input channels one block), winograd_input_staged and
// winograd_output_staged (bias and ReLU forward) around the batched GEMM of the products. Run with
// the race and bounds checks only (tests/CMakeLists.txt, "on pooled workspaces").
TEST_CASE("oclgrind: conv Winograd staged on pooled workspaces: plain filters, input and output kernels",
          "[.oclgrind]") {
  anycl::Runtime& rt = runtime();
  for (int m : {2, 4}) {
    anycl_test::install(rt, "conv_winograd",
                        {{"WINO_M", m}, {"FT_J", 2}, {"WINOGRAD_STAGED_CHANNELS", 1}, {"WINOGRAD_FUSE_PANELS", 1}});
    check_conv(kWinograd, ConvAlgo::Winograd, unsigned(600 + m), Passes{true, true, false});
    check_conv(kWinogradOdd, ConvAlgo::Winograd, unsigned(610 + m), Passes{true, true, false});
  }
  anycl_test::install(rt, "conv_winograd", {});
}

// winograd_tiles_fused: the filter transform inside the tile kernel, forced for any number of tile
// panels (2 images: two panels of 2x2 tiles, one of 4x4), at both tile sizes, NCHW and NHWC: 20
// channels take two passes through local memory (KC 16), the second partial, each cut into FC 3
// channel steps with a partial last; 9 output channels leave the last row panel partial. (Which
// kernels ran is checked on POCL, tests/test_conv.cpp: Oclgrind's queues report no kernel times.)
TEST_CASE("oclgrind: conv Winograd winograd_tiles_fused: F(2x2) and F(4x4); NCHW and NHWC", "[.oclgrind]") {
  anycl::Runtime& rt = runtime();
  const ConvDesc kFused{2, 20, 5, 6, 9, 3, 3, 1, 1, 1, 1, 0, 2, 1, 1, 1};
  Passes nhwc{true, true, false};
  nhwc.channels_last = true;
  for (int m : {2, 4}) {
    INFO("WINO_M " << m);
    anycl_test::install(rt, "conv_winograd", {{"WINO_M", m}, {"KC", 16}, {"FC", 3}, {"WINOGRAD_FUSE_PANELS", 4096}});
    REQUIRE(winograd_tile(rt) == m);
    check_conv(kFused, ConvAlgo::Winograd, 700 + unsigned(m), Passes{true, true, false});
    check_conv(kFused, ConvAlgo::Winograd, 710 + unsigned(m), nhwc);
  }
  anycl_test::install(rt, "conv_winograd", {});
}

TEST_CASE("oclgrind: im2col (plain layout; no library caller) against the definition", "[.oclgrind]") {
  using namespace anycl::detail;
  anycl::Runtime& rt = runtime();
  const DeviceSlot& slot = anycl::detail::engine(rt).slot(0);
  for (const ConvDesc& r : {kGroupedStrided, kDilated}) {
    INFO(describe(r));
    const ConvGeom g(to_anycl(r, false));
    const auto x = random_values<float>(r.x_size(), 600);
    const std::size_t rows = std::size_t(g.Cg) * g.R * g.S, col_stride = rows * g.PQ + 5, x_off = 3, col_off = 2;
    std::vector<float> xin(x_off, 0.f);
    xin.insert(xin.end(), x.begin(), x.end());
    const anycl::Buffer X = rt.alloc(xin.size() * sizeof(float));
    rt.write(X, xin.data(), xin.size() * sizeof(float));
    const std::size_t col_elems = col_off + g.n * col_stride;
    const anycl::Buffer COL = rt.alloc(col_elems * sizeof(float));
    for (cl_int grp = 0; grp < g.groups; ++grp) {
      std::vector<float> sentinel(col_elems, 7.f);
      rt.write(COL, sentinel.data(), col_elems * sizeof(float));
      run_kernel(slot, "conv_im2col", "im2col", {std::size_t(g.P), std::size_t(g.Cg) * g.R, g.n}, {1, 1, 1},
                 X.native(), cl_ulong(x_off), COL.native(), cl_ulong(col_off), cl_ulong(col_stride), g.C, g.H, g.W,
                 g.Cg, grp, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, cl_int(g.n))
          .wait();
      std::vector<float> col(col_elems);
      rt.read(COL, col.data(), col_elems * sizeof(float));
      std::size_t bad = 0;
      for (std::size_t b = 0; b < g.n; ++b)
        for (std::size_t e = 0; e < col_stride; ++e) {
          float expect = 7.f;  // the gap after each image's block is untouched
          if (e < rows * g.PQ) {
            const int row = int(e / g.PQ), pq = int(e % g.PQ), p = pq / g.Q, q = pq % g.Q;
            const int c = row / (g.R * g.S), rr = (row / g.S) % g.R, s = row % g.S;
            const int ih = p * g.sh - g.pt + rr * g.dh, iw = q * g.sw - g.pl + s * g.dw;
            expect = ih < 0 || ih >= g.H || iw < 0 || iw >= g.W
                         ? 0.f
                         : x[((b * g.C + std::size_t(grp) * g.Cg + c) * g.H + ih) * g.W + iw];
          }
          if (col[col_off + b * col_stride + e] != expect && bad++ < 3)
            UNSCOPED_INFO("group " << grp << " image " << b << " col[" << e << "] = " << col[col_off + b * col_stride + e]
                                   << ", expected " << expect);
        }
      CHECK(bad == 0);
    }
  }
}

// Kept next to the nn_layers case so it stays one appended block.
#include "reference/cnn_reference.hpp"
#include "reference/finite_difference.hpp"
#include "ops/nn_layers.hpp"

// nn_layers: a tiny model through DataParallelTrainer reaches bias_add_rows (with and without
// ReLU), relu_backward, maxpool_forward/backward (5x5 input: an edge row/column dropped),
// softmax_xent, sum_rows and sgd_momentum; accumulate (multi-device only) is launched directly.
// Checked: the loss against the double reference, the gradient against central differences.
// Through the trainer, so on sub-buffer views as the case below.
TEST_CASE("oclgrind: nn_layers: every kernel, through a tiny DataParallelTrainer and directly on sub-buffer views",
          "[.oclgrind]") {
  anycl::ModelSpec m;
  m.channels = 1, m.height = 5, m.width = 5;
  m.layers = {anycl::ConvLayer{2, 3, 1}, anycl::MaxPoolLayer{2}, anycl::DenseLayer{3, true},
              anycl::DenseLayer{2, false}};
  anycl::TrainOptions o;
  o.batch = 3;
  anycl::DataParallelTrainer t(runtime(), m, o);
  const auto x = random_values<float>(3 * 25, 700);
  const std::vector<int> labels{1, 0, 1};
  const auto [loss, grad, w] = anycl_test::gradient_at(t, x, labels);
  CHECK(std::abs(loss - anycl_test::cnn_loss(m, w, x, labels)) <= 1e-5 * loss);
  auto loss_of = [&](const std::vector<double>& p) { return anycl_test::cnn_loss(m, p, x, labels); };
  CHECK(anycl_test::gradient_mismatches(w, grad, loss_of, 1e-4).empty());  // as in test_nn_layers
  const std::vector<float> before = t.weights();
  t.step(x.data(), labels.data(), 3);
  const std::vector<float> after = t.weights();
  for (std::size_t i = 0; i < after.size(); ++i)  // first step: velocity = gradient
    CHECK(std::abs(after[i] - (before[i] - o.lr * grad[i])) <= 1e-6 * (std::abs(before[i]) + 1));
  CHECK(t.predict(x.data(), 3).size() == 3);

  anycl::Runtime& rt = runtime();
  const auto a = random_values<float>(9, 710), b = random_values<float>(9, 711);
  const anycl::Buffer A = rt.alloc(9 * sizeof(float)), B = rt.alloc(9 * sizeof(float));
  rt.write(A, a.data(), 9 * sizeof(float));
  rt.write(B, b.data(), 9 * sizeof(float));
  anycl::detail::accumulate(anycl::detail::engine(rt).slot(0), A.native(), B.native(), 9).wait();
  std::vector<float> sum(9);
  rt.read(A, sum.data(), 9 * sizeof(float));
  for (std::size_t i = 0; i < 9; ++i) CHECK(sum[i] == a[i] + b[i]);
}

#include "reference/net_reference.hpp"

// nn_layers' avgpool, dropout, add and adam kernels and nn_batchnorm's, through a tiny residual
// model with batch norm (training and evaluation), global pooling and dropout at rate 0 (the
// kernel runs; the reference needs no masks); checked as above.
// The trainer's parameters, gradients and optimizer state are sub-buffers of one allocation each,
// which the optimizer updates through the parent in one launch (tests/CMakeLists.txt: why this
// case runs without Oclgrind's uninitialised-value check).
TEST_CASE("oclgrind: nn_batchnorm and the residual, pooling, dropout and Adam kernels on sub-buffer views",
          "[.oclgrind]") {
  using namespace anycl;
  ModelSpec m;
  m.channels = 2, m.height = 5, m.width = 5;
  m.layers = {ConvLayer{2, 3, 1, 2, 2, false}, BatchNormLayer{0.1f, 1e-5f, true},
              ResidualBlock{{ConvLayer{2, 3, 1, 1, 1, false}, BatchNormLayer{}}, {AvgPoolLayer{1}}, true},
              DropoutLayer{0.f}, GlobalAvgPoolLayer{}, DenseLayer{2, false}};
  TrainOptions o;
  o.batch = 3, o.optimizer = Optimizer::Adam;
  DataParallelTrainer t(runtime(), m, o);
  const auto x = random_values<float>(3 * 50, 720);
  const std::vector<int> labels{1, 0, 1};
  const auto [loss, grad, w] = anycl_test::gradient_at(t, x, labels);
  anycl_test::NetMode keep_all;
  keep_all.keep = [](std::size_t, std::size_t, std::size_t) { return true; };
  CHECK(std::abs(loss - anycl_test::net_loss(m, w, x, labels, keep_all)) <= 1e-5 * loss);
  auto loss_of = [&](const std::vector<double>& p) { return anycl_test::net_loss(m, p, x, labels, keep_all); };
  CHECK(anycl_test::gradient_mismatches(w, grad, loss_of, 1e-6).empty());  // as in test_layers
  t.step(x.data(), labels.data(), 3);
  CHECK(t.predict(x.data(), 3).size() == 3);  // evaluation: bn_forward on the running statistics
}
