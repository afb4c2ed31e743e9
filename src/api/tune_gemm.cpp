// The GEMM families' TuneBench: checked against a plain host loop on awkward problems
// (transposes, padded leading dimensions, offsets, a batch) with guard regions around every
// operand, timed on square, skinny and batched shapes.
#include "api/tune_bench.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "ops/gemm_args.hpp"
#include "ops/gemm_kernels.hpp"
#include "runtime/error.hpp"
#include "sched/engine.hpp"

namespace anycl::detail {
namespace {

constexpr std::size_t kGuard = 64;  // elements of sentinel before and after every operand

enum class GemmKind { Packed, Tiled, Direct };

// One operand on the device: kGuard sentinels, the data, kGuard sentinels.
template <typename T>
struct GuardedOperand {
  std::vector<T> host;  // what was written, guards included
  Buffer buffer;
  GuardedOperand(Runtime& rt, std::size_t device, std::size_t elems, unsigned seed)
      : host(random_values<T>(elems + 2 * kGuard, seed)) {
    for (std::size_t i = 0; i < kGuard; ++i) host[i] = host[host.size() - 1 - i] = T(-7777.25);
    buffer = rt.alloc(host.size() * sizeof(T), device);
    rt.write(buffer, host.data(), host.size() * sizeof(T));
  }
  std::vector<T> read_back(Runtime& rt) const {
    std::vector<T> out(host.size());
    rt.read(buffer, out.data(), out.size() * sizeof(T));
    return out;
  }
};

struct CheckCase {
  std::size_t m, n, k, batch;
  bool trans_a, trans_b;
};

// Row-major operands with padded leading dimensions and gaps between batch items.
GemmProblem check_problem(const CheckCase& c) {
  GemmProblem p;
  p.m = c.m, p.n = c.n, p.k = c.k, p.batch = c.batch, p.trans_a = c.trans_a, p.trans_b = c.trans_b;
  p.lda = (c.trans_a ? c.m : c.k) + 3;
  p.ldb = (c.trans_b ? c.k : c.n) + 2;
  p.ldc = c.n + 5;
  p.stride_a = (c.trans_a ? c.k : c.m) * p.lda + 7;
  p.stride_b = (c.trans_b ? c.n : c.k) * p.ldb + 1;
  p.stride_c = c.m * p.ldc + 4;
  p.a_off = p.b_off = p.c_off = kGuard;
  return p;
}

std::size_t span(std::size_t off, std::size_t batch, std::size_t stride, std::size_t rows, std::size_t ld) {
  return off + (batch - 1) * stride + rows * ld - kGuard;  // elements from the first, guards excluded
}

template <typename T>
class Bench final : public TuneBench {
 public:
  Bench(Runtime& rt, std::size_t device, GemmKind kind, const std::vector<TuneShape>& shapes)
      : rt_(rt), device_(device), kind_(kind), shapes_(shapes) {}

  std::string check() override {
    const CheckCase cases[] = {{67, 45, 33, 1, false, false}, {37, 70, 29, 2, true, true}, {1, 9, 130, 3, false, true}};
    for (const CheckCase& c : cases)
      if (std::string why = check_one(c); !why.empty()) return why;
    return {};
  }

  double time() override {
    return geometric_mean(shapes_.size(), [&](std::size_t i) { return time_one(i); });
  }

  std::string problems_key() const override {
    std::string key;
    for (const TuneShape& s : shapes_)
      key += (key.empty() ? "" : ",") + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
             "x" + std::to_string(s.batch);
    return key;
  }

 private:
  void run(const GemmProblem& p, T alpha, const Buffer& a, const Buffer& b, T beta, const Buffer& c) {
    const DeviceSlot& slot = engine(rt_).slot(device_);
    Event done(kind_ == GemmKind::Tiled    ? enqueue_tiled<T>(slot, p, alpha, a.native(), b.native(), beta, c.native())
               : kind_ == GemmKind::Direct ? enqueue_direct<T>(slot, p, alpha, a.native(), b.native(), beta, c.native())
                                           : enqueue_packed<T>(slot, p, alpha, a.native(), b.native(), beta, c.native()));
    done.wait();
  }

  std::string check_one(const CheckCase& cc) {
    const GemmProblem p = check_problem(cc);
    const T alpha = T(1.5), beta = T(-0.5);
    GuardedOperand<T> a(rt_, device_, span(p.a_off, p.batch, p.stride_a, cc.trans_a ? p.k : p.m, p.lda), 1);
    GuardedOperand<T> b(rt_, device_, span(p.b_off, p.batch, p.stride_b, cc.trans_b ? p.n : p.k, p.ldb), 2);
    GuardedOperand<T> c(rt_, device_, span(p.c_off, p.batch, p.stride_c, p.m, p.ldc), 3);
    run(p, alpha, a.buffer, b.buffer, beta, c.buffer);
    const std::string shape = std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k) +
                              " batch " + std::to_string(p.batch) + (p.trans_a ? " A^T" : "") + (p.trans_b ? " B^T" : "");
    if (a.read_back(rt_) != a.host || b.read_back(rt_) != b.host) return "wrote into A or B (" + shape + ")";
    std::vector<T> want = c.host;
    const std::vector<T> got = c.read_back(rt_);
    const double eps = std::numeric_limits<T>::epsilon();
    for (std::size_t q = 0; q < p.batch; ++q)
      for (std::size_t i = 0; i < p.m; ++i)
        for (std::size_t j = 0; j < p.n; ++j) {
          double sum = 0, magnitude = 0;
          for (std::size_t l = 0; l < p.k; ++l) {
            const double av = a.host[p.a_off + q * p.stride_a + (p.trans_a ? l * p.lda + i : i * p.lda + l)];
            const double bv = b.host[p.b_off + q * p.stride_b + (p.trans_b ? j * p.ldb + l : l * p.ldb + j)];
            sum += av * bv, magnitude += std::fabs(av * bv);
          }
          const std::size_t at = p.c_off + q * p.stride_c + i * p.ldc + j;
          const double ref = double(alpha) * sum + double(beta) * double(c.host[at]);
          const double tol = 4 * eps * double(p.k + 2) * (std::fabs(double(alpha)) * magnitude + std::fabs(double(c.host[at])));
          if (!(std::fabs(double(got[at]) - ref) <= tol))
            return "C(" + std::to_string(q) + "," + std::to_string(i) + "," + std::to_string(j) + ") = " +
                   std::to_string(double(got[at])) + ", reference " + std::to_string(ref) + " (" + shape + ")";
          want[at] = got[at];
        }
    if (got != want) return "wrote outside C's elements (guards or row gaps, " + shape + ")";
    return {};
  }

  // Dense operands per shape, made on first use and kept for every later candidate.
  struct Operands {
    GemmProblem p;
    Buffer a, b, c;
  };

  const Operands& operands(std::size_t shape) {
    if (operands_.size() < shapes_.size()) operands_.resize(shapes_.size());
    if (operands_[shape]) return *operands_[shape];
    const TuneShape& s = shapes_[shape];
    GemmProblem p = dense_problem(s.m, s.n, s.k);
    p.batch = s.batch, p.stride_a = s.m * s.k, p.stride_b = s.k * s.n, p.stride_c = s.m * s.n;
    auto make = [&](std::size_t elems, unsigned seed) {
      Buffer buf = rt_.alloc(elems * sizeof(T), device_);
      const std::vector<T> values = random_values<T>(elems, seed);
      rt_.write(buf, values.data(), elems * sizeof(T));
      return buf;
    };
    operands_[shape] = Operands{p, make(p.batch * p.stride_a, 4), make(p.batch * p.stride_b, 5),
                                make(p.batch * p.stride_c, 6)};
    return *operands_[shape];
  }

  double time_one(std::size_t shape) {
    const Operands& o = operands(shape);  // not a structured binding: C++17 lambdas cannot capture one
    const double best = best_seconds([&] { run(o.p, T(1), o.a, o.b, T(0), o.c); });
    return 2.0 * double(o.p.m) * double(o.p.n) * double(o.p.k) * double(o.p.batch) / best * 1e-9;
  }

  Runtime& rt_;
  std::size_t device_;
  GemmKind kind_;
  std::vector<TuneShape> shapes_;
  std::vector<std::optional<Operands>> operands_;
};

}  // namespace

std::unique_ptr<TuneBench> make_gemm_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                           const std::vector<TuneShape>& shapes) {
  const GemmKind kind = variant.rfind("gemm_tiled_", 0) == 0    ? GemmKind::Tiled
                        : variant.rfind("gemm_direct_", 0) == 0 ? GemmKind::Direct
                                                                : GemmKind::Packed;
  if (kind == GemmKind::Packed && variant.rfind("gemm_packed_", 0) != 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: family " + variant + " is not a GEMM family it can tune");
  for (const TuneShape& s : shapes)
    if (s.m == 0 || s.n == 0 || s.k == 0 || s.batch == 0)
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "anycl-tune: shape " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                                             std::to_string(s.k) + "x" + std::to_string(s.batch) + " has a zero size");
  if (variant.size() > 4 && variant.substr(variant.size() - 4) == "_f64")
    return std::make_unique<Bench<double>>(rt, device, kind, shapes);
  return std::make_unique<Bench<float>>(rt, device, kind, shapes);
}

}  // namespace anycl::detail
