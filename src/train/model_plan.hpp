// A ModelSpec checked and flattened into nodes in execution order: each node reads the
// activation(s) it names and writes its own, so a residual block becomes its body's nodes, its
// shortcut's nodes and an Add node that joins them.
#pragma once

#include <string>
#include <vector>

#include "anycl/conv2d.hpp"
#include "anycl/train.hpp"

namespace anycl::detail {

struct Shape {
  std::size_t c = 0, h = 0, w = 0;
  std::size_t size() const { return c * h * w; }
};

enum class LayerKind { Conv, MaxPool, AvgPool, BatchNorm, Dropout, Dense, Add };

struct LayerPlan {
  LayerKind kind = LayerKind::Conv;
  Shape in, out;             // per sample
  std::string name;          // "layer 3", "layer 2 (residual block) body layer 0": for messages
  // Activations are numbered 0 (the model input) and i + 1 (the output of node i).
  std::size_t src = 0;       // the input activation
  std::size_t src2 = 0;      // Add: the shortcut's activation
  // Another node later in execution order reads `src` (`src2`) too, so the backward pass adds
  // this node's input gradient to what is there rather than writing it.
  bool accumulate_dx = false, accumulate_dx2 = false;
  std::size_t kernel = 0;    // conv kernel, or pooling window (AvgPool: height)
  std::size_t kernel_w = 0;  // AvgPool window width
  std::size_t pad = 0, stride = 1, groups = 1;
  bool relu = false;
  float rate = 0, momentum = 0, eps = 0;  // Dropout; BatchNorm
  std::size_t weights = 0;   // parameter tensor index of the weights (bias / beta follows)
  std::size_t norm = 0;      // BatchNorm: its index among the model's batch-norm nodes
  bool has_params() const { return kind == LayerKind::Conv || kind == LayerKind::Dense || kind == LayerKind::BatchNorm; }
  // The convolution of n samples (conv only).
  Conv2d conv(std::size_t n) const;
};

struct ModelPlan {
  std::vector<LayerPlan> layers;          // the nodes, in execution order
  std::vector<std::size_t> tensor_sizes;  // element count of every parameter tensor, in order
  std::vector<std::size_t> norm_channels; // channels of every batch-norm node, in order
  // [i]: the index of node i's first parameter tensor, so node i holds the tensors
  // [layer_tensors[i], layer_tensors[i + 1]); one entry more than layers.
  std::vector<std::size_t> layer_tensors;
  // The first node of every top-level layer of the spec, then layers.size(): the only places a
  // pipeline may cut (a residual block is one unit).
  std::vector<std::size_t> units;
  std::size_t parameter_count() const;
  std::size_t running_count() const;      // running mean and variance of every batch-norm node
  std::size_t classes() const { return layers.back().out.c; }
  Shape input() const { return layers.front().in; }
};

// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the first layer that does not fit.
ModelPlan plan_model(const ModelSpec& spec);

// He-uniform weights (bound sqrt(6 / fan_in)) and zero biases, gamma 1 and beta 0, reproducible
// from the seed; one vector per parameter tensor.
std::vector<std::vector<float>> initial_weights(const ModelPlan& plan, unsigned seed);

}  // namespace anycl::detail
