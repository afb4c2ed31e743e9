#include "train/model_plan.hpp"

#include <cmath>
#include <random>
#include <string>

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

[[noreturn]] void bad_layer(std::size_t i, const std::string& why) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: layer " + std::to_string(i) + " " + why);
}

LayerPlan conv_plan(std::size_t i, const Shape& in, const ConvLayer& l) {
  if (l.channels == 0 || l.kernel == 0) bad_layer(i, "(conv) needs channels and kernel > 0");
  if (l.kernel > in.h + 2 * l.pad || l.kernel > in.w + 2 * l.pad)
    bad_layer(i, "(conv): kernel " + std::to_string(l.kernel) + " exceeds the padded input " +
                     std::to_string(in.h) + "x" + std::to_string(in.w) + " + 2*" + std::to_string(l.pad));
  LayerPlan p{LayerKind::Conv, in, {l.channels, in.h + 2 * l.pad - l.kernel + 1, in.w + 2 * l.pad - l.kernel + 1}};
  p.kernel = l.kernel;
  p.pad = l.pad;
  p.relu = true;
  return p;
}

LayerPlan pool_plan(std::size_t i, const Shape& in, const MaxPoolLayer& l) {
  if (l.size == 0 || l.size > in.h || l.size > in.w)
    bad_layer(i, "(max-pool): window " + std::to_string(l.size) + " does not fit the input " + std::to_string(in.h) +
                     "x" + std::to_string(in.w));
  LayerPlan p{LayerKind::MaxPool, in, {in.c, in.h / l.size, in.w / l.size}};
  p.kernel = l.size;
  return p;
}

LayerPlan dense_plan(std::size_t i, const Shape& in, const DenseLayer& l) {
  if (l.units == 0) bad_layer(i, "(dense) needs units > 0");
  LayerPlan p{LayerKind::Dense, in, {l.units, 1, 1}};
  p.relu = l.relu;
  return p;
}

}  // namespace

Conv2d LayerPlan::conv(std::size_t n) const {
  Conv2d d;
  d.n = n;
  d.c = in.c, d.h = in.h, d.w = in.w, d.k = out.c, d.r = d.s = kernel;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
  d.relu = relu;
  return d;
}

std::size_t ModelPlan::parameter_count() const {
  std::size_t n = 0;
  for (std::size_t s : tensor_sizes) n += s;
  return n;
}

ModelPlan plan_model(const ModelSpec& spec) {
  if (spec.channels == 0 || spec.height == 0 || spec.width == 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: the input shape has a zero extent");
  if (spec.layers.empty()) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: the model has no layers");
  ModelPlan plan;
  Shape shape{spec.channels, spec.height, spec.width};
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const Layer& l = spec.layers[i];
    LayerPlan p = std::holds_alternative<ConvLayer>(l)      ? conv_plan(i, shape, std::get<ConvLayer>(l))
                  : std::holds_alternative<MaxPoolLayer>(l) ? pool_plan(i, shape, std::get<MaxPoolLayer>(l))
                                                            : dense_plan(i, shape, std::get<DenseLayer>(l));
    plan.layer_tensors.push_back(plan.tensor_sizes.size());
    if (p.kind != LayerKind::MaxPool) {
      p.weights = plan.tensor_sizes.size();
      plan.tensor_sizes.push_back(p.out.c * (p.kind == LayerKind::Conv ? p.in.c * p.kernel * p.kernel : p.in.size()));
      plan.tensor_sizes.push_back(p.out.c);
    }
    shape = p.out;
    plan.layers.push_back(p);
  }
  plan.layer_tensors.push_back(plan.tensor_sizes.size());
  const LayerPlan& last = plan.layers.back();
  if (last.kind != LayerKind::Dense || last.relu || last.out.c < 2)
    bad_layer(spec.layers.size() - 1, "must be a DenseLayer without ReLU and with >= 2 units (the softmax logits)");
  return plan;
}

std::vector<std::vector<float>> initial_weights(const ModelPlan& plan, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<std::vector<float>> out;
  for (const LayerPlan& l : plan.layers) {
    if (l.kind == LayerKind::MaxPool) continue;
    const std::size_t fan_in = plan.tensor_sizes[l.weights] / l.out.c;
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    const float bound = std::sqrt(6.f / float(fan_in));
    std::vector<float> w(plan.tensor_sizes[l.weights]);
    for (float& v : w) v = bound * dist(gen);
    out.push_back(std::move(w));
    out.emplace_back(l.out.c, 0.f);
  }
  return out;
}

}  // namespace anycl::detail
