// The mean softmax cross-entropy and the logits of an anycl::ModelSpec on a batch, in double,
// written straight from the definitions with plain loops over the whole batch (batch
// normalisation needs it): strided, padded and grouped convolution, max/average/global pooling,
// batch normalisation (batch statistics in training, running ones in evaluation), dropout (masks
// from a caller's function), dense layers and residual blocks. Parameters in
// DataParallelTrainer::weights() order. The oracle of test_layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <variant>
#include <vector>

#include "anycl/train.hpp"

namespace anycl_test {

struct Batch {
  std::size_t n, c, h, w;
  std::vector<double> v;  // [n][c][h][w]
  double& at(std::size_t b, std::size_t ch, std::size_t y, std::size_t x) { return v[((b * c + ch) * h + y) * w + x]; }
  double at(std::size_t b, std::size_t ch, std::size_t y, std::size_t x) const { return v[((b * c + ch) * h + y) * w + x]; }
};

// keep(node, sample, element): whether dropout node `node` keeps the element in training.
using DropoutKeep = std::function<bool(std::size_t, std::size_t, std::size_t)>;

struct NetMode {
  bool training = true;
  DropoutKeep keep;                 // training with dropout layers
  const std::vector<double>* running = nullptr;  // evaluation: running mean, then variance, per BN
  std::vector<double>* moments = nullptr;        // training: filled with each BN's mean, unbiased var
};

class NetReference {
 public:
  NetReference(const std::vector<double>& params, NetMode mode) : p_(params.data()), mode_(std::move(mode)) {}

  Batch run(const std::vector<anycl::Layer>& layers, Batch a) {
    for (const anycl::Layer& l : layers) a = layer(l, a);
    return a;
  }

 private:
  Batch layer(const anycl::Layer& l, const Batch& a) {
    if (auto* b = std::get_if<anycl::ResidualBlock>(&l)) return residual(*b, a);
    ++node_;
    if (auto* c = std::get_if<anycl::ConvLayer>(&l)) return conv(*c, a);
    if (auto* m = std::get_if<anycl::MaxPoolLayer>(&l)) return pool(a, m->size, m->size, true);
    if (auto* m = std::get_if<anycl::AvgPoolLayer>(&l)) return pool(a, m->size, m->size, false);
    if (std::holds_alternative<anycl::GlobalAvgPoolLayer>(l)) return pool(a, a.h, a.w, false);
    if (auto* bn = std::get_if<anycl::BatchNormLayer>(&l)) return norm(*bn, a);
    if (auto* d = std::get_if<anycl::DropoutLayer>(&l)) return dropout(*d, a);
    return dense(std::get<anycl::DenseLayer>(l), a);
  }

  Batch residual(const anycl::ResidualBlock& b, const Batch& a) {
    Batch body = run(b.body, a);
    const Batch shortcut = run(b.shortcut, a);
    ++node_;  // the join
    for (std::size_t i = 0; i < body.v.size(); ++i) {
      body.v[i] += shortcut.v[i];
      if (b.relu) body.v[i] = std::max(body.v[i], 0.0);
    }
    return body;
  }

  Batch conv(const anycl::ConvLayer& l, const Batch& a) {
    const std::size_t k = l.kernel, s = l.stride, g = l.groups, cg = a.c / g, kg = l.channels / g;
    Batch out{a.n, l.channels, (a.h + 2 * l.pad - k) / s + 1, (a.w + 2 * l.pad - k) / s + 1, {}};
    out.v.assign(out.n * out.c * out.h * out.w, 0);
    const double* w = p_;
    const double* bias = p_ + l.channels * cg * k * k;
    for (std::size_t b = 0; b < a.n; ++b)
      for (std::size_t o = 0; o < out.c; ++o)
        for (std::size_t y = 0; y < out.h; ++y)
          for (std::size_t x = 0; x < out.w; ++x) {
            double sum = bias[o];
            const std::size_t c0 = o / kg * cg;
            for (std::size_t c = 0; c < cg; ++c)
              for (std::size_t r = 0; r < k; ++r)
                for (std::size_t t = 0; t < k; ++t) {
                  const long iy = long(y * s + r) - long(l.pad), ix = long(x * s + t) - long(l.pad);
                  if (iy >= 0 && ix >= 0 && iy < long(a.h) && ix < long(a.w))
                    sum += w[((o * cg + c) * k + r) * k + t] * a.at(b, c0 + c, std::size_t(iy), std::size_t(ix));
                }
            out.at(b, o, y, x) = l.relu ? std::max(sum, 0.0) : sum;
          }
    p_ = bias + out.c;
    return out;
  }

  static Batch pool(const Batch& a, std::size_t kh, std::size_t kw, bool max) {
    Batch out{a.n, a.c, a.h / kh, a.w / kw, {}};
    for (std::size_t b = 0; b < a.n; ++b)
      for (std::size_t c = 0; c < a.c; ++c)
        for (std::size_t y = 0; y < out.h; ++y)
          for (std::size_t x = 0; x < out.w; ++x) {
            double m = max ? -HUGE_VAL : 0;
            for (std::size_t r = 0; r < kh; ++r)
              for (std::size_t t = 0; t < kw; ++t) {
                const double v = a.at(b, c, y * kh + r, x * kw + t);
                m = max ? std::max(m, v) : m + v;
              }
            out.v.push_back(max ? m : m / double(kh * kw));
          }
    return out;
  }

  Batch norm(const anycl::BatchNormLayer& l, Batch a) {
    const double* gamma = p_;
    const double* beta = p_ + a.c;
    const double count = double(a.n * a.h * a.w);
    for (std::size_t c = 0; c < a.c; ++c) {
      double mean = 0, var = 0;
      auto each = [&](const std::function<void(double&)>& f) {
        for (std::size_t b = 0; b < a.n; ++b)
          for (std::size_t y = 0; y < a.h; ++y)
            for (std::size_t x = 0; x < a.w; ++x) f(a.at(b, c, y, x));
      };
      if (mode_.training) {
        each([&](double& v) { mean += v; });
        mean /= count;
        each([&](double& v) { var += (v - mean) * (v - mean); });
        if (mode_.moments) mode_.moments->insert(mode_.moments->end(), {mean, var / (count - 1)});
        var /= count;
      } else {
        mean = (*mode_.running)[running_at_ + c];
        var = (*mode_.running)[running_at_ + a.c + c];
      }
      each([&](double& v) {
        v = gamma[c] * (v - mean) / std::sqrt(var + double(l.eps)) + beta[c];
        if (l.relu) v = std::max(v, 0.0);
      });
    }
    running_at_ += 2 * a.c;
    p_ += 2 * a.c;
    return a;
  }

  Batch dropout(const anycl::DropoutLayer& l, Batch a) {
    if (!mode_.training) return a;
    const std::size_t per = a.c * a.h * a.w;
    for (std::size_t i = 0; i < a.v.size(); ++i)
      a.v[i] = mode_.keep(node_ - 1, i / per, i % per) ? a.v[i] / (1.0 - double(l.rate)) : 0.0;
    return a;
  }

  Batch dense(const anycl::DenseLayer& l, const Batch& a) {
    const std::size_t in = a.c * a.h * a.w;
    Batch out{a.n, l.units, 1, 1, {}};
    for (std::size_t b = 0; b < a.n; ++b)
      for (std::size_t u = 0; u < l.units; ++u) {
        double s = p_[l.units * in + u];
        for (std::size_t i = 0; i < in; ++i) s += p_[u * in + i] * a.v[b * in + i];
        out.v.push_back(l.relu ? std::max(s, 0.0) : s);
      }
    p_ += l.units * in + l.units;
    return out;
  }

  const double* p_;
  NetMode mode_;
  std::size_t node_ = 0, running_at_ = 0;
};

inline Batch net_logits(const anycl::ModelSpec& m, const std::vector<double>& params, const std::vector<float>& x,
                        std::size_t n, NetMode mode) {
  Batch in{n, m.channels, m.height, m.width, std::vector<double>(x.begin(), x.begin() + std::ptrdiff_t(n * m.channels * m.height * m.width))};
  return NetReference(params, std::move(mode)).run(m.layers, std::move(in));
}

inline double net_loss(const anycl::ModelSpec& m, const std::vector<double>& params, const std::vector<float>& x,
                       const std::vector<int>& labels, NetMode mode = {}) {
  const Batch z = net_logits(m, params, x, labels.size(), std::move(mode));
  double total = 0;
  for (std::size_t b = 0; b < z.n; ++b) {
    double lse = 0;
    for (std::size_t k = 0; k < z.c; ++k) lse += std::exp(z.v[b * z.c + k]);
    total += std::log(lse) - z.v[b * z.c + std::size_t(labels[b])];
  }
  return total / double(z.n);
}

}  // namespace anycl_test
