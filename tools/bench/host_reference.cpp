// The host references: written from the definitions (CBLAS GEMM, cross-correlation with
// padding, stride, dilation and groups), independent of every kernel in the library.
#include "host_reference.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace anycl_bench {
namespace {

// op(X)(i, j) of operand 'a' or 'b' in batch item `item`.
double op_at(const GemmProblem& g, char which, const std::vector<double>& x, std::size_t offset, std::size_t item,
             std::size_t i, std::size_t j) {
  const anycl::GemmShape& s = g.shape;
  const bool trans = (which == 'a' ? s.trans_a : s.trans_b) == anycl::Transpose::Yes;
  const std::size_t stride = which == 'a' ? s.stride_a : s.stride_b;
  return x[offset + item * stride + (trans ? stored_index(s, which, j, i) : stored_index(s, which, i, j))];
}

// Visits every (x, w, y) index triple whose product enters a convolution: forward sums it into
// y, backward-data into x, backward-weights into w.
void for_each_tap(const anycl::Conv2d& d, const std::function<void(std::size_t, std::size_t, std::size_t)>& visit) {
  const std::size_t P = d.p(), Q = d.q(), cg = d.c / d.groups, kg = d.k / d.groups;
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
                if (d.layout == anycl::ConvLayout::Nhwc)  // x[n][h][w][c], w[k][r][s][ci], y[n][p][q][k]
                  visit(((n * d.h + ih) * d.w + iw) * d.c + c, ((k * d.r + r) * d.s + s) * cg + ci,
                        ((n * P + p) * Q + q) * d.k + k);
                else
                  visit(((n * d.c + c) * d.h + ih) * d.w + iw, ((k * cg + ci) * d.r + r) * d.s + s,
                        ((n * d.k + k) * P + p) * Q + q);
              }
}

// The output channel of element i of y (or dy).
std::size_t channel_of(const anycl::Conv2d& d, std::size_t i) {
  return d.layout == anycl::ConvLayout::Nhwc ? i % d.k : (i / (d.p() * d.q())) % d.k;
}

Expected zeros(std::size_t size) { return {std::vector<double>(size, 0.0), std::vector<double>(size, 0.0)}; }

void accumulate(Expected& out, std::size_t i, double a, double b) {
  out.value[i] += a * b;
  out.magnitude[i] += std::fabs(a * b);
}

// Bias (forward) and the bias gradient (backward-weights) both pair output channel k with y.
std::vector<Expected> forward(const anycl::Conv2d& d, const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>& bias) {
  Expected y = zeros(d.y_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { accumulate(y, yi, x[xi], w[wi]); });
  for (std::size_t i = 0; i < y.value.size(); ++i) {
    if (!bias.empty()) accumulate(y, i, bias[channel_of(d, i)], 1.0);
    if (d.relu) y.value[i] = std::max(0.0, y.value[i]);
  }
  return {y};
}

std::vector<Expected> backward_weights(const ConvProblem& c, const std::vector<double>& x, const std::vector<double>& dy) {
  const anycl::Conv2d& d = c.d;
  Expected dw = zeros(d.w_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { accumulate(dw, wi, x[xi], dy[yi]); });
  if (!c.bias) return {dw};
  Expected db = zeros(d.k);
  for (std::size_t i = 0; i < dy.size(); ++i) accumulate(db, channel_of(d, i), dy[i], 1.0);
  return {dw, db};
}

}  // namespace

Expected gemm_reference(const GemmProblem& g, const std::vector<double>& a, const std::vector<double>& b,
                        const std::vector<double>& c) {
  const anycl::GemmShape& s = g.shape;
  Expected out{c, std::vector<double>(c.size(), 0.0)};
  for (std::size_t item = 0; item < s.batch; ++item)
    for (std::size_t i = 0; i < s.m; ++i)
      for (std::size_t j = 0; j < s.n; ++j) {
        const std::size_t ci = g.c_offset + item * s.stride_c + stored_index(s, 'c', i, j);
        double sum = 0, mag = 0;
        for (std::size_t l = 0; l < s.k; ++l) {
          const double t = op_at(g, 'a', a, g.a_offset, item, i, l) * op_at(g, 'b', b, g.b_offset, item, l, j);
          sum += t, mag += std::fabs(t);
        }
        // beta == 0: C is not read, so NaN there must not reach the result.
        const double old = g.beta == 0 ? 0.0 : g.beta * c[ci];
        out.value[ci] = g.alpha * sum + old;
        out.magnitude[ci] = std::fabs(g.alpha) * mag + std::fabs(old);
      }
  return out;
}

std::vector<Expected> conv_reference(const ConvProblem& c, const std::vector<double>& in1,
                                     const std::vector<double>& in2, const std::vector<double>& bias) {
  const anycl::Conv2d& d = c.d;
  if (c.pass == anycl::ConvPass::Forward) return forward(d, in1, in2, bias);
  if (c.pass == anycl::ConvPass::BackwardWeights) return backward_weights(c, in1, in2);
  Expected dx = zeros(d.x_size());
  for_each_tap(d, [&](std::size_t xi, std::size_t wi, std::size_t yi) { accumulate(dx, xi, in1[yi], in2[wi]); });
  return {dx};
}

}  // namespace anycl_bench
