// A ModelSpec checked and turned into per-layer shapes, parameter tensors and initial weights.
#pragma once

#include <vector>

#include "anycl/conv2d.hpp"
#include "anycl/train.hpp"

namespace anycl::detail {

struct Shape {
  std::size_t c = 0, h = 0, w = 0;
  std::size_t size() const { return c * h * w; }
};

enum class LayerKind { Conv, MaxPool, Dense };

struct LayerPlan {
  LayerKind kind;
  Shape in, out;             // per sample
  std::size_t kernel = 0;    // conv kernel, or pooling window
  std::size_t pad = 0;
  bool relu = false;
  std::size_t weights = 0;   // parameter tensor index of the weights (bias follows); conv/dense only
  // The convolution of n samples (conv only).
  Conv2d conv(std::size_t n) const;
};

struct ModelPlan {
  std::vector<LayerPlan> layers;
  std::vector<std::size_t> tensor_sizes;  // element count of every parameter tensor, in order
  // [i]: the index of layer i's first parameter tensor, so layer i holds the tensors
  // [layer_tensors[i], layer_tensors[i + 1]); one entry more than layers.
  std::vector<std::size_t> layer_tensors;
  std::size_t parameter_count() const;
  std::size_t classes() const { return layers.back().out.c; }
  Shape input() const { return layers.front().in; }
};

// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the first layer that does not fit.
ModelPlan plan_model(const ModelSpec& spec);

// He-uniform weights (bound sqrt(6 / fan_in)) and zero biases, reproducible from the seed; one
// vector per parameter tensor.
std::vector<std::vector<float>> initial_weights(const ModelPlan& plan, unsigned seed);

}  // namespace anycl::detail
