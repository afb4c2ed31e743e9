#include "train/model_plan.hpp"

#include <cmath>
#include <random>

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

[[noreturn]] void bad_layer(const std::string& name, const std::string& why) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: " + name + " " + why);
}

LayerPlan node(LayerKind kind, const Shape& in, const Shape& out) {
  LayerPlan p;
  p.kind = kind, p.in = in, p.out = out;
  return p;
}

std::string dims(const Shape& s) { return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w); }

LayerPlan conv_plan(const std::string& name, const Shape& in, const ConvLayer& l) {
  if (l.channels == 0 || l.kernel == 0 || l.stride == 0 || l.groups == 0)
    bad_layer(name, "(conv) needs channels, kernel, stride and groups > 0");
  if (in.c % l.groups != 0 || l.channels % l.groups != 0)
    bad_layer(name, "(conv): groups " + std::to_string(l.groups) + " must divide the input channels " +
                        std::to_string(in.c) + " and the output channels " + std::to_string(l.channels));
  if (l.kernel > in.h + 2 * l.pad || l.kernel > in.w + 2 * l.pad)
    bad_layer(name, "(conv): kernel " + std::to_string(l.kernel) + " exceeds the padded input " +
                        std::to_string(in.h) + "x" + std::to_string(in.w) + " + 2*" + std::to_string(l.pad));
  LayerPlan p = node(LayerKind::Conv, in, {l.channels, (in.h + 2 * l.pad - l.kernel) / l.stride + 1,
                                           (in.w + 2 * l.pad - l.kernel) / l.stride + 1});
  p.kernel = l.kernel, p.pad = l.pad, p.stride = l.stride, p.groups = l.groups, p.relu = l.relu;
  return p;
}

LayerPlan pool_plan(const std::string& name, const Shape& in, std::size_t size, LayerKind kind) {
  const char* what = kind == LayerKind::MaxPool ? "(max-pool)" : "(avg-pool)";
  if (size == 0 || size > in.h || size > in.w)
    bad_layer(name, std::string(what) + ": window " + std::to_string(size) + " does not fit the input " +
                        std::to_string(in.h) + "x" + std::to_string(in.w));
  LayerPlan p = node(kind, in, {in.c, in.h / size, in.w / size});
  p.kernel = p.kernel_w = size;
  return p;
}

LayerPlan global_pool_plan(const Shape& in) {
  LayerPlan p = node(LayerKind::AvgPool, in, {in.c, 1, 1});
  p.kernel = in.h, p.kernel_w = in.w;
  return p;
}

LayerPlan norm_plan(const std::string& name, const Shape& in, const BatchNormLayer& l) {
  if (!(l.momentum >= 0.f && l.momentum <= 1.f) || !(l.eps > 0.f))
    bad_layer(name, "(batch norm) needs momentum in [0, 1] and eps > 0");
  LayerPlan p = node(LayerKind::BatchNorm, in, in);
  p.momentum = l.momentum, p.eps = l.eps, p.relu = l.relu;
  return p;
}

LayerPlan dropout_plan(const std::string& name, const Shape& in, const DropoutLayer& l) {
  if (!(l.rate >= 0.f && l.rate < 1.f)) bad_layer(name, "(dropout) needs a rate in [0, 1)");
  LayerPlan p = node(LayerKind::Dropout, in, in);
  p.rate = l.rate;
  return p;
}

LayerPlan dense_plan(const std::string& name, const Shape& in, const DenseLayer& l) {
  if (l.units == 0) bad_layer(name, "(dense) needs units > 0");
  LayerPlan p = node(LayerKind::Dense, in, {l.units, 1, 1});
  p.relu = l.relu;
  return p;
}

class Planner {
 public:
  ModelPlan plan;

  // Appends the nodes of `layers` reading activation `src` of shape `shape`; returns the last
  // activation (shape becomes its shape).
  std::size_t sequence(const std::vector<Layer>& layers, std::size_t src, Shape& shape, const std::string& prefix) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (prefix.empty()) plan.units.push_back(plan.layers.size());  // a top-level layer starts
      src = layer(layers[i], src, shape, prefix + "layer " + std::to_string(i));
    }
    return src;
  }

 private:
  std::size_t layer(const Layer& l, std::size_t src, Shape& shape, const std::string& name) {
    if (auto* block = std::get_if<ResidualBlock>(&l)) return residual(*block, src, shape, name);
    LayerPlan p = std::visit(
        [&](const auto& v) -> LayerPlan {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ConvLayer>) return conv_plan(name, shape, v);
          else if constexpr (std::is_same_v<T, MaxPoolLayer>) return pool_plan(name, shape, v.size, LayerKind::MaxPool);
          else if constexpr (std::is_same_v<T, AvgPoolLayer>) return pool_plan(name, shape, v.size, LayerKind::AvgPool);
          else if constexpr (std::is_same_v<T, GlobalAvgPoolLayer>) return global_pool_plan(shape);
          else if constexpr (std::is_same_v<T, BatchNormLayer>) return norm_plan(name, shape, v);
          else if constexpr (std::is_same_v<T, DropoutLayer>) return dropout_plan(name, shape, v);
          else if constexpr (std::is_same_v<T, DenseLayer>) return dense_plan(name, shape, v);
          else return node(LayerKind::Add, shape, shape);  // ResidualBlock: handled above
        },
        l);
    p.name = name;
    p.src = src;
    if (p.has_params()) {
      p.weights = plan.tensor_sizes.size();
      const std::size_t per_unit = p.kind == LayerKind::Conv    ? p.in.c / p.groups * p.kernel * p.kernel
                                   : p.kind == LayerKind::Dense ? p.in.size()
                                                                : 1;
      plan.tensor_sizes.push_back(p.out.c * per_unit);
      plan.tensor_sizes.push_back(p.out.c);
    }
    if (p.kind == LayerKind::BatchNorm) {
      p.norm = plan.norm_channels.size();
      plan.norm_channels.push_back(p.out.c);
    }
    shape = p.out;
    plan.layers.push_back(std::move(p));
    return plan.layers.size();
  }

  std::size_t residual(const ResidualBlock& b, std::size_t src, Shape& shape, const std::string& name) {
    if (b.body.empty()) bad_layer(name, "(residual block) has an empty body");
    Shape body = shape, shortcut = shape;
    const std::size_t body_out = sequence(b.body, src, body, name + " (residual block) body ");
    const std::size_t shortcut_out = sequence(b.shortcut, src, shortcut, name + " (residual block) shortcut ");
    if (body.c != shortcut.c || body.h != shortcut.h || body.w != shortcut.w)
      bad_layer(name, "(residual block): the body ends in " + dims(body) + ", the shortcut in " + dims(shortcut) +
                          (b.shortcut.empty() ? " (the identity: give it a 1x1 conv to change the shape)" : ""));
    LayerPlan add = node(LayerKind::Add, body, body);
    add.name = name + " (residual block)";
    add.src = body_out, add.src2 = shortcut_out, add.relu = b.relu;
    plan.layers.push_back(std::move(add));
    shape = body;
    return plan.layers.size();
  }
};

// A node accumulates its input gradient when a later node reads the same activation.
void mark_shared_inputs(ModelPlan& plan) {
  std::vector<bool> read_later(plan.layers.size() + 1, false);
  for (std::size_t i = plan.layers.size(); i-- > 0;) {
    LayerPlan& l = plan.layers[i];
    l.accumulate_dx = read_later[l.src];
    if (l.kind == LayerKind::Add) {
      l.accumulate_dx2 = read_later[l.src2];
      read_later[l.src2] = true;
    }
    read_later[l.src] = true;
  }
}

}  // namespace

Conv2d LayerPlan::conv(std::size_t n) const {
  Conv2d d;
  d.n = n;
  d.c = in.c, d.h = in.h, d.w = in.w, d.k = out.c, d.r = d.s = kernel;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
  d.stride_h = d.stride_w = stride;
  d.groups = groups;
  d.relu = relu;
  return d;
}

std::size_t ModelPlan::parameter_count() const {
  std::size_t n = 0;
  for (std::size_t s : tensor_sizes) n += s;
  return n;
}

std::size_t ModelPlan::running_count() const {
  std::size_t n = 0;
  for (std::size_t c : norm_channels) n += 2 * c;
  return n;
}

ModelPlan plan_model(const ModelSpec& spec) {
  if (spec.channels == 0 || spec.height == 0 || spec.width == 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: the input shape has a zero extent");
  if (spec.layers.empty()) fail(ANYCL_ERROR_INVALID_ARGUMENT, "DataParallelTrainer: the model has no layers");
  Planner planner;
  Shape shape{spec.channels, spec.height, spec.width};
  planner.sequence(spec.layers, 0, shape, "");
  ModelPlan& plan = planner.plan;
  plan.units.push_back(plan.layers.size());
  std::size_t tensors = 0;  // parameter tensors come in node order, two per node that has them
  for (const LayerPlan& l : plan.layers) {
    plan.layer_tensors.push_back(tensors);
    if (l.has_params()) tensors = l.weights + 2;
  }
  plan.layer_tensors.push_back(tensors);
  const LayerPlan& last = plan.layers.back();
  if (!std::holds_alternative<DenseLayer>(spec.layers.back()) || last.relu || last.out.c < 2)
    bad_layer("layer " + std::to_string(spec.layers.size() - 1),
              "must be a DenseLayer without ReLU and with >= 2 units (the softmax logits)");
  mark_shared_inputs(plan);
  return std::move(plan);
}

std::vector<std::vector<float>> initial_weights(const ModelPlan& plan, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<std::vector<float>> out;
  for (const LayerPlan& l : plan.layers) {
    if (l.kind == LayerKind::BatchNorm) {
      out.emplace_back(l.out.c, 1.f);
      out.emplace_back(l.out.c, 0.f);
    }
    if (l.kind != LayerKind::Conv && l.kind != LayerKind::Dense) continue;
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
