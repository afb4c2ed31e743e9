// Convolution as its definition says (cross-correlation with padding, stride, dilation and
// groups, NCHW or NHWC), in double with the sum of |term| per element that a tolerance scales
// by: what anycl-tune checks its convolution candidates against and what anycl-bench run/sweep
// checks a call against. Deliberately plain loops, independent of every kernel; it uses only the
// public API, so tools/bench includes it too (its build names this folder alone).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "anycl/conv2d.hpp"

namespace anycl::reference {

// One output tensor as a call must leave it: its values and, per element, the sum of |term|.
struct Expected {
  std::vector<double> value, magnitude;
  explicit Expected(std::size_t size = 0) : value(size, 0.0), magnitude(size, 0.0) {}
  void add(std::size_t i, double a, double b) {
    value[i] += a * b;
    magnitude[i] += std::fabs(a * b);
  }
};

// Visits every (x, w, y) index triple whose product enters a convolution: forward sums it into
// y, backward-data into x, backward-weights into w.
template <typename Visit>
void for_each_tap(const Conv2d& d, Visit visit) {
  const std::size_t P = d.p(), Q = d.q(), cg = d.c / d.groups, kg = d.k / d.groups;
  const bool nhwc = d.layout == ConvLayout::Nhwc;
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t k = 0; k < d.k; ++k)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q)
          for (std::size_t ci = 0; ci < cg; ++ci)
            for (std::size_t r = 0; r < d.r; ++r)
              for (std::size_t s = 0; s < d.s; ++s) {
                // Unsigned wrap-around marks the taps that land in the padding.
                const std::size_t ih = p * d.stride_h + r * d.dilation_h - d.pad_top;
                const std::size_t iw = q * d.stride_w + s * d.dilation_w - d.pad_left;
                if (ih >= d.h || iw >= d.w) continue;
                const std::size_t c = (k / kg) * cg + ci;
                if (nhwc)  // x[n][h][w][c], w[k][r][s][ci], y[n][p][q][k]
                  visit(((n * d.h + ih) * d.w + iw) * d.c + c, ((k * d.r + r) * d.s + s) * cg + ci,
                        ((n * P + p) * Q + q) * d.k + k);
                else  // x[n][c][h][w], w[k][ci][r][s], y[n][k][p][q]
                  visit(((n * d.c + c) * d.h + ih) * d.w + iw, ((k * cg + ci) * d.r + r) * d.s + s,
                        ((n * d.k + k) * P + p) * Q + q);
              }
}

// The output channel of element i of y (or dy).
inline std::size_t channel_of(const Conv2d& d, std::size_t i) {
  return d.layout == ConvLayout::Nhwc ? i % d.k : (i / (d.p() * d.q())) % d.k;
}

// y = conv(x, w) (+ bias[k] when `bias` is not empty), then max(0, y) when d.relu.
template <typename T>
Expected forward(const Conv2d& d, const std::vector<T>& x, const std::vector<T>& w, const std::vector<T>& bias = {}) {
  Expected y(d.y_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { y.add(yi, double(x[xi]), double(w[wi])); });
  for (std::size_t i = 0; i < y.value.size(); ++i) {
    if (!bias.empty()) y.add(i, double(bias[channel_of(d, i)]), 1.0);
    if (d.relu) y.value[i] = std::max(0.0, y.value[i]);
  }
  return y;
}

template <typename T>
Expected backward_data(const Conv2d& d, const std::vector<T>& dy, const std::vector<T>& w) {
  Expected dx(d.x_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { dx.add(xi, double(dy[yi]), double(w[wi])); });
  return dx;
}

template <typename T>
Expected backward_weights(const Conv2d& d, const std::vector<T>& x, const std::vector<T>& dy) {
  Expected dw(d.w_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { dw.add(wi, double(x[xi]), double(dy[yi])); });
  return dw;
}

// The bias gradient: dy summed per output channel.
template <typename T>
Expected backward_bias(const Conv2d& d, const std::vector<T>& dy) {
  Expected db(d.k);
  for (std::size_t i = 0; i < dy.size(); ++i) db.add(channel_of(d, i), double(dy[i]), 1.0);
  return db;
}

}  // namespace anycl::reference
