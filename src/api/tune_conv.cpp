// The convolution families' TuneBench: every pass the family serves is checked on awkward small
// problems (odd sizes, strides, asymmetric padding, dilation, channel counts that leave partial
// tiles) against a double reference, with guard regions before and after every tensor, then
// timed on the family's layers of anycl-bench conv (each pass: backward tunables count too).
// An algorithm runs different families on CPUs and on GPU-class devices (docs/gpu-kernels.md), so
// every problem must reach the family's own kernels on the device, or nothing is measured.
#include <cmath>
#include <limits>
#include <optional>

#include "anycl/conv2d.hpp"
#include "api/reference/conv_reference.hpp"
#include "api/tune_bench.hpp"
#include "ops/conv2d_algorithms.hpp"
#include "ops/conv2d_winograd.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"

namespace anycl::detail {
namespace {

Conv2d layer(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t k, std::size_t rs,
             std::size_t stride, std::size_t pad, std::size_t groups = 1) {
  Conv2d d;
  d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = d.s = rs, d.stride_h = d.stride_w = stride;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad, d.groups = groups;
  return d;
}

Conv2d skewed(Conv2d d, std::size_t pad_bottom, std::size_t pad_right, std::size_t dilation = 1) {
  d.pad_bottom = pad_bottom, d.pad_right = pad_right, d.dilation_h = d.dilation_w = dilation;
  return d;
}

// What each family runs: the algorithm that reaches its kernels, the passes they serve, the
// problems checked and the forward layers timed.
struct ConvFamilyUse {
  std::string variant;
  ConvAlgo algo;
  std::vector<ConvPass> passes;
  std::vector<Conv2d> checked, timed;
};

const std::vector<Conv2d>& resnet_3x3() {
  static const std::vector<Conv2d> layers = {layer(8, 64, 56, 56, 64, 3, 1, 1), layer(8, 128, 28, 28, 128, 3, 1, 1),
                                             layer(8, 256, 14, 14, 256, 3, 1, 1)};
  return layers;
}

ConvFamilyUse family_use(const std::string& variant) {
  using P = ConvPass;
  const std::vector<P> all = {P::Forward, P::BackwardData, P::BackwardWeights};
  const std::vector<Conv2d> winograd_checked = {layer(2, 37, 11, 13, 21, 3, 1, 1),
                                                skewed(layer(1, 16, 8, 9, 40, 3, 1, 2), 0, 1)};
  const std::vector<Conv2d> direct_checked = {layer(2, 12, 15, 15, 8, 3, 2, 1, 4),
                                              skewed(layer(1, 6, 13, 17, 9, 3, 1, 1, 3), 0, 2, 2)};
  const std::vector<Conv2d> direct_timed = {layer(8, 64, 56, 56, 64, 3, 1, 1, 16), layer(8, 128, 28, 28, 128, 3, 1, 1, 32)};
  if (variant == "conv_winograd") return {variant, ConvAlgo::Winograd, {P::Forward, P::BackwardData}, winograd_checked, resnet_3x3()};
  if (variant == "conv_winograd_weights")
    return {variant, ConvAlgo::Winograd, {P::BackwardWeights}, winograd_checked, resnet_3x3()};
  if (variant == "conv_winograd_tiled")
    return {variant, ConvAlgo::Winograd, {P::Forward, P::BackwardData}, winograd_checked, resnet_3x3()};
  if (variant == "conv_im2col")
    return {variant, ConvAlgo::Im2col, all,
            {layer(2, 7, 15, 13, 10, 3, 2, 1), skewed(layer(2, 37, 11, 13, 21, 3, 1, 1), 2, 0, 2)},
            {layer(8, 3, 224, 224, 64, 7, 2, 3), layer(8, 128, 28, 28, 128, 3, 1, 1)}};
  if (variant == "conv_im2col_gemm")
    return {variant, ConvAlgo::Im2col, {P::Forward},
            {layer(2, 7, 15, 13, 10, 3, 2, 1), skewed(layer(1, 5, 17, 14, 9, 5, 3, 2), 1, 0, 2)},
            {layer(8, 64, 56, 56, 128, 3, 2, 1), layer(8, 256, 14, 14, 512, 3, 2, 1)}};
  if (variant == "conv_direct") return {variant, ConvAlgo::Direct, all, direct_checked, direct_timed};
  if (variant == "conv_direct_wg") {
    // GPU-class Direct serves grouped and depthwise layers alike, forward and backward-data.
    ConvFamilyUse use{variant, ConvAlgo::Direct, {P::Forward, P::BackwardData}, direct_checked, direct_timed};
    use.checked.push_back(layer(2, 24, 17, 19, 24, 3, 1, 1, 24));
    use.timed.push_back(layer(8, 256, 14, 14, 256, 3, 1, 1, 256));
    return use;
  }
  if (variant == "conv_depthwise")
    return {variant, ConvAlgo::Direct, all,
            {layer(2, 24, 17, 19, 24, 3, 1, 1, 24), skewed(layer(1, 16, 21, 20, 16, 5, 2, 2, 16), 1, 3)},
            {layer(8, 256, 14, 14, 256, 3, 1, 1, 256), layer(8, 96, 112, 112, 96, 3, 2, 1, 96),
             layer(8, 240, 28, 28, 240, 5, 1, 2, 240), layer(8, 144, 56, 56, 144, 5, 2, 2, 144)}};
  const std::vector<Conv2d> implicit_checked = {layer(2, 3, 17, 19, 10, 7, 2, 3),
                                                skewed(layer(1, 2, 21, 18, 9, 5, 3, 1), 2, 0, 2)};
  if (variant == "conv_implicit")
    return {variant, ConvAlgo::ImplicitGemm, {P::Forward}, implicit_checked, {layer(8, 3, 224, 224, 64, 7, 2, 3)}};
  if (variant == "conv_implicit_weights")
    return {variant, ConvAlgo::ImplicitGemm, {P::BackwardWeights}, implicit_checked, {layer(8, 3, 224, 224, 64, 7, 2, 3)}};
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: family " + variant + " is not a convolution family it can tune");
}

// Whether the family's kernels are what its algorithm runs for `pass` of `d` on the device (with
// the programs it has now): Winograd runs one of two forms, Direct one of three families.
bool reaches_family(const DeviceSlot& slot, const std::string& variant, ConvPass pass, const Conv2d& d) {
  const ConvGeom g(d);
  const bool wg = pass != ConvPass::BackwardWeights && direct_wg_fits(slot, g);
  if (variant == "conv_winograd") return winograd_form(slot) == WinogradForm::Panels;
  if (variant == "conv_winograd_tiled") return winograd_form(slot) == WinogradForm::Tiled;
  if (variant == "conv_direct_wg") return wg;
  if (variant == "conv_depthwise") return !wg && depthwise_kernel_fits(slot, pass, g);
  if (variant == "conv_direct") return !wg && !depthwise_kernel_fits(slot, pass, g);
  if (variant == "conv_im2col_gemm") return pass == ConvPass::Forward && !runs_tiled_gemm(slot) && im2col_gemm_fits(slot, g);
  return true;  // conv_im2col: its kernels run on both forms
}

// A tensor on the device between two guard regions of sentinels, each a multiple of the device's
// base-address alignment so the tensor can be a sub-buffer (rt.wrap) the call sees alone.
struct GuardedTensor {
  std::size_t guard, elems;
  std::vector<float> host;  // guards included
  Buffer whole, tensor;
  GuardedTensor(Runtime& rt, std::size_t device, std::vector<float> values) : elems(values.size()) {
    const std::size_t align = std::max<std::size_t>(rt.device(device).mem_base_addr_align_bytes, sizeof(float)) / sizeof(float);
    guard = (256 + align - 1) / align * align;
    host.assign(guard, -7777.25f);
    host.insert(host.end(), values.begin(), values.end());
    host.insert(host.end(), guard, -7777.25f);
    whole = rt.alloc(host.size() * sizeof(float), device);
    rt.write(whole, host.data(), host.size() * sizeof(float));
    tensor = rt.wrap(whole.native(), guard * sizeof(float), elems * sizeof(float), device);
  }
  std::vector<float> read_back(Runtime& rt) const {
    std::vector<float> out(host.size());
    rt.read(whole, out.data(), out.size() * sizeof(float));
    return out;
  }
};

const char* pass_label(ConvPass pass) {
  return pass == ConvPass::Forward ? "forward" : pass == ConvPass::BackwardData ? "backward-data" : "backward-weights";
}

std::string describe(const Conv2d& d) {
  return "n" + std::to_string(d.n) + " c" + std::to_string(d.c) + " " + std::to_string(d.h) + "x" + std::to_string(d.w) +
         " k" + std::to_string(d.k) + " " + std::to_string(d.r) + "x" + std::to_string(d.s) + " stride " +
         std::to_string(d.stride_h) + " groups " + std::to_string(d.groups);
}

class ConvBench final : public TuneBench {
 public:
  ConvBench(Runtime& rt, std::size_t device, ConvFamilyUse use) : rt_(rt), device_(device), use_(std::move(use)) {}

  std::string check() override {
    if (std::string why = unreached(); !why.empty()) return why;
    for (const Conv2d& d : use_.checked)
      for (ConvPass pass : use_.passes)
        if (std::string why = check_one(d, pass); !why.empty()) return why;
    return {};
  }

  double time() override {
    const std::size_t passes = use_.passes.size();
    return geometric_mean(use_.timed.size() * passes, [&](std::size_t i) { return time_one(i / passes, use_.passes[i % passes]); });
  }

  std::string problems_key() const override {
    std::string key;
    for (const Conv2d& d : use_.timed) key += (key.empty() ? "" : ",") + describe(d);
    for (ConvPass pass : use_.passes) key += std::string(",") + pass_label(pass);
    return key;
  }

  // "" when every problem reaches the family's kernels with the device's programs as they are;
  // else which does not (the candidate's values can decide it: a staging step too small).
  std::string unreached() const {
    const DeviceSlot& slot = engine(rt_).slot(device_);
    for (const std::vector<Conv2d>* problems : {&use_.checked, &use_.timed})
      for (const Conv2d& d : *problems)
        for (ConvPass pass : use_.passes)
          if (!reaches_family(slot, use_.variant, pass, d))
            return "the " + std::string(to_string(use_.algo)) + " algorithm does not run " + use_.variant + " on " +
                   slot.where() + " for " + pass_label(pass) + ", " + describe(d);
    return {};
  }

 private:
  std::string check_one(const Conv2d& d, ConvPass pass) {
    const auto x = random_values<float>(d.x_size(), 11), w = random_values<float>(d.w_size(), 12),
               dy = random_values<float>(d.y_size(), 13);
    namespace ref = anycl::reference;
    const ref::Expected want = pass == ConvPass::Forward       ? ref::forward(d, x, w)
                               : pass == ConvPass::BackwardData ? ref::backward_data(d, dy, w)
                                                                : ref::backward_weights(d, x, dy);
    const std::size_t out_elems = pass == ConvPass::Forward ? d.y_size() : pass == ConvPass::BackwardData ? d.x_size() : d.w_size();
    const GuardedTensor in_a(rt_, device_, pass == ConvPass::BackwardData ? dy : x);
    const GuardedTensor in_b(rt_, device_, pass == ConvPass::BackwardWeights ? dy : w);
    const GuardedTensor out(rt_, device_, std::vector<float>(out_elems, 12345.5f));  // unwritten elements fail
    if (pass == ConvPass::Forward) conv2d_forward(rt_, d, in_a.tensor, in_b.tensor, nullptr, out.tensor, use_.algo).wait();
    if (pass == ConvPass::BackwardData) conv2d_backward_data(rt_, d, in_a.tensor, in_b.tensor, out.tensor, use_.algo).wait();
    if (pass == ConvPass::BackwardWeights)
      conv2d_backward_weights(rt_, d, in_a.tensor, in_b.tensor, out.tensor, nullptr, use_.algo).wait();
    const std::string what = std::string(pass_label(pass)) + ", " + describe(d);
    if (in_a.read_back(rt_) != in_a.host || in_b.read_back(rt_) != in_b.host) return "wrote into an input (" + what + ")";
    const std::vector<float> got = out.read_back(rt_);
    const double reduction = pass == ConvPass::Forward ? double(d.c / d.groups * d.r * d.s)
                             : pass == ConvPass::BackwardData ? double(d.k / d.groups * d.r * d.s)
                                                              : double(d.n * d.p() * d.q());
    // Winograd's transforms lose more than a direct sum (the tests' bound, per output tile size).
    const double factor =
        use_.algo == ConvAlgo::Winograd ? detail::winograd_error_factor(detail::engine(rt_).slot(device_), pass) : 2;
    const double eps = std::numeric_limits<float>::epsilon();
    for (std::size_t i = 0; i < out_elems; ++i) {
      const double bound = factor * (reduction + 2) * eps * want.magnitude[i] + 1e-30;
      if (!(std::fabs(double(got[out.guard + i]) - want.value[i]) <= bound))
        return "element " + std::to_string(i) + " = " + std::to_string(got[out.guard + i]) + ", reference " +
               std::to_string(want.value[i]) + " (" + what + ")";
    }
    for (std::size_t i = 0; i < out.guard; ++i)
      if (got[i] != out.host[i] || got[got.size() - 1 - i] != out.host[got.size() - 1 - i])
        return "wrote into the guard regions (" + what + ")";
    return {};
  }

  struct Tensors {
    Buffer x, w, y, dx, dw;
  };

  double time_one(std::size_t i, ConvPass pass) {
    const Conv2d& d = use_.timed[i];
    if (tensors_.size() < use_.timed.size()) tensors_.resize(use_.timed.size());
    if (!tensors_[i]) {
      auto make = [&](std::size_t elems, unsigned seed) {
        Buffer b = rt_.alloc(elems * sizeof(float), device_);
        rt_.write(b, random_values<float>(elems, seed).data(), elems * sizeof(float));
        return b;
      };
      tensors_[i] = Tensors{make(d.x_size(), 21), make(d.w_size(), 22), make(d.y_size(), 23), make(d.x_size(), 24),
                            make(d.w_size(), 25)};
    }
    const Tensors& t = *tensors_[i];
    const double seconds = best_seconds([&] {
      if (pass == ConvPass::Forward) conv2d_forward(rt_, d, t.x, t.w, nullptr, t.y, use_.algo).wait();
      if (pass == ConvPass::BackwardData) conv2d_backward_data(rt_, d, t.y, t.w, t.dx, use_.algo).wait();
      if (pass == ConvPass::BackwardWeights) conv2d_backward_weights(rt_, d, t.x, t.y, t.dw, nullptr, use_.algo).wait();
    });
    return 2.0 * double(d.y_size()) * double(d.c / d.groups * d.r * d.s) / seconds * 1e-9;
  }

  Runtime& rt_;
  std::size_t device_;
  ConvFamilyUse use_;
  std::vector<std::optional<Tensors>> tensors_;
};

}  // namespace

std::unique_ptr<TuneBench> make_conv_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const std::vector<Conv2d>& layers) {
  ConvFamilyUse use = family_use(variant);
  if (!layers.empty()) use.timed = layers;
  for (const Conv2d& d : use.timed) d.validate();
  auto bench = std::make_unique<ConvBench>(rt, device, std::move(use));
  // A family its algorithm does not run on this device (the other form's) is not tuned at all.
  if (std::string why = bench->unreached(); !why.empty()) fail(ANYCL_ERROR_UNSUPPORTED, "anycl-tune: " + why);
  return bench;
}

}  // namespace anycl::detail
