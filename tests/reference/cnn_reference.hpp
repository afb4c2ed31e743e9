// The mean softmax cross-entropy of an anycl::ModelSpec on a batch, in double, written straight
// from the definitions (one sample at a time, plain loops). The oracle for gradient checks by
// finite differences. Parameters in DataParallelTrainer::weights() order.
#pragma once

#include <algorithm>
#include <cmath>
#include <variant>
#include <vector>

#include "anycl/train.hpp"

namespace anycl_test {

struct Activation {
  std::size_t c, h, w;
  std::vector<double> v;  // [c][h][w]
};

inline Activation cnn_conv(const Activation& in, const anycl::ConvLayer& l, const double*& p) {
  const std::size_t k = l.kernel, pad = l.pad;
  Activation out{l.channels, in.h + 2 * pad - k + 1, in.w + 2 * pad - k + 1, {}};
  out.v.assign(out.c * out.h * out.w, 0);
  const double* w = p;
  const double* b = p + out.c * in.c * k * k;
  for (std::size_t o = 0; o < out.c; ++o)
    for (std::size_t y = 0; y < out.h; ++y)
      for (std::size_t x = 0; x < out.w; ++x) {
        double s = b[o];
        for (std::size_t c = 0; c < in.c; ++c)
          for (std::size_t r = 0; r < k; ++r)
            for (std::size_t t = 0; t < k; ++t) {
              const long iy = long(y + r) - long(pad), ix = long(x + t) - long(pad);
              if (iy >= 0 && ix >= 0 && iy < long(in.h) && ix < long(in.w))
                s += w[((o * in.c + c) * k + r) * k + t] * in.v[(c * in.h + std::size_t(iy)) * in.w + std::size_t(ix)];
            }
        out.v[(o * out.h + y) * out.w + x] = std::max(s, 0.0);
      }
  p = b + out.c;
  return out;
}

inline Activation cnn_pool(const Activation& in, std::size_t size) {
  Activation out{in.c, in.h / size, in.w / size, {}};
  for (std::size_t c = 0; c < out.c; ++c)
    for (std::size_t y = 0; y < out.h; ++y)
      for (std::size_t x = 0; x < out.w; ++x) {
        double m = -HUGE_VAL;
        for (std::size_t r = 0; r < size; ++r)
          for (std::size_t t = 0; t < size; ++t) m = std::max(m, in.v[(c * in.h + y * size + r) * in.w + x * size + t]);
        out.v.push_back(m);
      }
  return out;
}

inline Activation cnn_dense(const Activation& in, const anycl::DenseLayer& l, const double*& p) {
  const std::size_t n = in.v.size();
  Activation out{l.units, 1, 1, {}};
  for (std::size_t u = 0; u < l.units; ++u) {
    double s = p[l.units * n + u];
    for (std::size_t i = 0; i < n; ++i) s += p[u * n + i] * in.v[i];
    out.v.push_back(l.relu ? std::max(s, 0.0) : s);
  }
  p += l.units * n + l.units;
  return out;
}

inline double cnn_loss(const anycl::ModelSpec& m, const std::vector<double>& params, const std::vector<float>& x,
                       const std::vector<int>& labels) {
  const std::size_t sample = m.channels * m.height * m.width;
  double total = 0;
  for (std::size_t b = 0; b < labels.size(); ++b) {
    Activation a{m.channels, m.height, m.width, std::vector<double>(x.begin() + std::ptrdiff_t(b * sample),
                                                                     x.begin() + std::ptrdiff_t((b + 1) * sample))};
    const double* p = params.data();
    for (const anycl::Layer& l : m.layers) {
      if (auto* c = std::get_if<anycl::ConvLayer>(&l)) a = cnn_conv(a, *c, p);
      else if (auto* q = std::get_if<anycl::MaxPoolLayer>(&l)) a = cnn_pool(a, q->size);
      else a = cnn_dense(a, std::get<anycl::DenseLayer>(l), p);
    }
    double lse = 0;
    for (double z : a.v) lse += std::exp(z);
    total += std::log(lse) - a.v[std::size_t(labels[b])];
  }
  return total / double(labels.size());
}

}  // namespace anycl_test
