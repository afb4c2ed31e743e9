// The quick-start job: one SGEMM and one convolution on the default device, each checked against
// a plain CPU loop, with the achieved GFLOP/s.
#include <anycl/anycl.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

bool demo_gemm(anycl::Runtime& rt) {
  const std::size_t m = 512, n = 512, k = 512;
  const auto a = random_vector(m * k, 1), b = random_vector(k * n, 2);
  std::vector<float> c(m * n);
  anycl::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());
  const double t = seconds_since(t0);
  double worst = 0;
  for (std::size_t i = 0; i < m; i += 37)
    for (std::size_t j = 0; j < n; ++j) {
      double ref = 0;
      for (std::size_t p = 0; p < k; ++p) ref += double(a[i * k + p]) * b[p * n + j];
      worst = std::max(worst, std::fabs(ref - c[i * n + j]));
    }
  const bool ok = worst < 1e-3;
  std::printf("sgemm %zux%zux%zu: %.1f GFLOP/s, max error vs CPU loop %.2e: %s\n", m, n, k, 2.0 * m * n * k / t / 1e9,
              worst, ok ? "ok" : "WRONG");
  return ok;
}

bool demo_conv(anycl::Runtime& rt) {
  anycl::Conv2d d;
  d.n = 2, d.c = 32, d.h = 28, d.w = 28, d.k = 32, d.r = 3, d.s = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  d.validate();
  const auto x = random_vector(d.x_size(), 3), w = random_vector(d.w_size(), 4);
  std::vector<float> y(d.y_size());
  anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data());  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  anycl::conv2d_forward(rt, d, x.data(), w.data(), nullptr, y.data());
  const double t = seconds_since(t0);
  const std::size_t P = d.p(), Q = d.q();
  double worst = 0;
  for (std::size_t img = 0; img < d.n; ++img)
    for (std::size_t ko = 0; ko < d.k; ko += 5)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q) {
          double ref = 0;
          for (std::size_t ci = 0; ci < d.c; ++ci)
            for (std::size_t r = 0; r < d.r; ++r)
              for (std::size_t s = 0; s < d.s; ++s) {
                const long ih = long(p + r) - 1, iw = long(q + s) - 1;
                if (ih < 0 || iw < 0 || ih >= long(d.h) || iw >= long(d.w)) continue;
                ref += double(x[((img * d.c + ci) * d.h + ih) * d.w + iw]) * w[((ko * d.c + ci) * d.r + r) * d.s + s];
              }
          worst = std::max(worst, std::fabs(ref - y[((img * d.k + ko) * P + p) * Q + q]));
        }
  const double flops = 2.0 * d.n * d.k * P * Q * d.c * d.r * d.s;
  const bool ok = worst < 1e-3;
  std::printf("conv2d %zux%zux%zux%zu -> %zu, 3x3 pad 1 (%s): %.1f GFLOP/s, max error vs CPU loop %.2e: %s\n", d.n,
              d.c, d.h, d.w, d.k, anycl::to_string(anycl::conv2d_select(rt, d)), flops / t / 1e9, worst,
              ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    anycl::Runtime rt(argc > 1 ? argv[1] : "");
    std::printf("anycl %s on device %s '%s'\n", anycl::version(), rt.device(0).id.c_str(), rt.device(0).name.c_str());
    const bool ok = demo_gemm(rt) & demo_conv(rt);
    return ok ? 0 : 1;
  } catch (const anycl::Error& e) {
    std::fprintf(stderr, "anycl-demo: %s (%s)\n", e.what(), anycl_status_string(e.status()));
    return 1;
  }
}
