// The trainer's layers beyond the basic CNN (strided, padded, grouped convolution; batch
// normalisation; average and global pooling; residual blocks; dropout) and its optimizers,
// against a double-precision reference written from the definitions
// (tests/reference/net_reference.hpp) and plain loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "anycl/anycl.hpp"
#include "reference/finite_difference.hpp"
#include "reference/net_reference.hpp"
#include "support.hpp"
#include "ops/nn_layers.hpp"
#include "train/passes.hpp"

namespace {

using anycl_test::random_values;
using namespace anycl;

// Every new kind at odd sizes: a stride-2 grouped conv, BN+ReLU, average pooling that drops an
// edge, an identity block, a projection block with a strided grouped conv, global pooling.
ModelSpec small_resnet() {
  ModelSpec m;
  m.channels = 3, m.height = 13, m.width = 13;
  ConvLayer stem{6, 3, 1, 2, 3, false};
  ResidualBlock identity{{ConvLayer{6, 3, 1, 1, 1, false}, BatchNormLayer{0.1f, 1e-5f, true},
                          ConvLayer{6, 3, 1, 1, 2, false}, BatchNormLayer{}},
                         {}, true};
  ResidualBlock projection{{ConvLayer{8, 3, 1, 2, 2, false}, BatchNormLayer{0.1f, 1e-5f, true}},
                           {ConvLayer{8, 1, 0, 2, 1, false}, BatchNormLayer{}}, true};
  m.layers = {stem, BatchNormLayer{0.2f, 1e-3f, true}, AvgPoolLayer{2}, identity, projection,
              GlobalAvgPoolLayer{}, DenseLayer{5, true}, DenseLayer{3, false}};
  return m;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// How many parameters disagree with central differences at h = 1e-6 (in double, rounding ~1e-10;
// a step this small rarely moves a ReLU input across 0, where a difference is no derivative);
// the first few are logged.
template <typename Loss>
std::size_t gradient_mismatches(const std::vector<double>& w, const std::vector<float>& grad, Loss loss) {
  const std::vector<std::size_t> bad = anycl_test::gradient_mismatches(w, grad, loss, 1e-6);
  for (std::size_t k = 0; k < bad.size() && k < 5; ++k)
    UNSCOPED_INFO("parameter " << bad[k] << ": gradient " << grad[bad[k]]);
  return bad.size();
}

}  // namespace

TEST_CASE("residual BN net: loss and gradient vs central differences of the double reference, 1 and 2 devices",
          "[layers]") {
  const ModelSpec m = small_resnet();
  const std::size_t batch = 5;  // split 3 + 2 on two devices: sync-BN must see all 5
  const auto x = random_values<float>(batch * 3 * 13 * 13, 41);
  const std::vector<int> labels{0, 2, 1, 1, 0};
  for (const char* spec : {"cpu", "cpu/2"}) {
    INFO("device " << spec);
    Runtime rt(spec);
    TrainOptions o;
    o.batch = batch, o.seed = 3;
    DataParallelTrainer t(rt, m, o);
    std::vector<float> grad;
    const float loss = t.gradient(x.data(), labels.data(), batch, grad);
    const std::vector<double> w = to_double(t.weights());
    const double ref = anycl_test::net_loss(m, w, x, labels);
    CHECK(std::abs(loss - ref) <= 1e-5 * std::abs(ref));
    REQUIRE(grad.size() == w.size());
    CHECK(gradient_mismatches(w, grad, [&](const std::vector<double>& p) { return anycl_test::net_loss(m, p, x, labels); }) == 0);
  }
}

TEST_CASE("batch norm: a step folds the batch moments into the running statistics, evaluation uses them",
          "[layers]") {
  const ModelSpec m = small_resnet();
  const std::size_t batch = 6;
  const auto x = random_values<float>(batch * 3 * 13 * 13, 42);
  const std::vector<int> labels{0, 1, 2, 0, 1, 2};
  Runtime rt("cpu/2");
  TrainOptions o;
  o.batch = batch;
  DataParallelTrainer t(rt, m, o);
  const std::vector<double> before = to_double(t.weights());
  std::vector<double> moments;  // per BN, per channel: mean, unbiased variance
  anycl_test::NetMode train;
  train.moments = &moments;
  anycl_test::net_loss(m, before, x, labels, train);
  t.step(x.data(), labels.data(), batch);
  // Expected running statistics: 0.9 (0.8 for the stem's BN) * initial + momentum * batch, the
  // layout mean[C] then var[C] per BN; 1e-5 relative covers the float moments.
  const std::vector<float> running = t.running_stats();
  const std::vector<float> momentum{0.2f, 0.1f, 0.1f, 0.1f, 0.1f};
  std::vector<double> expect;
  for (std::size_t bn = 0, at = 0; at < moments.size(); ++bn) {
    const std::size_t channels = bn == 0 || bn == 1 || bn == 2 ? 6 : 8;
    std::vector<double> mean, var;
    for (std::size_t c = 0; c < channels; ++c, at += 2) {
      mean.push_back(momentum[bn] * moments[at]);
      var.push_back((1 - double(momentum[bn])) + momentum[bn] * moments[at + 1]);
    }
    expect.insert(expect.end(), mean.begin(), mean.end());
    expect.insert(expect.end(), var.begin(), var.end());
  }
  REQUIRE(running.size() == expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) {
    INFO("running statistic " << i);
    CHECK(std::abs(running[i] - expect[i]) <= 1e-5 * std::abs(expect[i]) + 1e-6);
  }
  // Evaluation: the running statistics instead of the batch's (a model of 3 samples normalised by
  // their own statistics would give other logits).
  const std::vector<double> after = to_double(t.weights());
  const std::vector<double> running_d = to_double(running);
  anycl_test::NetMode eval;
  eval.training = false, eval.running = &running_d;
  const anycl_test::Batch z = anycl_test::net_logits(m, after, x, 3, eval);
  const std::vector<float> logits = t.logits(x.data(), 3);
  REQUIRE(logits.size() == z.v.size());
  for (std::size_t i = 0; i < z.v.size(); ++i) CHECK(std::abs(logits[i] - z.v[i]) <= 1e-4 * (1 + std::abs(z.v[i])));
}

TEST_CASE("dropout: masks follow the sample not the device and the gradient matches the reference with the same masks",
          "[layers]") {
  ModelSpec m;
  m.channels = 2, m.height = 5, m.width = 5;
  m.layers = {ConvLayer{4, 3, 1}, DropoutLayer{0.4f}, DenseLayer{6, true}, DropoutLayer{0.25f}, DenseLayer{3, false}};
  const std::size_t batch = 7;
  const auto x = random_values<float>(batch * 2 * 5 * 5, 43);
  const std::vector<int> labels{0, 2, 1, 1, 0, 2, 2};
  TrainOptions o;
  o.batch = batch, o.seed = 11;
  // The kernels' rule (cl_kernels/nn_layers.cl dropout_keep), restated: keep when
  // mix32(mix32(seed ^ sample) ^ element) >= rate * 2^32, seed mixing the step's and node's.
  const std::vector<float> rates{0, 0.4f, 0, 0.25f};
  anycl_test::NetMode mode;
  std::size_t kept = 0, drawn = 0;
  mode.keep = [&](std::size_t node, std::size_t sample, std::size_t element) {
    namespace ad = anycl::detail;
    const cl_uint seed = ad::mix32(ad::dropout_seed(o.seed, 0) ^ ad::mix32(cl_uint(node)));
    const bool keep = ad::mix32(ad::mix32(seed ^ cl_uint(sample)) ^ cl_uint(element)) >=
                      cl_uint(double(rates[node]) * 4294967296.0);
    kept += keep, ++drawn;
    return keep;
  };
  std::vector<float> grads[2];
  for (int d = 0; d < 2; ++d) {
    Runtime rt(d ? "cpu/2" : "cpu");
    DataParallelTrainer t(rt, m, o);
    const float loss = t.gradient(x.data(), labels.data(), batch, grads[d]);
    const std::vector<double> w = to_double(t.weights());
    CHECK(std::abs(loss - anycl_test::net_loss(m, w, x, labels, mode)) <= 1e-5 * loss);
    if (d == 0)
      CHECK(gradient_mismatches(w, grads[0], [&](const std::vector<double>& p) {
              return anycl_test::net_loss(m, p, x, labels, mode);
            }) == 0);
    // Evaluation drops nothing: the logits equal the reference without dropout.
    anycl_test::NetMode eval;
    eval.training = false;
    const anycl_test::Batch z = anycl_test::net_logits(m, w, x, batch, eval);
    const std::vector<float> logits = t.logits(x.data(), batch);
    for (std::size_t i = 0; i < z.v.size(); ++i) CHECK(std::abs(logits[i] - z.v[i]) <= 1e-5 * (1 + std::abs(z.v[i])));
  }
  // Same masks on 1 and 2 devices: the gradients differ only by the order of the sums.
  for (std::size_t i = 0; i < grads[0].size(); ++i)
    CHECK(std::abs(grads[0][i] - grads[1][i]) <= 1e-5 * (1e-2 + std::abs(grads[0][i])));
  // The drop fraction over the ~ 7 * 100 + 7 * 6 draws is near the rates (a broken stream is not).
  INFO("kept " << kept << " of " << drawn);
  CHECK(double(kept) / double(drawn) > 0.5);
  CHECK(double(kept) / double(drawn) < 0.7);
}

namespace {

// The optimizers of TrainOptions written as plain loops over one tensor of doubles.
struct PlainOptimizer {
  TrainOptions o;
  std::vector<double> m, v;
  std::size_t t = 0;

  double lr() const {
    if (o.schedule == LrSchedule::Step) return o.lr * std::pow(double(o.gamma), double(t / o.step_size));
    if (o.schedule == LrSchedule::Cosine) {
      const double f = double(std::min(t, o.total_steps)) / double(o.total_steps);
      return o.min_lr + (o.lr - o.min_lr) * 0.5 * (1 + std::cos(3.14159265358979323846 * f));
    }
    return o.lr;
  }

  void step(std::vector<double>& w, const std::vector<float>& g) {
    m.resize(w.size(), 0), v.resize(w.size(), 0);
    const double a = lr(), b1 = o.beta1, b2 = o.beta2, wd = o.weight_decay;
    for (std::size_t i = 0; i < w.size(); ++i) {
      double gi = g[i];
      if (o.optimizer == Optimizer::Sgd) {
        m[i] = o.momentum * m[i] + gi + wd * w[i];
        w[i] -= a * m[i];
        continue;
      }
      if (o.optimizer == Optimizer::AdamW) w[i] *= 1 - a * wd;
      else gi += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double mhat = m[i] / (1 - std::pow(b1, double(t + 1))), vhat = v[i] / (1 - std::pow(b2, double(t + 1)));
      w[i] -= a * mhat / (std::sqrt(vhat) + o.eps);
    }
    ++t;
  }
};

}  // namespace

TEST_CASE("SGD with weight decay, Adam, AdamW and the step and cosine schedules vs plain loops", "[layers]") {
  ModelSpec m;
  m.channels = 1, m.height = 6, m.width = 6;
  m.layers = {ConvLayer{3, 3, 1, 2, 1, true}, BatchNormLayer{}, DenseLayer{4, false}};
  const std::size_t batch = 4;
  const auto x = random_values<float>(batch * 36, 44);
  const std::vector<int> labels{0, 3, 1, 2};
  struct Case {
    const char* name;
    Optimizer opt;
    LrSchedule schedule;
  };
  for (const Case& c : {Case{"sgd+wd step", Optimizer::Sgd, LrSchedule::Step},
                        Case{"adam+wd cosine", Optimizer::Adam, LrSchedule::Cosine},
                        Case{"adamw constant", Optimizer::AdamW, LrSchedule::Constant}}) {
    INFO(c.name);
    Runtime rt("cpu");
    TrainOptions o;
    o.batch = batch, o.optimizer = c.opt, o.schedule = c.schedule, o.lr = 0.01f, o.weight_decay = 0.05f;
    o.step_size = 2, o.gamma = 0.5f, o.total_steps = 3, o.min_lr = 0.001f;
    DataParallelTrainer t(rt, m, o);
    PlainOptimizer plain{o, {}, {}, 0};
    std::vector<double> w = to_double(t.weights());
    for (int s = 0; s < 4; ++s) {
      CHECK(std::abs(t.learning_rate() - plain.lr()) <= 1e-7 * plain.lr() + 1e-12);
      std::vector<float> g;
      t.gradient(x.data(), labels.data(), batch, g);  // no update, no running-statistics change
      t.step(x.data(), labels.data(), batch);
      plain.step(w, g);
      // Tolerance: one float rounding per operation of the update on weights of ~1; the plain
      // loop starts each step from the trainer's weights, so errors do not compound.
      const std::vector<float> got = t.weights();
      std::size_t bad = 0;
      for (std::size_t i = 0; i < w.size(); ++i)
        if (std::abs(got[i] - w[i]) > 1e-6 * (1 + std::abs(w[i])) && bad++ < 3)
          UNSCOPED_INFO("step " << s << " parameter " << i << ": " << got[i] << " vs " << w[i]);
      CHECK(bad == 0);
      w = to_double(got);
    }
  }
}

TEST_CASE("bad layers are refused with INVALID_ARGUMENT naming the layer", "[layers]") {
  Runtime rt("cpu");
  auto refused = [&](std::vector<Layer> layers, const std::string& needle) {
    ModelSpec m;
    m.channels = 4, m.height = 8, m.width = 8;
    m.layers = std::move(layers);
    m.layers.push_back(DenseLayer{3, false});
    try {
      DataParallelTrainer t(rt, m);
      FAIL("accepted a model that should be refused: " << needle);
    } catch (const Error& e) {
      CHECK(e.status() == ANYCL_ERROR_INVALID_ARGUMENT);
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  refused({ConvLayer{6, 3, 1, 1, 4}}, "layer 0 (conv): groups 4 must divide");
  refused({ConvLayer{6, 3, 1, 0}}, "layer 0 (conv) needs channels, kernel, stride and groups > 0");
  refused({BatchNormLayer{}, BatchNormLayer{2.f}}, "layer 1 (batch norm) needs momentum in [0, 1]");
  refused({DropoutLayer{1.f}}, "layer 0 (dropout) needs a rate in [0, 1)");
  refused({AvgPoolLayer{9}}, "layer 0 (avg-pool): window 9 does not fit");
  refused({ResidualBlock{{}, {}, true}}, "layer 0 (residual block) has an empty body");
  refused({ResidualBlock{{ConvLayer{8, 3, 1}}, {}, true}}, "layer 0 (residual block): the body ends in 8x8x8, the shortcut in 4x8x8");
  refused({ResidualBlock{{ConvLayer{4, 3, 1}, ConvLayer{4, 3, 1, 1, 3}}, {}, true}},
          "layer 0 (residual block) body layer 1 (conv): groups 3");
  refused({ResidualBlock{{ConvLayer{4, 3, 1}}, {ConvLayer{4, 3, 1, 1, 1, false}, DropoutLayer{-1.f}}, true}},
          "layer 0 (residual block) shortcut layer 1 (dropout)");
  TrainOptions o;
  o.optimizer = Optimizer::Adam, o.beta2 = 1.f;
  ModelSpec ok;
  ok.channels = 1, ok.height = 4, ok.width = 4;
  ok.layers = {DenseLayer{2, false}};
  try {
    DataParallelTrainer t(rt, ok, o);
    FAIL("accepted beta2 = 1");
  } catch (const Error& e) {
    CHECK(e.status() == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK_THAT(e.what(), Catch::Contains("beta1 and beta2 must be in [0, 1)"));
  }
}
