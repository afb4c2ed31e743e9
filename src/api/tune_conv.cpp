// The convolution families' TuneBench: every pass the family serves is checked on awkward small
// problems (odd sizes, strides, asymmetric padding, dilation, channel counts that leave partial
// tiles) against a double reference, with guard regions before and after every tensor, then
// timed on the family's layers of anycl-bench conv (each pass: backward tunables count too).
#include <cmath>
#include <limits>
#include <optional>

#include "anycl/conv2d.hpp"
#include "api/tune_bench.hpp"
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
  if (variant == "conv_winograd")
    return {ConvAlgo::Winograd, {P::Forward, P::BackwardData},
            {layer(2, 37, 11, 13, 21, 3, 1, 1), skewed(layer(1, 16, 8, 9, 40, 3, 1, 2), 0, 1)}, resnet_3x3()};
  if (variant == "conv_im2col")
    return {ConvAlgo::Im2col, all,
            {layer(2, 7, 15, 13, 10, 3, 2, 1), skewed(layer(2, 37, 11, 13, 21, 3, 1, 1), 2, 0, 2)},
            {layer(8, 3, 224, 224, 64, 7, 2, 3), layer(8, 128, 28, 28, 128, 3, 1, 1)}};
  if (variant == "conv_direct")
    return {ConvAlgo::Direct, all,
            {layer(2, 12, 15, 15, 8, 3, 2, 1, 4), skewed(layer(1, 6, 13, 17, 9, 3, 1, 1, 3), 0, 2, 2)},
            {layer(8, 64, 56, 56, 64, 3, 1, 1, 16), layer(8, 128, 28, 28, 128, 3, 1, 1, 32)}};
  if (variant == "conv_depthwise")
    return {ConvAlgo::Direct, all,
            {layer(2, 24, 17, 19, 24, 3, 1, 1, 24), skewed(layer(1, 16, 21, 20, 16, 5, 2, 2, 16), 1, 3)},
            {layer(8, 256, 14, 14, 256, 3, 1, 1, 256), layer(8, 96, 112, 112, 96, 3, 2, 1, 96),
             layer(8, 240, 28, 28, 240, 5, 1, 2, 240), layer(8, 144, 56, 56, 144, 5, 2, 2, 144)}};
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: family " + variant + " is not a convolution family it can tune");
}

// y, dx and dw of one problem in double, with the sums of |terms| each element's tolerance needs.
struct ConvReference {
  std::vector<double> y, dx, dw, y_abs, dx_abs, dw_abs;
  ConvReference(const Conv2d& d, const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& dy)
      : y(d.y_size()), dx(d.x_size()), dw(d.w_size()), y_abs(y.size()), dx_abs(dx.size()), dw_abs(dw.size()) {
    const std::size_t cg = d.c / d.groups, kg = d.k / d.groups, p_out = d.p(), q_out = d.q();
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t k = 0; k < d.k; ++k)
        for (std::size_t p = 0; p < p_out; ++p)
          for (std::size_t q = 0; q < q_out; ++q)
            for (std::size_t c = 0; c < cg; ++c)
              for (std::size_t r = 0; r < d.r; ++r)
                for (std::size_t s = 0; s < d.s; ++s) add(d, n, k, p, q, k / kg * cg + c, c, r, s, x, w, dy);
  }

 private:
  void add(const Conv2d& d, std::size_t n, std::size_t k, std::size_t p, std::size_t q, std::size_t c, std::size_t cg,
           std::size_t r, std::size_t s, const std::vector<float>& x, const std::vector<float>& w,
           const std::vector<float>& dy) {
    const long ih = long(p * d.stride_h + r * d.dilation_h) - long(d.pad_top);
    const long iw = long(q * d.stride_w + s * d.dilation_w) - long(d.pad_left);
    if (ih < 0 || iw < 0 || ih >= long(d.h) || iw >= long(d.w)) return;
    const std::size_t xi = ((n * d.c + c) * d.h + std::size_t(ih)) * d.w + std::size_t(iw);
    const std::size_t wi = ((k * (d.c / d.groups) + cg) * d.r + r) * d.s + s;
    const std::size_t yi = ((n * d.k + k) * d.p() + p) * d.q() + q;
    const double xv = x[xi], wv = w[wi], dyv = dy[yi];
    y[yi] += xv * wv, y_abs[yi] += std::fabs(xv * wv);
    dx[xi] += dyv * wv, dx_abs[xi] += std::fabs(dyv * wv);
    dw[wi] += xv * dyv, dw_abs[wi] += std::fabs(xv * dyv);
  }
};

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

 private:
  std::string check_one(const Conv2d& d, ConvPass pass) {
    const auto x = random_values<float>(d.x_size(), 11), w = random_values<float>(d.w_size(), 12),
               dy = random_values<float>(d.y_size(), 13);
    const ConvReference ref(d, x, w, dy);
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
    const std::vector<double>& want = pass == ConvPass::Forward ? ref.y : pass == ConvPass::BackwardData ? ref.dx : ref.dw;
    const std::vector<double>& scale =
        pass == ConvPass::Forward ? ref.y_abs : pass == ConvPass::BackwardData ? ref.dx_abs : ref.dw_abs;
    const double reduction = pass == ConvPass::Forward ? double(d.c / d.groups * d.r * d.s)
                             : pass == ConvPass::BackwardData ? double(d.k / d.groups * d.r * d.s)
                                                              : double(d.n * d.p() * d.q());
    // Winograd's transforms lose more than a direct sum (the tests' bound, per output tile size).
    const double factor =
        use_.algo == ConvAlgo::Winograd ? detail::winograd_error_factor(detail::engine(rt_).slot(device_), pass) : 2;
    const double eps = std::numeric_limits<float>::epsilon();
    for (std::size_t i = 0; i < out_elems; ++i) {
      const double bound = factor * (reduction + 2) * eps * scale[i] + 1e-30;
      if (!(std::fabs(double(got[out.guard + i]) - want[i]) <= bound))
        return "element " + std::to_string(i) + " = " + std::to_string(got[out.guard + i]) + ", reference " +
               std::to_string(want[i]) + " (" + what + ")";
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
  return std::make_unique<ConvBench>(rt, device, std::move(use));
}

}  // namespace anycl::detail
