// Multi-device scheduling end to end: split GEMM and convolution results equal the single-device
// results and an independent reference (OpenBLAS / the plain C++ convolution) within the usual
// tolerances, for every split mode, on 2 POCL devices, `cpu/2` sub-devices and POCL + Oclgrind;
// a device failing mid-call; the weight cache and overrides.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "anycl/anycl.hpp"
#include "conv_check.hpp"
#include "gemm_reference.hpp"
#include "ops/conv2d_select.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/host_buffer.hpp"
#include "runtime/launch.hpp"
#include "sched/balance.hpp"
#include "sched/claims.hpp"
#include "plan_support.hpp"
#include "sched/run_conv_shared.hpp"
#include "sched/same_memory.hpp"
#include "support.hpp"
#include "sched/engine.hpp"

using anycl::Parallel;
using anycl_test::ConvDesc;
using anycl_test::count_bad;
using anycl_test::random_values;

namespace {

const Parallel kModes[] = {Parallel::Data, Parallel::Model, Parallel::Hybrid, Parallel::Auto};

std::string mode_name(Parallel m) {
  const char* names[] = {"auto", "data", "model", "hybrid"};
  return names[int(m)];
}

// Equal weights: every device gets real work however slow it is (the point here is
// correctness, not speed). Weights {1, 0, ...} keep a call on device 0 alone.
void even_weights(anycl::Runtime& rt) { anycl::set_device_weights(rt, std::vector<double>(rt.device_count(), 1.0)); }
void only_device0(anycl::Runtime& rt) {
  std::vector<double> w(rt.device_count(), 0.0);
  w[0] = 1;
  anycl::set_device_weights(rt, w);
}

// cpu/2 with equal weights and a forced data split.
anycl::Runtime data_split_cpu2() {
  anycl::Runtime rt("cpu/2");
  even_weights(rt);
  anycl::set_parallel(rt, Parallel::Data);
  return rt;
}

// cpu/2 whose measured weights go to (and come from) `cache`, not the user's cache.
anycl::Runtime cpu2_cached_in(const anycl_test::TempDir& cache) {
  anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env("cpu/2");
  o.cache_dir = cache.path();
  return anycl::Runtime(o);
}

template <typename T>
std::vector<T> run_gemm(anycl::Runtime& rt, const anycl::GemmShape& s, T alpha, const std::vector<T>& a,
                        const std::vector<T>& b, T beta, std::vector<T> c) {
  anycl::gemm<T>(rt, s, alpha, a.data(), b.data(), beta, c.data());
  return c;
}

// The same call on device buffers of device `home`, each operand at an element offset.
template <typename T>
std::vector<T> run_gemm_on_buffers(anycl::Runtime& rt, const anycl::GemmShape& s, T alpha, const std::vector<T>& a,
                                   const std::vector<T>& b, T beta, std::vector<T> c, std::size_t home) {
  const std::size_t off = 3;
  auto put = [&](const std::vector<T>& v) { return anycl_test::upload(rt, v, off, home); };
  const anycl::Buffer ba = put(a), bb = put(b), bc = put(c);
  anycl::gemm<T>(rt, s, alpha, ba, off, bb, off, beta, bc, off).wait();
  rt.read(bc, c.data(), c.size() * sizeof(T), off * sizeof(T));
  return c;
}

// Device-buffer calls split only over devices that share the buffers' memory (cpu/2, two POCL
// devices); POCL and Oclgrind are two platforms.
bool one_memory(anycl::Runtime& rt) {
  for (std::size_t i = 1; i < rt.device_count(); ++i)
    if (!anycl::detail::same_memory(anycl::detail::engine(rt).slot(0), anycl::detail::engine(rt).slot(i))) return false;
  return true;
}

// With `claimed`, Auto must run the call as one shared packed pass whose devices claim tiles
// (sched/run_gemm_shared.cpp), on host pointers and on buffers.
template <typename T>
void check_gemm_case(anycl::Runtime& rt, const anycl::GemmShape& s, unsigned seed, bool claimed = false) {
  const bool row = s.layout == anycl::Layout::RowMajor;
  const bool ta = s.trans_a == anycl::Transpose::Yes, tb = s.trans_b == anycl::Transpose::Yes;
  const std::size_t na = anycl_test::stored_elems(row, ta ? s.k : s.m, ta ? s.m : s.k, s.lda);
  const std::size_t nb = anycl_test::stored_elems(row, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb);
  const std::size_t nc = anycl_test::stored_elems(row, s.m, s.n, s.ldc);
  const auto a = random_values<T>(na, seed), b = random_values<T>(nb, seed + 1), c0 = random_values<T>(nc, seed + 2);
  const T alpha = T(0.75), beta = T(-0.5);
  const auto oracle = anycl_test::gemm_oracle<T>(s, alpha, a.data(), b.data(), beta, c0.data());
  only_device0(rt);
  const auto single = run_gemm<T>(rt, s, alpha, a, b, beta, c0);
  even_weights(rt);
  for (Parallel mode : kModes) {
    anycl::set_parallel(rt, mode);
    INFO("mode " << mode_name(mode) << (row ? " row" : " col") << "-major ta " << ta << " tb " << tb << " m " << s.m
                 << " n " << s.n << " k " << s.k);
    if (mode != Parallel::Auto) REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<T>(rt, s)).size() > 1);
    // Device buffers: on device 0 or the last device, which then orders the call.
    const std::size_t home = seed % 2 ? rt.device_count() - 1 : 0;
    if (mode != Parallel::Auto && one_memory(rt))
      REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<T>(rt, s, T(1), home)).size() > 1);
    if (mode == Parallel::Auto && claimed)
      for (std::optional<std::size_t> buffers : {std::optional<std::size_t>(), std::optional<std::size_t>(home)})
        REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<T>(rt, s, alpha, buffers)).size() == rt.device_count());
    const std::vector<T> results[] = {run_gemm<T>(rt, s, alpha, a, b, beta, c0),
                                      run_gemm_on_buffers<T>(rt, s, alpha, a, b, beta, c0, home)};
    for (const auto& multi : results) {
      std::size_t bad = 0;
      for (std::size_t i = 0; i < nc; ++i) {
        const double d_ref = std::fabs(double(multi[i]) - oracle.c[i]);
        const double d_single = std::fabs(double(multi[i]) - double(single[i]));
        if (!(d_ref <= oracle.bound[i] && d_single <= 2 * oracle.bound[i]) && bad++ < 3)
          UNSCOPED_INFO("C[" << i << "] multi " << multi[i] << " single " << single[i] << " ref " << oracle.c[i]);
      }
      CHECK(bad == 0);
    }
  }
}

// Row/column-major, every transpose pair, padded leading dimensions, beta != 0.
template <typename T>
void check_gemm_all(anycl::Runtime& rt, std::size_t m, std::size_t n, std::size_t k, bool claimed = false) {
  unsigned seed = 10;
  for (auto layout : {anycl::Layout::RowMajor, anycl::Layout::ColMajor})
    for (auto ta : {anycl::Transpose::No, anycl::Transpose::Yes})
      for (auto tb : {anycl::Transpose::No, anycl::Transpose::Yes}) {
        anycl::GemmShape s;
        s.layout = layout, s.trans_a = ta, s.trans_b = tb, s.m = m, s.n = n, s.k = k;
        const bool row = layout == anycl::Layout::RowMajor;
        const bool tra = ta == anycl::Transpose::Yes, trb = tb == anycl::Transpose::Yes;
        s.lda = ((row != tra) ? k : m) + 3;
        s.ldb = ((row != trb) ? n : k) + 1;
        s.ldc = (row ? n : m) + 2;
        check_gemm_case<T>(rt, s, seed += 3, claimed);
      }
}

struct ConvOut {
  std::vector<float> y, dx, dw, dbias;
};

ConvOut run_conv(anycl::Runtime& rt, const anycl::Conv2d& d, const std::vector<float>& x, const std::vector<float>& w,
                 const std::vector<float>& bias, const std::vector<float>& dy) {
  ConvOut r{std::vector<float>(d.y_size(), std::nanf("")), std::vector<float>(d.x_size(), std::nanf("")),
            std::vector<float>(d.w_size(), std::nanf("")), std::vector<float>(d.k, std::nanf(""))};
  anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), r.y.data());
  anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), r.dx.data());
  anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), r.dw.data(), r.dbias.data());
  return r;
}

// The three passes on device buffers of device `home`, each call waiting only for the one before
// through the buffers' queue (backward-weights only when `weights`).
ConvOut run_conv_on_buffers(anycl::Runtime& rt, const anycl::Conv2d& d, const std::vector<float>& x,
                            const std::vector<float>& w, const std::vector<float>& bias, const std::vector<float>& dy,
                            std::size_t home, bool weights) {
  auto put = [&](const std::vector<float>& v) { return anycl_test::upload(rt, v, 0, home); };
  ConvOut r{std::vector<float>(d.y_size(), std::nanf("")), std::vector<float>(d.x_size(), std::nanf("")),
            std::vector<float>(d.w_size(), std::nanf("")), std::vector<float>(d.k, std::nanf(""))};
  const anycl::Buffer bx = put(x), bw = put(w), bb = put(bias), bdy = put(dy), by = put(r.y), bdx = put(r.dx),
                      bdw = put(r.dw), bdb = put(r.dbias);
  anycl::conv2d_forward(rt, d, bx, bw, &bb, by);
  anycl::conv2d_backward_data(rt, d, bdy, bw, bdx);
  if (weights) anycl::conv2d_backward_weights(rt, d, bx, bdy, bdw, &bdb);
  rt.read(by, r.y.data(), r.y.size() * sizeof(float));
  rt.read(bdx, r.dx.data(), r.dx.size() * sizeof(float));
  rt.read(bdw, r.dw.data(), r.dw.size() * sizeof(float));
  rt.read(bdb, r.dbias.data(), r.dbias.size() * sizeof(float));
  return r;
}

// Within tolerance of the reference, and of the single-device result.
void check_close(const std::vector<float>& got, const std::vector<float>& single, const std::vector<float>& ref,
                 const std::vector<float>& ref_abs, double reduction, double factor) {
  CHECK(count_bad(got, ref, ref_abs, reduction, factor) == 0);
  std::vector<float> single_abs(ref_abs);
  for (auto& v : single_abs) v *= 2;  // both sides carry rounding error
  CHECK(count_bad(got, std::vector<float>(single.begin(), single.end()), single_abs, reduction, factor) == 0);
}

// All three passes; forward with bias and ReLU.
void check_conv_all(anycl::Runtime& rt, const ConvDesc& r) {
  const anycl::Conv2d d = anycl_test::to_anycl(r, true);
  const auto x = random_values(r.x_size(), 1), w = random_values(r.w_size(), 2), bias = random_values(r.k, 3);
  const auto dy = random_values(r.y_size(), 4);
  const auto ref_y = anycl_test::conv_forward(r, x, w, bias, true);
  const auto abs_y = anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), anycl_test::abs_of(bias), false);
  const auto ref_dx = anycl_test::conv_backward_data(r, dy, w);
  const auto abs_dx = anycl_test::conv_backward_data(r, anycl_test::abs_of(dy), anycl_test::abs_of(w));
  std::vector<float> ref_dw, ref_db, abs_dw, abs_db;
  anycl_test::conv_backward_weights(r, x, dy, ref_dw, ref_db);
  anycl_test::conv_backward_weights(r, anycl_test::abs_of(x), anycl_test::abs_of(dy), abs_dw, abs_db);
  only_device0(rt);
  const ConvOut single = run_conv(rt, d, x, w, bias, dy);
  even_weights(rt);
  // Winograd (chosen for >= 32 channels, every pass) carries a larger error than the GEMM forms.
  const bool winograd = anycl::detail::select(anycl::detail::ConvPass::Forward, d, 0, {}) == anycl::ConvAlgo::Winograd;
  const double factor = winograd ? anycl_test::winograd_factor(rt) : 2;
  const double factor_dw = winograd ? anycl_test::winograd_factor(rt, anycl::ConvPass::BackwardWeights) : 2;
  for (Parallel mode : kModes) {
    anycl::set_parallel(rt, mode);
    INFO("mode " << mode_name(mode) << " " << anycl_test::describe(r));
    if (mode != Parallel::Auto)
      for (auto pass : {anycl::detail::ConvPass::Forward, anycl::detail::ConvPass::BackwardData,
                        anycl::detail::ConvPass::BackwardWeights})
        REQUIRE(anycl_test::pieces_of(anycl_test::conv_plan(rt, pass, d)).size() > 1);
    // On device buffers: a shared Winograd pass under Auto, a batch split otherwise (partial
    // sums of dw and dbias added on the buffers' device).
    if (mode != Parallel::Auto && one_memory(rt))
      for (auto pass : {anycl::detail::ConvPass::Forward, anycl::detail::ConvPass::BackwardData,
                        anycl::detail::ConvPass::BackwardWeights})
        REQUIRE(anycl_test::pieces_of(anycl_test::conv_plan(rt, pass, d, 0)).size() > 1);
    for (const ConvOut& got : {run_conv(rt, d, x, w, bias, dy), run_conv_on_buffers(rt, d, x, w, bias, dy, 0, true)}) {
      check_close(got.y, single.y, ref_y, abs_y, double(r.c) * r.r * r.s, factor);
      check_close(got.dx, single.dx, ref_dx, abs_dx, double(r.k) * r.r * r.s, factor);
      const double reduction = double(r.n) * r.out_h() * r.out_w();
      check_close(got.dw, single.dw, ref_dw, abs_dw, reduction, factor_dw);
      check_close(got.dbias, single.dbias, ref_db, abs_db, reduction, 2);
    }
  }
}

// n, c, h, w, k, r, s, stride, pad: batch and channels that split unevenly over the tiles.
const ConvDesc kConv = {5, 6, 9, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
const ConvDesc kConvWinograd = {4, 32, 8, 8, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
const ConvDesc kConvTiny = {2, 3, 5, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};

void check_everything(const std::string& spec, std::size_t devices) {
  anycl::Runtime rt(spec);
  REQUIRE(rt.device_count() == devices);
  check_gemm_all<float>(rt, 70, 45, 33);
  if (rt.device(0).fp64) check_gemm_all<double>(rt, 37, 66, 20);
  check_conv_all(rt, kConv);
  check_conv_all(rt, kConvWinograd);
}

}  // namespace

TEST_CASE("cpu/2 sub-devices: every split mode equals one device", "[multi]") { check_everything("cpu/2", 2); }

// A forward or backward-data pass's host tensors (input x or dy, filter w, optional bias) as the
// scheduler takes them.
anycl::detail::ConvHostSet host_set(anycl::detail::ConvPass pass, const std::vector<float>& in,
                                    const std::vector<float>& w, const std::vector<float>* bias,
                                    std::vector<float>& out) {
  float* const input = const_cast<float*>(in.data());
  float* const filter = const_cast<float*>(w.data());
  float* const b = bias ? const_cast<float*>(bias->data()) : nullptr;
  if (pass == anycl::detail::ConvPass::Forward) return {input, filter, out.data(), b};
  return {out.data(), filter, input, nullptr};
}

std::vector<std::size_t> shared_devices(anycl::Runtime& rt, const anycl::Conv2d& d, anycl::detail::ConvPass pass) {
  return anycl_test::shared_of(anycl_test::conv_plan(rt, pass, d));
}

// Forward (bias and ReLU) and backward-data under Auto on cpu/2, where the sub-devices share one
// Winograd pass: within the Winograd tolerance of the reference and of one device.
void check_shared_winograd(anycl::Runtime& rt, const ConvDesc& r, const std::vector<double>& weights) {
  using anycl::detail::ConvPass;
  const anycl::Conv2d d = anycl_test::to_anycl(r, true);
  INFO(anycl_test::describe(r) << " weights " << weights[0] << ", " << weights[1]);
  const auto x = random_values(r.x_size(), 11), w = random_values(r.w_size(), 12), bias = random_values(r.k, 13);
  const auto dy = random_values(r.y_size(), 14);
  only_device0(rt);
  std::vector<float> y1(d.y_size(), std::nanf("")), y2(y1), dx1(d.x_size(), std::nanf("")), dx2(dx1);
  anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), y1.data());
  anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx1.data());
  anycl::set_device_weights(rt, weights);
  REQUIRE(shared_devices(rt, d, ConvPass::Forward).size() == 2);
  REQUIRE(shared_devices(rt, d, ConvPass::BackwardData).size() == 2);
  anycl::conv2d_forward(rt, d, x.data(), w.data(), bias.data(), y2.data());
  anycl::conv2d_backward_data(rt, d, dy.data(), w.data(), dx2.data());
  const auto ref_y = anycl_test::conv_forward(r, x, w, bias, true);
  const auto abs_y =
      anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), anycl_test::abs_of(bias), false);
  const auto ref_dx = anycl_test::conv_backward_data(r, dy, w);
  const auto abs_dx = anycl_test::conv_backward_data(r, anycl_test::abs_of(dy), anycl_test::abs_of(w));
  check_close(y2, y1, ref_y, abs_y, double(r.c) * r.r * r.s, anycl_test::winograd_factor(rt));
  check_close(dx2, dx1, ref_dx, abs_dx, double(r.k) * r.r * r.s, anycl_test::winograd_factor(rt));
  // The caller's inputs read in place (page-aligned: zero-copy views) or copied by parts.
  for (const bool aligned : {true, false}) {
    INFO((aligned ? "aligned" : "misaligned") << " host inputs");
    const anycl_test::HostFloats hx(x, aligned), hw(w, aligned), hb(bias, aligned), hdy(dy, aligned);
    REQUIRE(anycl::detail::host_view_possible(anycl::detail::engine(rt).slot(0), hx.p) == aligned);
    std::vector<float> y3(d.y_size(), std::nanf("")), dx3(d.x_size(), std::nanf(""));
    anycl::conv2d_forward(rt, d, hx.p, hw.p, hb.p, y3.data());
    anycl::conv2d_backward_data(rt, d, hdy.p, hw.p, dx3.data());
    check_close(y3, y1, ref_y, abs_y, double(r.c) * r.r * r.s, anycl_test::winograd_factor(rt));
    check_close(dx3, dx1, ref_dx, abs_dx, double(r.k) * r.r * r.s, anycl_test::winograd_factor(rt));
  }
  // Devices that share memory but cannot claim (other builds or work-group limits) split the
  // tile panels by weight instead.
  for (const ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData}) {
    anycl::detail::Plan split = anycl_test::conv_plan(rt, pass, d);
    REQUIRE(split.kind == anycl::detail::PlanKind::Shared);
    REQUIRE(split.shared.claimed);
    split.shared.claimed = false;
    const bool fwd = pass == ConvPass::Forward;
    std::vector<float> out(fwd ? d.y_size() : d.x_size(), std::nanf(""));
    anycl::detail::run_conv_shared(anycl::detail::engine(rt), split.shared, pass, d, host_set(pass, fwd ? x : dy, w, fwd ? &bias : nullptr, out));
    INFO((fwd ? "forward" : "backward-data") << ", split by weight");
    if (fwd)
      check_close(out, y1, ref_y, abs_y, double(r.c) * r.r * r.s, anycl_test::winograd_factor(rt));
    else
      check_close(out, dx1, ref_dx, abs_dx, double(r.k) * r.r * r.s, anycl_test::winograd_factor(rt));
  }
  // Device buffers on either device: the same shared pass, in place and asynchronous.
  for (std::size_t home : {0, 1}) {
    INFO("buffers on device " << home);
    REQUIRE(anycl_test::shared_of(anycl_test::conv_plan(rt, ConvPass::Forward, d, home)).size() == 2);
    const ConvOut got = run_conv_on_buffers(rt, d, x, w, bias, dy, home, false);
    check_close(got.y, y1, ref_y, abs_y, double(r.c) * r.r * r.s, anycl_test::winograd_factor(rt));
    check_close(got.dx, dx1, ref_dx, abs_dx, double(r.k) * r.r * r.s, anycl_test::winograd_factor(rt));
  }
}

TEST_CASE("cpu/2: Auto shares one Winograd pass between the sub-devices", "[multi]") {
  anycl::Runtime rt("cpu/2");
  anycl::set_parallel(rt, Parallel::Auto);
  // Output channels not a whole number of panels, odd input channels and images, odd output
  // sizes, asymmetric padding.
  const ConvDesc odd = {3, 33, 9, 7, 44, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1, 1};
  for (const auto& weights : {std::vector<double>{1, 1}, std::vector<double>{3, 1}, std::vector<double>{1, 4}}) {
    check_shared_winograd(rt, kConvWinograd, weights);
    check_shared_winograd(rt, odd, weights);
  }
  // Backward-weights (Winograd too) keeps the piece split, and so does a forced mode.
  const anycl::Conv2d d = anycl_test::to_anycl(odd, false);
  CHECK(shared_devices(rt, d, anycl::detail::ConvPass::BackwardWeights).empty());
  even_weights(rt);
  anycl::set_parallel(rt, Parallel::Data);
  CHECK(shared_devices(rt, d, anycl::detail::ConvPass::Forward).empty());
  CHECK(anycl_test::pieces_of(anycl_test::conv_plan(rt, anycl::detail::ConvPass::Forward, d)).size() == 2);
}

TEST_CASE("cpu/2: claimed tiles: a device held back takes none, the other takes all, none runs twice", "[multi]") {
  using namespace anycl::detail;
  anycl::Runtime rt("cpu/2");
  const DeviceSlot &s0 = anycl::detail::engine(rt).slot(0), &s1 = anycl::detail::engine(rt).slot(1);
  REQUIRE(can_claim(s0, s1, {"gemm_packed_f32"}));
  anycl::GemmShape shape;
  shape.m = 300, shape.n = 200, shape.k = 64, shape.lda = 64, shape.ldb = 200, shape.ldc = 200;
  const auto a = random_values(300 * 64, 1), b = random_values(64 * 200, 2), c0 = random_values(300 * 200, 3);
  const auto oracle = anycl_test::gemm_oracle<float>(shape, 1.f, a.data(), b.data(), 1.f, c0.data());
  const GemmProblem p = normalize(shape, 0, 0, 0);
  const anycl::Buffer A = anycl_test::upload(rt, a), B = anycl_test::upload(rt, b), C = anycl_test::upload(rt, c0);
  const PackedPanels panels(s0, p, packed_layout(s0), sizeof(float));
  enqueue_pack_a<float>(s0, p, A.native(), panels.ap.mem(), panels.ap_elems, 1);
  enqueue_pack_b<float>(s0, p, B.native(), panels.bp.mem(), panels.bp_elems, 1);
  const Claims claims(s0, 1);
  const Claim products = claims.stage(0);
  cl_int err = CL_SUCCESS;
  cl_event gate = clCreateUserEvent(s1.context->get(), &err);
  REQUIRE(err == CL_SUCCESS);
  enqueue_wait(s1, {gate});
  // Device 1 waits for device 0's packing and counter, and for the gate.
  const anycl::Event packed(enqueue_marker(s0));
  enqueue_wait(s1, {packed.native()});
  auto launch = [&](const DeviceSlot& slot) {
    return anycl::Event(enqueue_packed_micro<float>(slot, p.m, p.n, p.k, 1.f, panels.ap.mem(), 0, panels.bp.mem(), 0,
                                                    1.f, C.native(), 0, p.ldc, 0, 1, 0, 0, 0, &products));
  };
  const anycl::Event on0 = launch(s0), on1 = launch(s1);
  on0.wait();  // device 1 has not started: device 0 alone claimed every tile
  std::vector<float> first(c0.size()), second(c0.size());
  rt.read(C, first.data(), first.size() * sizeof(float));
  std::size_t bad = 0;
  for (std::size_t i = 0; i < first.size(); ++i) bad += !(std::fabs(first[i] - oracle.c[i]) <= oracle.bound[i]);
  CHECK(bad == 0);
  REQUIRE(clSetUserEventStatus(gate, CL_COMPLETE) == CL_SUCCESS);
  on1.wait();  // device 1 finds every tile taken: with beta = 1 a tile done again would change C
  rt.read(C, second.data(), second.size() * sizeof(float));
  CHECK(first == second);
  clReleaseEvent(gate);
}

// A row-major strided batch (a stride of 0 shares that operand) in every mode: on host pointers,
// as pointer arrays and on device buffers of device 1, each item against the oracle; the gaps
// between the items of C stay as they were. With `claimed`, Auto must run it as one shared pass.
void check_strided_batch(anycl::Runtime& rt, const anycl::GemmShape& s, bool claimed) {
  const bool ta = s.trans_a == anycl::Transpose::Yes, tb = s.trans_b == anycl::Transpose::Yes;
  const std::size_t one_a = anycl_test::stored_elems(true, ta ? s.k : s.m, ta ? s.m : s.k, s.lda);
  const std::size_t one_b = anycl_test::stored_elems(true, tb ? s.n : s.k, tb ? s.k : s.n, s.ldb);
  const std::size_t one_c = anycl_test::stored_elems(true, s.m, s.n, s.ldc), items = s.batch;
  const auto a = random_values((items - 1) * s.stride_a + one_a, 1), b = random_values((items - 1) * s.stride_b + one_b, 2);
  const auto c0 = random_values((items - 1) * s.stride_c + one_c, 3);
  anycl::GemmShape one = s;
  one.batch = 1;
  for (Parallel mode : kModes) {
    INFO("mode " << mode_name(mode));
    anycl::set_parallel(rt, mode);
    if (mode != Parallel::Auto) REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s)).size() > 1);
    if (mode == Parallel::Auto && claimed)
      REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<float>(rt, s)).size() > 1);
    auto c = c0;
    anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.5f, c.data());
    auto c_items = c0;
    std::vector<const float*> pa, pb;
    std::vector<float*> pc;
    for (std::size_t i = 0; i < items; ++i)
      pa.push_back(a.data() + i * s.stride_a), pb.push_back(b.data() + i * s.stride_b),
          pc.push_back(c_items.data() + i * s.stride_c);
    anycl::GemmShape pointers = one;
    pointers.batch = items;  // the pointer count
    anycl::gemm_batched<float>(rt, pointers, 1.f, pa.data(), pb.data(), 0.5f, pc.data());
    const auto c_buf = run_gemm_on_buffers<float>(rt, s, 1.f, a, b, 0.5f, c0, 1);
    for (std::size_t i = 0; i < items; ++i) {
      const auto oracle = anycl_test::gemm_oracle<float>(one, 1.f, pa[i], pb[i], 0.5f, c0.data() + i * s.stride_c);
      for (std::size_t e = 0; e < oracle.c.size(); ++e) {
        REQUIRE(std::fabs(c[i * s.stride_c + e] - oracle.c[e]) <= oracle.bound[e]);
        REQUIRE(std::fabs(c_items[i * s.stride_c + e] - oracle.c[e]) <= oracle.bound[e]);
        REQUIRE(std::fabs(c_buf[i * s.stride_c + e] - oracle.c[e]) <= oracle.bound[e]);
      }
    }
    for (std::size_t i = 0; i + 1 < items; ++i)
      for (std::size_t e = one_c; e < s.stride_c; ++e) {
        REQUIRE(c[i * s.stride_c + e] == c0[i * s.stride_c + e]);
        REQUIRE(c_buf[i * s.stride_c + e] == c0[i * s.stride_c + e]);
      }
  }
}

TEST_CASE("cpu/2: strided and pointer-array batches split too", "[multi]") {
  anycl::Runtime rt("cpu/2");
  even_weights(rt);
  anycl::GemmShape s;
  s.m = 40, s.n = 48, s.k = 6, s.lda = 6, s.ldb = 48, s.ldc = 50, s.batch = 3;
  s.stride_a = 40 * 6 + 5, s.stride_b = 0, s.stride_c = 40 * 50 + 7;  // B shared by every item
  check_strided_batch(rt, s, false);
}

// Big enough that every layout and transpose pair runs packed (past DIRECT_MAX^3 with min(m, n) >
// DIRECT_NARROW) and is worth splitting (0.33 GFLOP: over 1 ms below 330 GFLOP/s, whatever the
// calibration measured), with edge tiles in m and n; then a strided batch and a batch that
// shares A. A long reduction too, summed in one order whatever the sub-devices take.
void check_claimed_gemm(anycl::Runtime& rt) {
  check_gemm_all<float>(rt, 601, 530, 523, true);
  check_gemm_all<float>(rt, 301, 260, 2100, true);
  for (const bool shared_a : {false, true}) {
    anycl::GemmShape s;
    s.trans_b = anycl::Transpose::Yes;
    s.m = 257, s.n = 250, s.k = 700, s.lda = 701, s.ldb = 700, s.ldc = 252, s.batch = 3;  // 0.27 GFLOP
    s.stride_a = shared_a ? 0 : 257 * 701 + 5, s.stride_b = 250 * 700 + 2, s.stride_c = 257 * 252 + 1;
    INFO("batch of 3, shared A " << shared_a);
    check_strided_batch(rt, s, true);
  }
}

TEST_CASE("cpu/2: Auto runs a packed GEMM as one pass whose sub-devices claim tiles; equals one device", "[multi]") {
  anycl::Runtime rt("cpu/2");
  check_claimed_gemm(rt);
}

TEST_CASE("cpu/2: with CLBlast as the GEMM provider, every split mode equals one device", "[multi][clblast]") {
  // Claimed tiles need anycl's own kernels, so every mode, Auto included, splits into pieces that
  // CLBlast computes, on host pointers and on buffers of either device.
  anycl::Runtime rt("cpu/2");
  anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast);
  check_gemm_all<float>(rt, 70, 45, 33);
}

TEST_CASE("cpu/2: k = 0 and alpha = 0 only scale C, split too", "[multi]") {
  anycl::Runtime rt = data_split_cpu2();
  anycl::GemmShape s;
  s.m = 48, s.n = 40, s.k = 0, s.lda = 1, s.ldb = 40, s.ldc = 40;
  REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s)).size() == 2);
  const auto c0 = random_values(48 * 40, 1);
  auto c = c0;
  anycl::gemm<float>(rt, s, 1.f, nullptr, nullptr, 0.5f, c.data());
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == 0.5f * c0[i]);
  s.k = 8, s.lda = 8;
  const auto a = random_values(48 * 8, 2), b = random_values(8 * 40, 3);
  c = c0;
  anycl::gemm<float>(rt, s, 0.f, a.data(), b.data(), 2.f, c.data());
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == 2.f * c0[i]);
}

TEST_CASE("cpu/2: device-buffer calls split and keep the order of the buffers' queue", "[multi]") {
  anycl::Runtime rt("cpu/2");
  // C1 = A B split by rows, then C2 = C1 B2 split by columns (each device reads all of C1), then a
  // shared Winograd convolution of C2, queued back to back with no wait in between: each call's
  // pieces must wait for the previous call's pieces on both devices.
  const std::size_t n = 256;
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = n;
  const ConvDesc r = {1, 32, 32, 64, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};  // x is C2 (256 x 256 = 32 x 32 x 64)
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  REQUIRE(d.x_size() == n * n);
  const auto a = random_values(n * n, 1), b = random_values(n * n, 2), b2 = random_values(n * n, 3);
  const auto w = random_values(r.w_size(), 4);
  // Either device holds most of every call and finishes last: the other must wait for it.
  for (const auto& weights : {std::vector<double>{1, 4}, std::vector<double>{4, 1}}) {
    INFO("weights " << weights[0] << ", " << weights[1]);
    anycl::set_device_weights(rt, weights);
    std::vector<float> c1(n * n, std::nanf("")), c2(n * n, std::nanf("")), y(d.y_size(), std::nanf(""));
    using anycl_test::upload;
    const anycl::Buffer ba = upload(rt, a), bb = upload(rt, b), bb2 = upload(rt, b2), bw = upload(rt, w),
                        bc1 = upload(rt, c1), bc2 = upload(rt, c2), by = upload(rt, y);
    anycl::set_parallel(rt, Parallel::Data);
    REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s, 1.f, 0)).size() == 2);
    anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 0.f, bc1, 0);
    anycl::set_parallel(rt, Parallel::Model);
    REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s, 1.f, 0)).size() == 2);
    anycl::gemm<float>(rt, s, 1.f, bc1, 0, bb2, 0, 0.f, bc2, 0);
    anycl::set_parallel(rt, Parallel::Auto);
    using anycl::detail::ConvPass;
    REQUIRE(anycl_test::shared_of(anycl_test::conv_plan(rt, ConvPass::Forward, d, 0)).size() == 2);
    anycl::conv2d_forward(rt, d, bc2, bw, nullptr, by).wait();
    rt.read(bc1, c1.data(), c1.size() * sizeof(float));
    rt.read(bc2, c2.data(), c2.size() * sizeof(float));
    rt.read(by, y.data(), y.size() * sizeof(float));
    const auto o1 = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 0.f, c1.data());
    for (std::size_t i = 0; i < c1.size(); ++i) REQUIRE(std::fabs(c1[i] - o1.c[i]) <= o1.bound[i]);
    // Against the C1 the devices produced: a C2 computed from a C1 still being written would differ.
    const auto o2 = anycl_test::gemm_oracle<float>(s, 1.f, c1.data(), b2.data(), 0.f, c2.data());
    for (std::size_t i = 0; i < c2.size(); ++i) REQUIRE(std::fabs(c2[i] - o2.c[i]) <= o2.bound[i]);
    const auto ref = anycl_test::conv_forward(r, c2, w, {}, false);
    const auto abs = anycl_test::conv_forward(r, anycl_test::abs_of(c2), anycl_test::abs_of(w), {}, false);
    CHECK(count_bad(y, ref, abs, double(r.c) * r.r * r.s,
                    anycl_test::tolerance_factor(rt, d, anycl::ConvAlgo::Auto, anycl::ConvPass::Forward)) == 0);
  }
}

namespace {

std::vector<float> read_all(anycl::Runtime& rt, const anycl::Buffer& b) {
  std::vector<float> v(b.bytes() / sizeof(float));
  rt.read(b, v.data(), b.bytes());
  return v;
}

// `call` (one split device-buffer call writing `outs`, on device 0) fails on either device: a
// clear error, and every output reads back as it was. Then it succeeds; returns the outputs.
std::vector<std::vector<float>> check_untouched_on_failure(anycl::Runtime& rt,
                                                           const std::vector<const anycl::Buffer*>& outs,
                                                           const std::function<anycl::Event()>& call) {
  std::vector<std::vector<float>> before, after;
  for (const anycl::Buffer* b : outs) before.push_back(read_all(rt, *b));
  for (std::size_t failing : {0, 1}) {
    INFO("failing device " << failing);
    anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(failing));
    std::string msg;
    CHECK(anycl_test::status_of([&] { call().wait(); }, &msg) == ANYCL_ERROR_OPENCL);
    CHECK(anycl_test::contains(msg, "CL_OUT_OF_RESOURCES"));
    CHECK(anycl_test::contains(msg, anycl::detail::engine(rt).slot(failing).where()));
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const std::vector<float> now = read_all(rt, *outs[i]);
      CHECK(std::memcmp(now.data(), before[i].data(), outs[i]->bytes()) == 0);  // NaNs too
    }
  }
  call().wait();
  for (const anycl::Buffer* b : outs) after.push_back(read_all(rt, *b));
  return after;
}

}  // namespace

TEST_CASE("cpu/2: a device failing in a device-buffer split: clear error, outputs untouched, runtime usable",
          "[multi]") {
  anycl::Runtime rt("cpu/2");
  even_weights(rt);
  using anycl::detail::ConvPass;
  using anycl_test::upload;
  SECTION("GEMM split by rows, queued behind an unfinished call that writes C") {
    anycl::set_parallel(rt, Parallel::Data);
    anycl::GemmShape s;
    s.m = 768, s.n = 700, s.k = 640, s.lda = 640, s.ldb = 700, s.ldc = 700;
    REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s, 1.f, 0)).size() == 2);
    const auto a = random_values(768 * 640, 1), b = random_values(640 * 700, 2);
    const anycl::Buffer ba = upload(rt, a), bb = upload(rt, b),
                        bc = upload(rt, std::vector<float>(768 * 700, std::nanf("")));
    std::vector<float> zero(768 * 700, 0.f);
    const auto o = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 0.f, zero.data());
    for (std::size_t failing : {0, 1}) {
      INFO("failing device " << failing);
      // Not waited for (a few ms of work): the failing call must restore C as this call leaves
      // it, not the NaNs it finds when it fails.
      anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 0.f, bc, 0);
      anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(failing));
      std::string msg;
      CHECK(anycl_test::status_of([&] { anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 1.f, bc, 0); }, &msg) ==
            ANYCL_ERROR_OPENCL);
      CHECK(anycl_test::contains(msg, anycl::detail::engine(rt).slot(failing).where()));
      const std::vector<float> c = read_all(rt, bc);
      for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - o.c[i]) <= o.bound[i]);
      rt.write(bc, std::vector<float>(c.size(), std::nanf("")).data(), bc.bytes());
    }
    const auto c = check_untouched_on_failure(rt, {&bc}, [&] {
      return anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 0.f, bc, 0);
    })[0];
    for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - o.c[i]) <= o.bound[i]);
  }
  SECTION("GEMM as one claimed pass") {
    anycl::GemmShape s;
    s.m = 768, s.n = 700, s.k = 640, s.lda = 640, s.ldb = 700, s.ldc = 700;
    REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<float>(rt, s, 1.f, 0)).size() == 2);
    const auto a = random_values(768 * 640, 1), b = random_values(640 * 700, 2), c0 = random_values(768 * 700, 3);
    const anycl::Buffer ba = upload(rt, a), bb = upload(rt, b), bc = upload(rt, c0);
    const auto c = check_untouched_on_failure(rt, {&bc}, [&] {
      return anycl::gemm<float>(rt, s, 1.f, ba, 0, bb, 0, 1.f, bc, 0);
    })[0];
    const auto oracle = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 1.f, c0.data());
    for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - oracle.c[i]) <= oracle.bound[i]);
  }
  SECTION("convolution forward, a batch split and a shared Winograd pass") {
    for (const ConvDesc& r : {kConv, kConvWinograd}) {
      INFO(anycl_test::describe(r));
      const anycl::Conv2d d = anycl_test::to_anycl(r, false);
      const anycl::detail::Plan plan = anycl_test::conv_plan(rt, ConvPass::Forward, d, 0);
      REQUIRE((anycl_test::shared_of(plan).size() == 2 || anycl_test::pieces_of(plan).size() == 2));
      const auto x = random_values(r.x_size(), 4), w = random_values(r.w_size(), 5);
      const anycl::Buffer bx = upload(rt, x), bw = upload(rt, w), by = upload(rt, std::vector<float>(r.y_size(), 7.f));
      const auto y = check_untouched_on_failure(rt, {&by}, [&] {
        return anycl::conv2d_forward(rt, d, bx, bw, nullptr, by);
      })[0];
      const auto ref = anycl_test::conv_forward(r, x, w, {}, false);
      const auto abs = anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), {}, false);
      CHECK(count_bad(y, ref, abs, double(r.c) * r.r * r.s,
                      anycl_test::tolerance_factor(rt, d, anycl::ConvAlgo::Auto, anycl::ConvPass::Forward)) == 0);
    }
  }
  SECTION("convolution backward-weights: partial sums added on the buffers' device") {
    const ConvDesc r = kConv;
    const anycl::Conv2d d = anycl_test::to_anycl(r, false);
    REQUIRE(anycl_test::pieces_of(anycl_test::conv_plan(rt, ConvPass::BackwardWeights, d, 0)).size() == 2);
    const auto x = random_values(r.x_size(), 4), dy = random_values(r.y_size(), 5);
    const anycl::Buffer bx = upload(rt, x), bdy = upload(rt, dy), bdw = upload(rt, std::vector<float>(r.w_size(), 7.f)),
                        bdb = upload(rt, std::vector<float>(r.k, 7.f));
    const auto got = check_untouched_on_failure(rt, {&bdw, &bdb}, [&] {
      return anycl::conv2d_backward_weights(rt, d, bx, bdy, bdw, &bdb);
    });
    const std::vector<float>&dw = got[0], &db = got[1];
    std::vector<float> ref_dw, ref_db, abs_dw, abs_db;
    anycl_test::conv_backward_weights(r, x, dy, ref_dw, ref_db);
    anycl_test::conv_backward_weights(r, anycl_test::abs_of(x), anycl_test::abs_of(dy), abs_dw, abs_db);
    const double reduction = double(r.n) * r.out_h() * r.out_w();
    CHECK(count_bad(dw, ref_dw, abs_dw, reduction, 2) == 0);
    CHECK(count_bad(db, ref_db, abs_db, reduction, 2) == 0);
  }
}

TEST_CASE("two POCL devices: every split mode equals one device", "[.two-pocl]") { check_everything("cpu", 2); }

// OpenCL 1.2 atomics hold within one device: two devices that share host memory do not take
// work-groups from one counter. A large GEMM under Auto splits into pieces, the shared Winograd
// pass splits its tile panels by weight, and both equal one device.
TEST_CASE("two POCL devices: no claims across devices, pieces and unclaimed shared passes instead", "[.two-pocl]") {
  anycl::Runtime rt("cpu");
  REQUIRE(rt.device_count() == 2);
  even_weights(rt);
  anycl::GemmShape s;
  s.m = 768, s.n = 700, s.k = 640, s.lda = 640, s.ldb = 700, s.ldc = 700;
  const anycl::detail::Plan gemm = anycl_test::gemm_plan<float>(rt, s);
  CHECK(gemm.kind == anycl::detail::PlanKind::Pieces);
  const anycl::detail::Plan conv =
      anycl_test::conv_plan(rt, anycl::detail::ConvPass::Forward, anycl_test::to_anycl(kConvWinograd, false));
  REQUIRE(conv.kind == anycl::detail::PlanKind::Shared);
  CHECK_FALSE(conv.shared.claimed);
  check_gemm_all<float>(rt, 601, 530, 523);
  check_conv_all(rt, kConvWinograd);
}

TEST_CASE("four sub-devices of two POCL devices: hybrid is a 2x2 grid", "[.two-pocl]") {
  anycl::Runtime rt("cpu/2");
  REQUIRE(rt.device_count() == 4);
  even_weights(rt);
  anycl::GemmShape s;
  s.m = 64, s.n = 96, s.k = 16, s.lda = 16, s.ldb = 96, s.ldc = 96;
  anycl::set_parallel(rt, Parallel::Hybrid);
  const auto pieces = anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s));
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[0].data == pieces[1].data);
  CHECK_FALSE(pieces[0].data == pieces[2].data);
  check_gemm_all<float>(rt, 50, 70, 9);
  check_conv_all(rt, kConv);
}

TEST_CASE("POCL plus Oclgrind: every split mode equals one device", "[.with-oclgrind]") {
  anycl::Runtime rt("cpu,oclgrind");
  REQUIRE(rt.device_count() == 2);
  REQUIRE(anycl_test::contains(anycl_test::lower(rt.device(1).platform_name), "oclgrind"));
  check_gemm_all<float>(rt, 40, 36, 4);
  if (rt.device(1).fp64) check_gemm_all<double>(rt, 34, 40, 3);
  check_conv_all(rt, kConvTiny);
}

TEST_CASE("POCL plus Oclgrind: measured weights keep Oclgrind out of a small call", "[.with-oclgrind]") {
  anycl_test::TempDir cache;
  anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env("cpu,oclgrind");
  o.cache_dir = cache.path();
  anycl::Runtime rt(o);
  const auto w = anycl::device_weights(rt);
  REQUIRE(w.size() == 2);
  INFO("POCL " << w[0] << " GFLOP/s, Oclgrind " << w[1] << " GFLOP/s");
  CHECK(w[1] > 0);
  CHECK(w[1] * 50 < w[0]);
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = 256;
  for (Parallel mode : kModes) {
    anycl::set_parallel(rt, mode);
    for (std::size_t device : anycl_test::devices_of(anycl_test::gemm_plan<float>(rt, s))) CHECK(device == 0);
  }
}

TEST_CASE("a device failing mid-call: clear error, outputs untouched, runtime usable", "[multi]") {
  anycl::Runtime rt = data_split_cpu2();
  anycl::GemmShape s;
  s.m = 64, s.n = 40, s.k = 24, s.lda = 24, s.ldb = 40, s.ldc = 40;
  const auto a = random_values(64 * 24, 1), b = random_values(24 * 40, 2);
  const std::vector<float> c0 = random_values(64 * 40, 3);
  std::vector<float> c = c0;
  anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(1));
  std::string msg;
  CHECK(anycl_test::status_of([&] { anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 1.f, c.data()); }, &msg) ==
        ANYCL_ERROR_OPENCL);
  CHECK(anycl_test::contains(msg, "CL_OUT_OF_RESOURCES"));
  CHECK(anycl_test::contains(msg, anycl::detail::engine(rt).slot(1).where()));
  CHECK(std::memcmp(c.data(), c0.data(), c.size() * sizeof(float)) == 0);
  // The runtime carries on: the same call now succeeds on both devices.
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 1.f, c.data());
  const auto oracle = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 1.f, c0.data());
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - oracle.c[i]) <= oracle.bound[i]);

  // Convolution: the failing device is the first one this time; backward-weights sums partials.
  const ConvDesc r = kConv;
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  const auto x = random_values(r.x_size(), 4), dy = random_values(r.y_size(), 5);
  std::vector<float> dw(r.w_size(), 7.f), db(r.k, 7.f);
  anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(0));
  CHECK(anycl_test::status_of([&] {
          anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), db.data());
        }) != ANYCL_SUCCESS);
  CHECK(std::all_of(dw.begin(), dw.end(), [](float v) { return v == 7.f; }));
  CHECK(std::all_of(db.begin(), db.end(), [](float v) { return v == 7.f; }));
  anycl::conv2d_backward_weights(rt, d, x.data(), dy.data(), dw.data(), db.data());
  std::vector<float> ref_dw, ref_db, abs_dw, abs_db;
  anycl_test::conv_backward_weights(r, x, dy, ref_dw, ref_db);
  anycl_test::conv_backward_weights(r, anycl_test::abs_of(x), anycl_test::abs_of(dy), abs_dw, abs_db);
  CHECK(count_bad(dw, ref_dw, abs_dw, double(r.n) * r.out_h() * r.out_w(), 2) == 0);
}

TEST_CASE("a device failing in a claimed GEMM: clear error, output untouched, runtime usable", "[multi]") {
  anycl::Runtime rt("cpu/2");
  anycl::GemmShape s;
  s.trans_b = anycl::Transpose::Yes;
  // Worth splitting whatever the calibration measured (0.7 GFLOP: over 1 ms below 700 GFLOP/s).
  s.m = 768, s.n = 700, s.k = 640, s.lda = 640, s.ldb = 640, s.ldc = 700;
  REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<float>(rt, s)).size() == 2);
  const auto a = random_values(768 * 640, 1), b = random_values(700 * 640, 2), c0 = random_values(768 * 700, 3);
  std::vector<float> c = c0;
  for (std::size_t failing : {0, 1}) {
    INFO("failing device " << failing);
    anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(failing));
    std::string msg;
    CHECK(anycl_test::status_of([&] { anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 1.f, c.data()); }, &msg) ==
          ANYCL_ERROR_OPENCL);
    CHECK(anycl_test::contains(msg, "CL_OUT_OF_RESOURCES"));
    CHECK(anycl_test::contains(msg, anycl::detail::engine(rt).slot(failing).where()));
    CHECK(c == c0);
  }
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 1.f, c.data());
  const auto oracle = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 1.f, c0.data());
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - oracle.c[i]) <= oracle.bound[i]);
}

TEST_CASE("a device failing in a shared Winograd pass: clear error, output untouched, runtime usable", "[multi]") {
  anycl::Runtime rt("cpu/2");
  even_weights(rt);
  const ConvDesc r = kConvWinograd;
  const anycl::Conv2d d = anycl_test::to_anycl(r, false);
  REQUIRE(shared_devices(rt, d, anycl::detail::ConvPass::Forward).size() == 2);
  const auto x = random_values(r.x_size(), 6), w = random_values(r.w_size(), 7);
  std::vector<float> y(r.y_size(), 7.f);
  // Inputs copied by parts, and read in place (page-aligned: zero-copy views).
  for (const bool aligned : {false, true})
    for (std::size_t failing : {0, 1}) {
      INFO("failing device " << failing << (aligned ? ", aligned" : ", misaligned") << " inputs");
      const anycl_test::HostFloats hx(x, aligned), hw(w, aligned);
      anycl::detail::fail_next_enqueue(anycl::detail::engine(rt).slot(failing));
      std::string msg;
      CHECK(anycl_test::status_of([&] { anycl::conv2d_forward(rt, d, hx.p, hw.p, nullptr, y.data()); }, &msg) ==
            ANYCL_ERROR_OPENCL);
      CHECK(anycl_test::contains(msg, "CL_OUT_OF_RESOURCES"));
      CHECK(anycl_test::contains(msg, anycl::detail::engine(rt).slot(failing).where()));
      CHECK(std::all_of(y.begin(), y.end(), [](float v) { return v == 7.f; }));
    }
  anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data());
  const auto ref = anycl_test::conv_forward(r, x, w, {}, false);
  const auto abs = anycl_test::conv_forward(r, anycl_test::abs_of(x), anycl_test::abs_of(w), {}, false);
  CHECK(count_bad(y, ref, abs, double(r.c) * r.r * r.s,
                  anycl_test::tolerance_factor(rt, d, anycl::ConvAlgo::Auto, anycl::ConvPass::Forward)) == 0);
}

TEST_CASE("device weights: measured once, cached on disk, overridable", "[multi]") {
  anycl_test::TempDir cache;
  anycl::RuntimeOptions o = anycl::RuntimeOptions::from_env("cpu/2");
  o.cache_dir = cache.path();
  std::vector<double> first;
  {
    anycl::Runtime rt(o);
    first = anycl::device_weights(rt);
    REQUIRE(first.size() == 2);
    CHECK(first[0] > 0);
    CHECK(first[1] > 0);
  }
  const auto files = anycl_test::list_dir(cache.path());
  CHECK(std::count_if(files.begin(), files.end(), [](const std::string& f) { return f.rfind("weight-", 0) == 0; }) >= 1);
  {
    anycl::Runtime rt(o);
    CHECK(anycl::device_weights(rt) == first);  // a re-measurement would not repeat to the last bit
  }
  {
    anycl_test::ScopedEnv env("ANYCL_DEVICE_WEIGHTS", std::string("3,1"));
    anycl::Runtime rt(o);
    CHECK(anycl::device_weights(rt) == std::vector<double>{3, 1});
    anycl::set_device_weights(rt, {1, 2});
    CHECK(anycl::device_weights(rt) == std::vector<double>{1, 2});
    CHECK(anycl_test::status_of([&] { anycl::set_device_weights(rt, {1}); }) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(anycl_test::status_of([&] { anycl::set_device_weights(rt, {0, 0}); }) == ANYCL_ERROR_INVALID_ARGUMENT);
  }
  {
    anycl_test::ScopedEnv env("ANYCL_DEVICE_WEIGHTS", std::string("3,fast"));
    anycl::Runtime rt(o);
    std::string msg;
    CHECK(anycl_test::status_of([&] { anycl::device_weights(rt); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(anycl_test::contains(msg, "ANYCL_DEVICE_WEIGHTS"));
  }
}

// Its own ctest entry, so no OpenCL call precedes it: POCL reads POCL_CACHE_DIR when it starts,
// and an empty one makes this the first run on a fresh machine, where POCL compiles each kernel
// for its local size at the first launch. Counting that compile as run time once gave a 2-core
// CPU 0.01 GFLOP/s, and with that weight Oclgrind got a share that made POCL+Oclgrind calls
// thousands of times slower.
TEST_CASE("device weights: a cold kernel compile does not count as device time", "[.cold-calibration]") {
  anycl_test::TempDir pocl_cache("anycl-pocl-cache");
  anycl_test::ScopedEnv env("POCL_CACHE_DIR", pocl_cache.path());
  anycl::Runtime rt("cpu");
  const anycl::detail::DeviceSlot& slot = anycl::detail::engine(rt).slot(0);
  const double cold = anycl::detail::calibrate(slot);
  REQUIRE(!anycl_test::list_dir(pocl_cache.path()).empty());  // POCL did compile into the empty cache
  const double warm = anycl::detail::calibrate(slot);
  INFO("cold " << cold << " GFLOP/s, warm " << warm << " GFLOP/s");
  // Two timings of one device under the same load; a counted compile costs a factor over 100.
  CHECK(cold > warm / 3);
  CHECK(warm > cold / 3);
}

TEST_CASE("device weights: measured ones follow the fixed splits' timings, set ones stay", "[multi]") {
  anycl_test::TempDir cache;
  anycl::Runtime rt = cpu2_cached_in(cache);
  const std::vector<double> calibrated = anycl::device_weights(rt);
  REQUIRE(calibrated.size() == 2);
  anycl::GemmShape s;
  // 537 MFLOP, worth splitting (over 1 ms) below 537 GFLOP/s a device: 512^3 (268 MFLOP) was
  // close to the limit once a sub-device calibrated at 214.7 GFLOP/s.
  s.m = 2048, s.n = 128, s.k = 1024, s.lda = 1024, s.ldb = 128, s.ldc = 128;
  const auto a = random_values(2048 * 1024, 1), b = random_values(1024 * 128, 2);
  std::vector<float> c(2048 * 128);
  // A GEMM with a narrow C (n <= DIRECT_NARROW) runs the direct kernel, which the devices split
  // by weight: the call's timings move them.
  REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<float>(rt, s)).empty());
  REQUIRE(anycl_test::pieces_of(anycl_test::gemm_plan<float>(rt, s)).size() == 2);
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());
  const std::vector<double> learned = anycl::device_weights(rt);
  INFO("calibrated " << calibrated[0] << ", " << calibrated[1] << "; after one call " << learned[0] << ", "
                     << learned[1]);
  CHECK(learned != calibrated);  // two devices' timings never match to the last bit
  // The devices keep their total; each stays within 4x of its calibration.
  CHECK(learned[0] + learned[1] == Approx(calibrated[0] + calibrated[1]).epsilon(1e-12));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(learned[i] >= calibrated[i] / 4);
    CHECK(learned[i] <= calibrated[i] * 4);
  }
  // A packed GEMM and the shared Winograd pass have their devices claim work-groups from each
  // other: nothing is split by weight, nothing is learnt. The same pass split by weight (devices
  // that cannot claim) and the piece split of other convolutions learn.
  anycl::GemmShape big = s;
  big.m = big.n = big.k = big.lda = big.ldb = big.ldc = 768;
  REQUIRE(anycl_test::shared_of(anycl_test::gemm_plan<float>(rt, big)).size() == 2);
  const auto big_a = random_values(768 * 768, 5);
  std::vector<float> big_c(768 * 768);
  anycl::gemm<float>(rt, big, 1.f, big_a.data(), big_a.data(), 0.f, big_c.data());
  CHECK(anycl::device_weights(rt) == learned);
  anycl::Conv2d d;  // 462 MFLOP: worth splitting (>= 1 ms) up to 462 GFLOP/s a sub-device
  d.n = 8, d.c = 64, d.h = d.w = 28, d.k = 64, d.r = d.s = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  anycl::detail::Plan shared = anycl_test::conv_plan(rt, anycl::detail::ConvPass::Forward, d);
  REQUIRE(shared.kind == anycl::detail::PlanKind::Shared);
  REQUIRE(shared.shared.claimed);
  const auto x = random_values(d.x_size(), 3), wt = random_values(d.w_size(), 4);
  std::vector<float> y(d.y_size());
  anycl::conv2d_forward(rt, d, x.data(), wt.data(), nullptr, y.data());
  CHECK(anycl::device_weights(rt) == learned);
  shared.shared.claimed = false;
  anycl::detail::run_conv_shared(anycl::detail::engine(rt), shared.shared, anycl::detail::ConvPass::Forward, d,
                                 host_set(anycl::detail::ConvPass::Forward, x, wt, nullptr, y));
  CHECK(anycl::device_weights(rt) != learned);
  anycl::Conv2d pointwise = d;
  // Big enough to be worth splitting (plan.hpp: at least 1 ms on the fastest device) beyond a
  // 1-core sub-device's peak: 822 MFLOP. At batch 8 (205 MFLOP) a calibration of 214.7 GFLOP/s
  // kept it on one device.
  pointwise.n = 32, pointwise.c = pointwise.k = 128, pointwise.r = pointwise.s = 1;
  pointwise.pad_top = pointwise.pad_left = pointwise.pad_bottom = pointwise.pad_right = 0;
  REQUIRE(shared_devices(rt, pointwise, anycl::detail::ConvPass::Forward).empty());
  REQUIRE(anycl_test::pieces_of(anycl_test::conv_plan(rt, anycl::detail::ConvPass::Forward, pointwise)).size() == 2);
  {
    const auto px = random_values(pointwise.x_size(), 3), pw = random_values(pointwise.w_size(), 4);
    std::vector<float> py(pointwise.y_size());
    const std::vector<double> before = anycl::device_weights(rt);
    anycl::conv2d_forward(rt, pointwise, px.data(), pw.data(), nullptr, py.data());
    CHECK(anycl::device_weights(rt) != before);
  }
  anycl::set_device_weights(rt, {1, 3});
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());
  CHECK(anycl::device_weights(rt) == std::vector<double>{1, 3});
  anycl::set_device_weights(rt, {});  // back to the calibration (from the cache): learning starts again
  CHECK(anycl::device_weights(rt) == calibrated);
}

TEST_CASE("learn_weights: speeds pull the weights, within 4x of the calibration", "[multi]") {
  anycl_test::TempDir cache;
  anycl::Runtime rt = cpu2_cached_in(cache);
  const std::vector<double> cal = anycl::device_weights(rt);
  auto& impl = anycl::detail::engine(rt);
  // Half the work each, device 0 twice as slow: the weights settle at 1:2, total kept.
  for (int call = 0; call < 60; ++call) anycl::detail::learn_weights(impl, {{0, 0.5, 0.02}, {1, 0.5, 0.01}});
  std::vector<double> w = anycl::device_weights(rt);
  CHECK(w[1] / w[0] == Approx(2).epsilon(1e-6));
  CHECK(w[0] + w[1] == Approx(cal[0] + cal[1]).epsilon(1e-12));
  // Shares that took equal times are kept: the fixed point.
  anycl::detail::learn_weights(impl, {{0, w[0] / (w[0] + w[1]), 0.01}, {1, w[1] / (w[0] + w[1]), 0.01}});
  CHECK(anycl::device_weights(rt)[1] / anycl::device_weights(rt)[0] == Approx(2).epsilon(1e-9));
  // One device timed alone says nothing about the other.
  w = anycl::device_weights(rt);
  anycl::detail::learn_weights(impl, {{0, 1.0, 0.5}});
  CHECK(anycl::device_weights(rt) == w);
  // A device a thousand times slower stops at a quarter of its calibration.
  for (int call = 0; call < 60; ++call) anycl::detail::learn_weights(impl, {{0, 0.5, 10.0}, {1, 0.5, 0.01}});
  CHECK(anycl::device_weights(rt)[0] == Approx(cal[0] / 4).epsilon(1e-12));
}

TEST_CASE("C API: set_parallel and set_device_weights", "[multi]") {
  anycl_runtime* rt = nullptr;
  REQUIRE(anycl_runtime_create("cpu/2", &rt) == ANYCL_SUCCESS);
  CHECK(anycl_runtime_set_parallel(rt, ANYCL_PARALLEL_MODEL) == ANYCL_SUCCESS);
  CHECK(anycl_runtime_set_parallel(rt, anycl_parallel(9)) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_runtime_set_parallel(nullptr, ANYCL_PARALLEL_DATA) == ANYCL_ERROR_INVALID_ARGUMENT);
  const double w[2] = {1, 1};
  CHECK(anycl_runtime_set_device_weights(rt, w, 2) == ANYCL_SUCCESS);
  CHECK(anycl_runtime_set_device_weights(rt, w, 1) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(anycl_runtime_set_device_weights(rt, nullptr, 2) == ANYCL_ERROR_INVALID_ARGUMENT);
  // A model-split SGEMM through the C API matches OpenBLAS.
  const int m = 33, n = 64, k = 7;
  const auto a = random_values(m * k, 1), b = random_values(k * n, 2);
  std::vector<float> c(m * n, 0.f);
  REQUIRE(anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f,
                      c.data(), n) == ANYCL_SUCCESS);
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  const auto oracle = anycl_test::gemm_oracle<float>(s, 1.f, a.data(), b.data(), 0.f, c.data());
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - oracle.c[i]) <= oracle.bound[i]);
  anycl_runtime_destroy(rt);
}
