// Gradient checks by central differences of a double-precision loss.
#pragma once

#include <cmath>
#include <vector>

#include "anycl/train.hpp"

namespace anycl_test {

// A trainer's loss and gradient on a batch, and its weights in double (the point of the check).
struct GradientAt {
  float loss;
  std::vector<float> grad;
  std::vector<double> w;
};
inline GradientAt gradient_at(anycl::DataParallelTrainer& t, const std::vector<float>& x, const std::vector<int>& labels) {
  GradientAt g;
  g.loss = t.gradient(x.data(), labels.data(), labels.size(), g.grad);
  const std::vector<float> w = t.weights();
  g.w.assign(w.begin(), w.end());
  return g;
}

// The parameters i where grad[i] differs from (loss(w + h e_i) - loss(w - h e_i)) / 2h by more
// than 1e-4 + 1e-3 |difference|: room for float gradients (~1e-6 relative) and the difference's
// truncation (~h^2), not for a wrong term.
template <typename Loss>
std::vector<std::size_t> gradient_mismatches(std::vector<double> w, const std::vector<float>& grad, Loss loss,
                                             double h) {
  std::vector<std::size_t> bad;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double keep = w[i];
    w[i] = keep + h;
    const double up = loss(w);
    w[i] = keep - h;
    const double down = loss(w);
    w[i] = keep;
    const double fd = (up - down) / (2 * h);
    if (std::abs(double(grad[i]) - fd) > 1e-4 + 1e-3 * std::abs(fd)) bad.push_back(i);
  }
  return bad;
}

}  // namespace anycl_test
