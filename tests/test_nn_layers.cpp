// The nn_layers kernels against plain C++ loops, and the gradients of DataParallelTrainer against
// finite differences of a double-precision reference model (tests/reference/cnn_reference.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "anycl/anycl.hpp"
#include "reference/cnn_reference.hpp"
#include "support.hpp"
#include "ops/nn_layers.hpp"
#include "sched/engine.hpp"

namespace {

using anycl_test::random_values;
namespace ad = anycl::detail;

anycl::Runtime& runtime() {
  static anycl::Runtime rt;
  return rt;
}

const ad::DeviceSlot& slot() { return anycl::detail::engine(runtime()).slot(0); }

template <typename T>
anycl::Buffer upload(const std::vector<T>& v) {
  anycl::Buffer b = runtime().alloc(std::max<std::size_t>(v.size(), 1) * sizeof(T));
  runtime().write(b, v.data(), v.size() * sizeof(T));
  return b;
}

template <typename T>
std::vector<T> download(const anycl::Buffer& b, std::size_t n) {
  std::vector<T> v(n);
  runtime().read(b, v.data(), n * sizeof(T));
  return v;
}

// Values from {0, 0.5, 1, 1.5}: pooling windows with tied maxima are common.
std::vector<float> coarse_values(std::size_t n, unsigned seed) {
  std::vector<float> v = random_values<float>(n, seed);
  for (float& x : v) x = std::floor((x + 1) * 2) / 2;
  return v;
}

}  // namespace

TEST_CASE("bias_add_rows and relu_backward equal the loop exactly (one rounding each)", "[nn]") {
  const std::size_t rows = 7, cols = 13;
  const auto y0 = random_values<float>(rows * cols, 1), bias = random_values<float>(cols, 2);
  for (bool relu : {false, true}) {
    INFO("relu " << relu);
    const anycl::Buffer Y = upload(y0), B = upload(bias);
    ad::bias_add_rows(slot(), Y.native(), B.native(), rows, cols, relu).wait();
    const auto got = download<float>(Y, y0.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const float v = y0[i] + bias[i % cols];
      REQUIRE(got[i] == (relu ? std::max(v, 0.f) : v));
    }
  }
  const auto dy = random_values<float>(rows * cols, 3);
  std::vector<float> y = random_values<float>(rows * cols, 4);
  y[0] = 0.f;  // exactly zero: clamped, so no gradient
  const anycl::Buffer DY = upload(dy), Y = upload(y);
  ad::relu_backward(slot(), DY.native(), Y.native(), dy.size()).wait();
  const auto got = download<float>(DY, dy.size());
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == (y[i] > 0 ? dy[i] : 0.f));
}

TEST_CASE("maxpool forward and backward: ties pick the first maximum, dropped edge rows and columns get 0", "[nn]") {
  // 5 x 7 planes, window 2: the last row and column belong to no window.
  const ad::PoolGeom g{3, 5, 7, 2, 3, 2};
  const auto x = coarse_values(g.planes * g.h * g.w, 10), dy = random_values<float>(g.planes * g.p * g.q, 11);
  const anycl::Buffer X = upload(x), Y = upload(std::vector<float>(dy.size(), NAN)),
                      ARG = upload(std::vector<int>(dy.size(), -1)), DY = upload(dy),
                      DX = upload(std::vector<float>(x.size(), NAN));
  ad::maxpool_forward(slot(), g, X.native(), Y.native(), ARG.native());
  ad::maxpool_backward(slot(), g, DY.native(), ARG.native(), DX.native()).wait();
  const auto y = download<float>(Y, dy.size()), dx = download<float>(DX, x.size());
  const auto arg = download<int>(ARG, dy.size());
  std::vector<float> ref_dx(x.size(), 0.f);
  std::size_t ties = 0;
  for (std::size_t pl = 0; pl < g.planes; ++pl)
    for (std::size_t p = 0; p < g.p; ++p)
      for (std::size_t q = 0; q < g.q; ++q) {
        std::size_t best = (2 * p) * g.w + 2 * q, count = 0;
        for (std::size_t r = 0; r < 2; ++r)
          for (std::size_t s = 0; s < 2; ++s) {
            const std::size_t at = (2 * p + r) * g.w + 2 * q + s;
            if (x[pl * g.h * g.w + at] > x[pl * g.h * g.w + best]) best = at;
          }
        for (std::size_t r = 0; r < 2; ++r)
          for (std::size_t s = 0; s < 2; ++s) count += x[pl * g.h * g.w + (2 * p + r) * g.w + 2 * q + s] == x[pl * g.h * g.w + best];
        ties += count > 1;
        const std::size_t o = (pl * g.p + p) * g.q + q;
        REQUIRE(arg[o] == int(best));
        REQUIRE(y[o] == x[pl * g.h * g.w + best]);
        ref_dx[pl * g.h * g.w + best] = dy[o];
      }
  CHECK(ties > 3);  // the case under test really occurs
  CHECK(dx == ref_dx);
}

TEST_CASE("softmax_xent: loss and gradient vs double, large logits stay finite and exact", "[nn]") {
  const std::size_t rows = 6, classes = 10;
  std::vector<float> z = random_values<float>(rows * classes, 20);
  for (std::size_t c = 0; c < classes; ++c) {
    z[3 * classes + c] *= 1e4f;              // exp would overflow without the max subtracted
    z[4 * classes + c] = 100.f + float(c);   // all large and positive
    z[5 * classes + c] = -1e4f + float(c);   // all large and negative
  }
  const std::vector<int> labels{0, 9, 3, 5, 2, 7};
  const float scale = 0.25f;
  const anycl::Buffer Z = upload(z), L = upload(labels), LOSS = upload(std::vector<float>(rows, NAN)),
                      DZ = upload(std::vector<float>(z.size(), NAN));
  ad::softmax_xent(slot(), Z.native(), L.native(), LOSS.native(), DZ.native(), rows, classes, scale).wait();
  const auto loss = download<float>(LOSS, rows), dz = download<float>(DZ, z.size());
  // Tolerance: a few float roundings of values of size ~|loss| (exp/log are within 4 ulp in OpenCL).
  for (std::size_t r = 0; r < rows; ++r) {
    double m = -HUGE_VAL, sum = 0;
    for (std::size_t c = 0; c < classes; ++c) m = std::max(m, double(z[r * classes + c]));
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(z[r * classes + c]) - m);
    const double ref = std::log(sum) + m - z[r * classes + std::size_t(labels[r])];
    INFO("row " << r);
    REQUIRE(std::isfinite(loss[r]));
    CHECK(std::abs(loss[r] - ref) <= 1e-5 * std::max(1.0, std::abs(ref)));
    for (std::size_t c = 0; c < classes; ++c) {
      const double p = std::exp(double(z[r * classes + c]) - m) / sum;
      const double g = (p - (int(c) == labels[r] ? 1 : 0)) * scale;
      CHECK(std::abs(dz[r * classes + c] - g) <= 1e-6);
    }
  }
}

TEST_CASE("sum_rows, accumulate and sgd_momentum vs loops", "[nn]") {
  const std::size_t rows = 33, cols = 10;
  const auto g = random_values<float>(rows * cols, 30);
  const anycl::Buffer G = upload(g), DB = upload(std::vector<float>(cols, NAN));
  ad::sum_rows(slot(), G.native(), DB.native(), rows, cols).wait();
  const auto db = download<float>(DB, cols);
  for (std::size_t c = 0; c < cols; ++c) {
    double ref = 0, mag = 0;
    for (std::size_t r = 0; r < rows; ++r) ref += g[r * cols + c], mag += std::abs(g[r * cols + c]);
    CHECK(std::abs(db[c] - ref) <= rows * 6e-8 * mag);  // rows float additions
  }
  const std::size_t n = 1000;
  const auto a = random_values<float>(n, 31), b = random_values<float>(n, 32), v = random_values<float>(n, 33);
  const anycl::Buffer A = upload(a), B = upload(b), V = upload(v);
  ad::accumulate(slot(), A.native(), B.native(), n).wait();
  const auto sum = download<float>(A, n);
  for (std::size_t i = 0; i < n; ++i) REQUIRE(sum[i] == a[i] + b[i]);  // one rounding: exact
  const float lr = 0.05f, mom = 0.9f;
  ad::sgd_momentum(slot(), A.native(), V.native(), B.native(), n, lr, mom).wait();
  const auto w = download<float>(A, n), vel = download<float>(V, n);
  for (std::size_t i = 0; i < n; ++i) {  // the device may contract to fma: 1e-6 relative
    const double vi = double(mom) * v[i] + b[i];
    CHECK(std::abs(vel[i] - vi) <= 1e-6 * (std::abs(mom * v[i]) + std::abs(b[i])));
    CHECK(std::abs(w[i] - (double(sum[i]) - lr * vi)) <= 1e-6 * (std::abs(sum[i]) + std::abs(lr * vi)));
  }
}

TEST_CASE("add_backward: the ReLU mask and each branch's copy, add or skip equal the loop exactly", "[nn]") {
  const std::size_t n = 777;
  const auto dy = random_values<float>(n, 50), y = random_values<float>(n, 51), a0 = random_values<float>(n, 52);
  for (const bool relu : {false, true}) {
    INFO("relu " << relu);
    const anycl::Buffer DY = upload(dy), Y = upload(y), A = upload(a0), B = upload(std::vector<float>(n, NAN));
    ad::add_backward(slot(), DY.native(), Y.native(), A.native(), B.native(), n, relu, ad::GradWrite::Add,
                     ad::GradWrite::Copy).wait();
    const auto a = download<float>(A, n), b = download<float>(B, n);
    for (std::size_t i = 0; i < n; ++i) {
      const float g = relu && !(y[i] > 0.f) ? 0.f : dy[i];
      REQUIRE(a[i] == a0[i] + g);  // one rounding
      REQUIRE(b[i] == g);
    }
    // Skip leaves its buffer alone, whatever it is; the input gradient is never written.
    ad::add_backward(slot(), DY.native(), Y.native(), B.native(), A.native(), n, relu, ad::GradWrite::Skip,
                     ad::GradWrite::Skip).wait();
    CHECK(download<float>(A, n) == a);
    CHECK(download<float>(B, n) == b);
    CHECK(download<float>(DY, n) == dy);
  }
}

// The host merge of one part (train/passes.cpp): mean, 1 / sqrt(m2 / count + eps) in double.
std::vector<float> host_stats(const std::vector<float>& part, double count, float eps) {
  std::vector<float> stats(part.size());
  for (std::size_t c = 0; c < part.size() / 2; ++c) {
    stats[2 * c] = part[2 * c];
    stats[2 * c + 1] = float(1 / std::sqrt(double(part[2 * c + 1]) / count + double(eps)));
  }
  return stats;
}

TEST_CASE("bn_stats and bn_backward_sums of the whole batch write the host merge's stats and sums", "[nn]") {
  const ad::NormGeom g{5, 3, 7};
  const std::size_t size = g.n * g.c * g.hw;
  const float eps = 1e-5f;
  auto x = random_values<float>(size, 60);
  for (float& v : x) v = 3.f + 0.5f * v;  // an offset mean: the two-pass deviations matter
  const auto dy = random_values<float>(size, 61), y = random_values<float>(size, 62);
  const anycl::Buffer X = upload(x), Y = upload(y);
  for (const bool whole : {false, true}) {
    INFO("whole " << whole);
    const anycl::Buffer PART = upload(std::vector<float>(2 * g.c, NAN)), STATS = upload(std::vector<float>(2 * g.c, -7.f));
    ad::bn_stats(slot(), g, X.native(), PART.native(), STATS.native(), whole, eps).wait();
    const auto part = download<float>(PART, 2 * g.c), stats = download<float>(STATS, 2 * g.c);
    const std::vector<float> host = host_stats(part, double(g.n * g.hw), eps);
    const anycl::Buffer DY = upload(dy), DG = upload(std::vector<float>(g.c, NAN)), DB = upload(std::vector<float>(g.c, NAN)),
                        SUMS = upload(std::vector<float>(2 * g.c, -7.f)), HOST = upload(host);
    ad::bn_backward_sums(slot(), g, DY.native(), Y.native(), X.native(), HOST.native(), DG.native(), DB.native(),
                         SUMS.native(), true, whole).wait();
    const auto dgamma = download<float>(DG, g.c), dbeta = download<float>(DB, g.c), sums = download<float>(SUMS, 2 * g.c);
    for (std::size_t c = 0; c < g.c; ++c) {
      if (!whole) {  // several parts: the host merges, the kernels leave stats and sums alone
        CHECK(stats[2 * c] == -7.f);
        CHECK(sums[2 * c] == -7.f);
        continue;
      }
      CHECK(stats[2 * c] == part[2 * c]);
      // The inverse deviation in double where the device has fp64, as the host: bit for bit.
      if (slot().info.fp64) CHECK(stats[2 * c + 1] == host[2 * c + 1]);
      else CHECK(std::abs(stats[2 * c + 1] - host[2 * c + 1]) <= 4e-7 * host[2 * c + 1]);
      CHECK(sums[2 * c] == dbeta[c]);  // the host's double sum of one part is its float
      CHECK(sums[2 * c + 1] == dgamma[c]);
    }
    // dbeta against the loop of ReLU-masked dy (35 float additions of values in [-1, 1)).
    for (std::size_t c = 0; c < g.c; ++c) {
      double ref = 0;
      for (std::size_t s = 0; s < g.n; ++s)
        for (std::size_t i = 0; i < g.hw; ++i) {
          const std::size_t at = (s * g.c + c) * g.hw + i;
          ref += y[at] > 0.f ? dy[at] : 0.f;
        }
      CHECK(std::abs(dbeta[c] - ref) <= 35 * 6e-8);
    }
  }
  // The statistics against a double loop (mean and squared deviations of the offset data).
  const anycl::Buffer PART = upload(std::vector<float>(2 * g.c, NAN)), STATS = upload(std::vector<float>(2 * g.c, NAN));
  ad::bn_stats(slot(), g, X.native(), PART.native(), STATS.native(), false, eps).wait();
  const auto part = download<float>(PART, 2 * g.c);
  for (std::size_t c = 0; c < g.c; ++c) {
    double mean = 0, m2 = 0;
    const double count = double(g.n * g.hw);
    for (std::size_t s = 0; s < g.n; ++s)
      for (std::size_t i = 0; i < g.hw; ++i) mean += x[(s * g.c + c) * g.hw + i] / count;
    for (std::size_t s = 0; s < g.n; ++s)
      for (std::size_t i = 0; i < g.hw; ++i) m2 += std::pow(x[(s * g.c + c) * g.hw + i] - mean, 2);
    CHECK(std::abs(part[2 * c] - mean) <= 1e-6 * std::abs(mean));  // 35 float additions near 3
    CHECK(std::abs(part[2 * c + 1] - m2) <= 1e-5 * m2);
  }
}

TEST_CASE("DataParallelTrainer gradient vs central differences of the double reference, 1 and 2 devices",
          "[nn]") {
  // Odd shapes: pooling drops an edge row/column, a kernel-2 unpadded conv, a hidden ReLU dense.
  anycl::ModelSpec m;
  m.channels = 2, m.height = 7, m.width = 7;
  m.layers = {anycl::ConvLayer{3, 3, 1}, anycl::MaxPoolLayer{2}, anycl::ConvLayer{4, 2, 0},
              anycl::DenseLayer{5, true}, anycl::DenseLayer{3, false}};
  const std::size_t batch = 5;  // split 3 + 2 on two devices
  const auto x = random_values<float>(batch * 2 * 7 * 7, 40);
  const std::vector<int> labels{0, 2, 1, 1, 0};
  for (const char* spec : {"cpu", "cpu/2"}) {
    INFO("device " << spec);
    anycl::Runtime rt(spec);
    anycl::TrainOptions o;
    o.batch = batch, o.seed = 7;
    anycl::DataParallelTrainer t(rt, m, o);
    std::vector<float> grad;
    const float loss = t.gradient(x.data(), labels.data(), batch, grad);
    const std::vector<float> wf = t.weights();
    std::vector<double> w(wf.begin(), wf.end());
    const double ref_loss = anycl_test::cnn_loss(m, w, x, labels);
    CHECK(std::abs(loss - ref_loss) <= 1e-5 * std::abs(ref_loss));
    REQUIRE(grad.size() == w.size());
    // Tolerance: float gradients (~1e-6 relative) vs differences with h = 1e-4 in double
    // (truncation ~h^2); 1e-4 absolute + 1e-3 relative leaves room, a wrong term does not fit.
    const double h = 1e-4;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double keep = w[i];
      w[i] = keep + h;
      const double up = anycl_test::cnn_loss(m, w, x, labels);
      w[i] = keep - h;
      const double down = anycl_test::cnn_loss(m, w, x, labels);
      w[i] = keep;
      const double fd = (up - down) / (2 * h);
      if (std::abs(grad[i] - fd) > 1e-4 + 1e-3 * std::abs(fd) && bad++ < 5)
        UNSCOPED_INFO("parameter " << i << ": gradient " << grad[i] << ", finite difference " << fd);
    }
    CHECK(bad == 0);
  }
}
