// The host references: written from the definitions (CBLAS GEMM here; the convolution's,
// cross-correlation with padding, stride, dilation and groups, is the library's plain loop),
// independent of every kernel in the library.
#include "host_reference.hpp"

#include <cmath>

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

}  // namespace

Expected gemm_reference(const GemmProblem& g, const std::vector<double>& a, const std::vector<double>& b,
                        const std::vector<double>& c) {
  const anycl::GemmShape& s = g.shape;
  Expected out(c.size());
  out.value = c;
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
  namespace ref = anycl::reference;
  const anycl::Conv2d& d = c.d;
  if (c.pass == anycl::ConvPass::Forward) return {ref::forward(d, in1, in2, bias)};
  if (c.pass == anycl::ConvPass::BackwardData) return {ref::backward_data(d, in1, in2)};
  if (!c.bias) return {ref::backward_weights(d, in1, in2)};
  return {ref::backward_weights(d, in1, in2), ref::backward_bias(d, in2)};
}

}  // namespace anycl_bench
