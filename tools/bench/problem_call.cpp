// Inputs are integers in [-3, 3]: every product and partial sum is then exact in float as long
// as the sums stay below 2^24, in any summation order, so all algorithms but Winograd must match
// the reference exactly. Outputs start as NaN (C too when beta == 0), so an element the call
// fails to write, or a C the call reads although beta == 0, shows up.
#include "problem_call.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "host_reference.hpp"
#include "winograd_tile.hpp"

namespace anycl_bench {
namespace {

// Fixed, so that a reproducer line recreates the very same inputs.
constexpr std::uint32_t kDataSeed = 20240611;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kConvAlgos[] = {"auto", "im2col", "gemm1x1", "direct", "winograd", "implicit_gemm"};

std::vector<double> small_integers(std::size_t n, std::mt19937& gen) {
  std::uniform_int_distribution<int> dist(-3, 3);
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  return v;
}

template <typename T>
void write_values(anycl::Runtime& rt, const anycl::Buffer& b, const std::vector<double>& v) {
  const std::vector<T> t(v.begin(), v.end());
  if (!t.empty()) rt.write(b, t.data(), t.size() * sizeof(T));
}

template <typename T>
anycl::Buffer upload(anycl::Runtime& rt, const std::vector<double>& v) {
  anycl::Buffer b = rt.alloc(std::max<std::size_t>(v.size(), 1) * sizeof(T));  // empty operands still need a buffer
  write_values<T>(rt, b, v);
  return b;
}

template <typename T>
std::vector<double> download(anycl::Runtime& rt, const anycl::Buffer& b, std::size_t n) {
  std::vector<T> t(n);
  if (n) rt.read(b, t.data(), n * sizeof(T));
  return {t.begin(), t.end()};
}

// Exact results are demanded while every magnitude sum is representable; past that, and for
// Winograd (whose transforms round; `winograd` is its factor, 0 when it cannot run), a bound
// scaled by the sum of |terms| (docs/reliability.md).
double tolerance(double magnitude, std::size_t reduction, bool fp64, double winograd) {
  const double eps = fp64 ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
  const double exact_limit = fp64 ? 0x1p53 : 0x1p24;
  if (winograd > 0) return winograd * double(reduction + 2) * eps * magnitude;
  return magnitude < exact_limit ? 0.0 : 2.0 * double(reduction + 2) * eps * magnitude;
}

// `magnitude_floor` stands in for elements whose own sum of |terms| is smaller (Winograd's).
std::string compare(const std::vector<double>& got, const Expected& want, std::size_t reduction, bool fp64,
                    double winograd, const char* name, double magnitude_floor = 0) {
  if (got.size() != want.value.size())
    return std::string(name) + ": " + std::to_string(got.size()) + " values read back against a reference of " +
           std::to_string(want.value.size());
  const auto bound = [&](std::size_t i) {
    return tolerance(std::max(want.magnitude[i], magnitude_floor), reduction, fp64, winograd);
  };
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool same = (std::isnan(got[i]) && std::isnan(want.value[i])) || std::fabs(got[i] - want.value[i]) <= bound(i);
    if (!same && bad++ == 0) first = i;
  }
  if (!bad) return "";
  std::ostringstream out;
  out.precision(9);
  out << name << ": " << bad << " of " << got.size() << " elements differ; first at [" << first << "]: got "
      << got[first] << ", expected " << want.value[first] << " (tolerance " << bound(first) << ")";
  return out.str();
}

// A reference made on first use: `run --mode perf` never checks, and the double reference of a
// large layer takes longer than all its timed calls.
template <typename T>
class Lazy {
 public:
  explicit Lazy(std::function<T()> make) : make_(std::move(make)) {}
  const T& get() {
    if (!value_) value_ = make_();
    return *value_;
  }

 private:
  std::function<T()> make_;
  std::optional<T> value_;
};

// Restores the runtime's GEMM provider after a call that forced one, so `auto` stays `auto`.
struct ProviderScope {
  ProviderScope(anycl::Runtime& rt, const std::string& algo) : rt(rt), before(anycl::gemm_provider(rt)) {
    if (algo == "anycl") anycl::set_gemm_provider(rt, anycl::GemmProvider::Anycl);
    if (algo == "clblast") anycl::set_gemm_provider(rt, anycl::GemmProvider::CLBlast);
  }
  ~ProviderScope() { anycl::set_gemm_provider(rt, before); }
  ProviderScope(const ProviderScope&) = delete;
  ProviderScope& operator=(const ProviderScope&) = delete;
  anycl::Runtime& rt;
  anycl::GemmProvider before;
};

template <typename T>
ProblemCall prepare_gemm(anycl::Runtime& rt, const GemmProblem& g, const std::string& algo) {
  std::mt19937 gen(kDataSeed);
  const anycl::GemmShape& s = g.shape;
  const std::vector<double> a = small_integers(g.a_offset + gemm_span(s, 'a'), gen);
  const std::vector<double> b = small_integers(g.b_offset + gemm_span(s, 'b'), gen);
  const std::size_t c_size = g.c_offset + gemm_span(s, 'c');
  const std::vector<double> c = g.beta == 0 ? std::vector<double>(c_size, kNaN) : small_integers(c_size, gen);
  const anycl::Buffer ba = upload<T>(rt, a), bb = upload<T>(rt, b), bc = upload<T>(rt, c);
  const auto want = std::make_shared<Lazy<Expected>>([g, a, b, c] { return gemm_reference(g, a, b, c); });
  ProblemCall call;
  call.reset = [&rt, bc, c] { write_values<T>(rt, bc, c); };
  call.run = [&rt, g, algo, ba, bb, bc] {
    const ProviderScope scope(rt, algo);
    anycl::gemm<T>(rt, g.shape, T(g.alpha), ba, g.a_offset, bb, g.b_offset, T(g.beta), bc, g.c_offset).wait();
  };
  call.check = [&rt, g, bc, c_size, want](bool inject_error) {
    std::vector<double> got = download<T>(rt, bc, c_size);
    if (inject_error && g.c_offset < got.size()) got[g.c_offset] += 1;
    return compare(got, want->get(), g.shape.k, g.fp64, 0, "C");
  };
  call.flops = 2.0 * double(s.m) * double(s.n) * double(s.k) * double(s.batch);
  return call;
}

anycl::ConvAlgo conv_algo(const std::string& name) {
  for (anycl::ConvAlgo a : {anycl::ConvAlgo::Auto, anycl::ConvAlgo::Im2col, anycl::ConvAlgo::Gemm1x1,
                            anycl::ConvAlgo::Direct, anycl::ConvAlgo::Winograd, anycl::ConvAlgo::ImplicitGemm})
    if (name == anycl::to_string(a)) return a;
  throw DescriptorError("--algo " + name + " is not a convolution algorithm");
}

// Winograd's factor where it may run, else 0. Auto may pick Winograd for any 3x3 problem, every
// pass, so it gets Winograd's bound: 16 with 2x2 output tiles (backward-weights always), 128
// with 4x4 (docs/reliability.md, "Winograd accuracy").
double winograd_factor(anycl::Runtime& rt, const ConvProblem& c, const std::string& algo) {
  if (algo != "winograd" && !(algo == "auto" && c.d.r == 3 && c.d.s == 3)) return 0;
  return winograd_tile(rt) == 4 && c.pass != anycl::ConvPass::BackwardWeights ? 128 : 16;
}

// Terms summed into one output element, for the tolerance of larger problems.
std::size_t conv_reduction(const ConvProblem& c) {
  const anycl::Conv2d& d = c.d;
  if (c.pass == anycl::ConvPass::Forward) return d.c / d.groups * d.r * d.s + 1;
  if (c.pass == anycl::ConvPass::BackwardData) return d.k / d.groups * d.r * d.s;
  return d.n * d.p() * d.q();
}

double largest_abs(const std::vector<double>& v) {
  double m = 0;
  for (double e : v) m = std::max(m, std::fabs(e));
  return m;
}

// Winograd's transforms mix every input of an output's tile, so an output whose own terms are
// all zero still rounds: its bound takes the pass's L products of the largest |inputs| instead.
double winograd_magnitude(const std::vector<double>& in1, const std::vector<double>& in2, std::size_t reduction) {
  return double(reduction) * largest_abs(in1) * largest_abs(in2);
}

// The elements of each output of a pass: its result, and backward-weights' bias gradient.
std::vector<std::size_t> conv_output_sizes(const ConvProblem& c) {
  const anycl::Conv2d& d = c.d;
  if (c.pass == anycl::ConvPass::Forward) return {d.y_size()};
  if (c.pass == anycl::ConvPass::BackwardData) return {d.x_size()};
  if (!c.bias) return {d.w_size()};
  return {d.w_size(), std::size_t(d.k)};
}

struct ConvData {
  std::vector<double> in1, in2, bias;
};

ConvData conv_data(const ConvProblem& c) {
  const anycl::Conv2d& d = c.d;
  std::mt19937 gen(kDataSeed);
  ConvData data;
  data.in1 = small_integers(c.pass == anycl::ConvPass::BackwardData ? d.y_size() : d.x_size(), gen);
  data.in2 = small_integers(c.pass == anycl::ConvPass::BackwardWeights ? d.y_size() : d.w_size(), gen);
  if (c.bias && c.pass == anycl::ConvPass::Forward) data.bias = small_integers(d.k, gen);
  return data;
}

void run_conv(anycl::Runtime& rt, const ConvProblem& c, anycl::ConvAlgo algo, const anycl::Buffer& in1,
              const anycl::Buffer& in2, const anycl::Buffer& bias, const std::vector<anycl::Buffer>& out) {
  if (c.pass == anycl::ConvPass::Forward)
    anycl::conv2d_forward(rt, c.d, in1, in2, c.bias ? &bias : nullptr, out[0], algo).wait();
  else if (c.pass == anycl::ConvPass::BackwardData)
    anycl::conv2d_backward_data(rt, c.d, in1, in2, out[0], algo).wait();
  else
    anycl::conv2d_backward_weights(rt, c.d, in1, in2, out[0], c.bias ? &out[1] : nullptr, algo).wait();
}

ProblemCall prepare_conv(anycl::Runtime& rt, const ConvProblem& c, const std::string& algo_name) {
  const anycl::ConvAlgo algo = conv_algo(algo_name);
  const auto data = std::make_shared<const ConvData>(conv_data(c));
  const auto want = std::make_shared<Lazy<std::vector<Expected>>>(
      [c, data] { return conv_reference(c, data->in1, data->in2, data->bias); });
  const anycl::Buffer in1 = upload<float>(rt, data->in1), in2 = upload<float>(rt, data->in2);
  const anycl::Buffer bias = upload<float>(rt, data->bias);
  const std::vector<std::size_t> sizes = conv_output_sizes(c);
  std::vector<anycl::Buffer> out;
  for (const std::size_t n : sizes) out.push_back(upload<float>(rt, std::vector<double>(n, kNaN)));
  ProblemCall call;
  call.reset = [&rt, sizes, out] {
    for (std::size_t i = 0; i < out.size(); ++i) write_values<float>(rt, out[i], std::vector<double>(sizes[i], kNaN));
  };
  call.run = [&rt, c, algo, in1, in2, bias, out] { run_conv(rt, c, algo, in1, in2, bias, out); };
  const double winograd = winograd_factor(rt, c, algo_name);
  call.check = [&rt, c, data, want, sizes, out, winograd](bool inject_error) {
    const std::vector<Expected>& expected = want->get();
    if (expected.size() != out.size()) return std::string("the reference has a different number of outputs");
    std::string report;
    for (std::size_t i = 0; i < out.size() && report.empty(); ++i) {
      std::vector<double> got = download<float>(rt, out[i], sizes[i]);
      if (inject_error && i == 0 && !got.empty()) got[0] += 1;
      const std::size_t reduction = i == 0 ? conv_reduction(c) : c.d.n * c.d.p() * c.d.q();
      const double floor = i == 0 && winograd > 0 ? winograd_magnitude(data->in1, data->in2, reduction) : 0;
      report = compare(got, expected[i], reduction, false, winograd, i == 0 ? "output" : "bias gradient", floor);
    }
    return report;
  };
  const anycl::Conv2d& d = c.d;
  call.flops = 2.0 * double(d.n) * double(d.k) * double(d.p()) * double(d.q()) * double(d.c / d.groups) * double(d.r * d.s);
  return call;
}

}  // namespace

bool known_algo(const std::string& name) {
  for (const char* a : kConvAlgos)
    if (name == a) return true;
  return name == "anycl" || name == "clblast";
}

void require_algo_fits(const Problem& p, const std::string& name) {
  const bool gemm_algo = name == "auto" || name == "anycl" || name == "clblast";
  const bool fits = p.is_gemm ? gemm_algo : known_algo(name) && name != "anycl" && name != "clblast";
  if (!fits)
    throw DescriptorError("--algo " + name + " does not apply to " +
                          (p.is_gemm ? "gemm (auto, anycl, clblast)" : "conv (auto, im2col, gemm1x1, direct, winograd)"));
}

ProblemCall prepare_call(anycl::Runtime& rt, const Problem& p, const std::string& algo) {
  require_algo_fits(p, algo);
  if (!p.is_gemm) return prepare_conv(rt, p.conv, algo);
  return p.gemm.fp64 ? prepare_gemm<double>(rt, p.gemm, algo) : prepare_gemm<float>(rt, p.gemm, algo);
}

}  // namespace anycl_bench
