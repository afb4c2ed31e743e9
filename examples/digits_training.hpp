// The handwritten-digits data set written by scripts/export_digits.py, and the epoch loop and
// accuracy that examples/train_cnn and tests/test_train share. Header-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "anycl/train.hpp"

namespace digits {

struct Set {
  std::vector<float> images;  // count x height x width, pixels scaled to [0, 1]
  std::vector<int> labels;
  std::size_t count() const { return labels.size(); }
};

struct Data {
  std::size_t height = 0, width = 0;
  Set train, test;
};

inline Data load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path + " (write it with: /usr/bin/python3 scripts/export_digits.py " + path + ")");
  std::string magic;
  int version = 0;
  std::size_t n_train = 0, n_test = 0;
  Data d;
  if (!(in >> magic >> version >> d.height >> d.width >> n_train >> n_test) || magic != "anycl-digits" || version != 1 ||
      d.height * d.width == 0)
    throw std::runtime_error(path + " is not an anycl-digits file (scripts/export_digits.py writes them)");
  for (std::size_t i = 0; i < n_train + n_test; ++i) {
    Set& s = i < n_train ? d.train : d.test;
    int label = -1;
    if (!(in >> label) || label < 0 || label > 9) throw std::runtime_error(path + ": bad label of image " + std::to_string(i));
    s.labels.push_back(label);
    for (std::size_t p = 0; p < d.height * d.width; ++p) {
      float v = -1;
      if (!(in >> v) || v < 0 || v > 16) throw std::runtime_error(path + ": bad pixel in image " + std::to_string(i));
      s.images.push_back(v / 16.f);
    }
  }
  return d;
}

// conv(8)-ReLU-pool-conv(16)-ReLU-pool-dense(10), softmax cross-entropy.
inline anycl::ModelSpec small_cnn(const Data& d) {
  anycl::ModelSpec m;
  m.channels = 1, m.height = d.height, m.width = d.width;
  m.layers = {anycl::ConvLayer{8, 3, 1}, anycl::MaxPoolLayer{2}, anycl::ConvLayer{16, 3, 1}, anycl::MaxPoolLayer{2},
              anycl::DenseLayer{10, false}};
  return m;
}

// A small ResNet: a 3x3 conv stem (16) with batch norm, an identity basic block at 16 channels,
// a projection basic block down to 32 channels at 4x4 (stride 2, 1x1 conv + BN shortcut), global
// average pooling, dense(10).
inline anycl::ModelSpec small_resnet(const Data& d) {
  using namespace anycl;
  auto conv = [](std::size_t channels, std::size_t kernel, std::size_t stride) {
    return ConvLayer{channels, kernel, kernel / 2, stride, 1, false};
  };
  const BatchNormLayer bn{0.1f, 1e-5f, false}, bn_relu{0.1f, 1e-5f, true};
  ModelSpec m;
  m.channels = 1, m.height = d.height, m.width = d.width;
  m.layers = {conv(16, 3, 1), bn_relu,
              ResidualBlock{{conv(16, 3, 1), bn_relu, conv(16, 3, 1), bn}, {}, true},
              ResidualBlock{{conv(32, 3, 2), bn_relu, conv(32, 3, 1), bn}, {conv(32, 1, 2), bn}, true},
              GlobalAvgPoolLayer{}, DenseLayer{10, false}};
  return m;
}

// Weights dominate (1.6M parameters, mostly two 1024-unit dense layers): small batches keep its
// GEMMs thin, the model a pipeline of stages splits better than a batch (docs/performance.md).
inline anycl::ModelSpec wide_cnn(const Data& d) {
  anycl::ModelSpec m;
  m.channels = 1, m.height = d.height, m.width = d.width;
  m.layers = {anycl::ConvLayer{32, 3, 1},     anycl::ConvLayer{32, 3, 1},     anycl::MaxPoolLayer{2},
              anycl::DenseLayer{1024, true}, anycl::DenseLayer{1024, true}, anycl::DenseLayer{10, false}};
  return m;
}

// This process's part of every batch when several processes train together: rank r of `ranks`
// takes the r-th slice, the first (batch % ranks) slices one sample longer (as the trainer splits
// a batch over equal devices).
struct Shard {
  std::size_t rank = 0, ranks = 1;
  std::size_t first(std::size_t batch) const { return rank * (batch / ranks) + std::min(rank, batch % ranks); }
  std::size_t size(std::size_t batch) const { return batch / ranks + (rank < batch % ranks ? 1 : 0); }
};

// Called around every step: `before` may change the step's labels (fault injection in
// examples/train_cnn), `after` sees the step's global mean loss.
struct StepHooks {
  std::function<void(std::vector<int>& labels)> before;
  std::function<void(float loss)> after;
};

// The order of one epoch: a shuffle of 0..count-1 drawn from `rng` (one draw per epoch, so
// skipping k epochs is k calls).
inline std::vector<std::size_t> epoch_order(std::size_t count, std::mt19937& rng) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// One pass over `s` in a shuffled order (from `rng`) in global batches of `batch` (the last may
// be smaller), this process feeding its shard of each; stops after `max_steps` steps. Returns the
// mean loss over the samples of the steps taken.
inline double train_epoch(anycl::DataParallelTrainer& t, const Set& s, std::size_t batch, std::mt19937& rng,
                          Shard shard = {}, std::size_t max_steps = SIZE_MAX, const StepHooks& hooks = {}) {
  const std::size_t sample = s.images.size() / s.count();
  const std::vector<std::size_t> order = epoch_order(s.count(), rng);
  std::vector<float> x;
  std::vector<int> y;
  double sum = 0;
  std::size_t seen = 0;
  for (std::size_t b0 = 0, steps = 0; b0 < order.size() && steps < max_steps; b0 += batch, ++steps) {
    const std::size_t n = std::min(batch, order.size() - b0);
    if (n < shard.ranks) break;  // a last batch too small to give every process a sample
    x.clear(), y.clear();
    for (std::size_t i = b0 + shard.first(n); i < b0 + shard.first(n) + shard.size(n); ++i) {
      x.insert(x.end(), s.images.begin() + std::ptrdiff_t(order[i] * sample),
               s.images.begin() + std::ptrdiff_t((order[i] + 1) * sample));
      y.push_back(s.labels[order[i]]);
    }
    if (hooks.before) hooks.before(y);
    const float loss = t.step(x.data(), y.data(), y.size());
    if (hooks.after) hooks.after(loss);
    sum += double(loss) * double(n);
    seen += n;
  }
  return sum / double(seen);
}

inline double accuracy(anycl::DataParallelTrainer& t, const Set& s) {
  const std::vector<int> p = t.predict(s.images.data(), s.count());
  std::size_t right = 0;
  for (std::size_t i = 0; i < p.size(); ++i) right += p[i] == s.labels[i];
  return double(right) / double(s.count());
}

}  // namespace digits
