// Cutting a model's layers into the contiguous stages of a pipeline, one per device, balanced by
// each layer's estimated cost with each stage's parameters bounded.
#pragma once

#include <vector>

#include "train/model_plan.hpp"

namespace anycl::detail {

// A layer's estimated time for one forward and backward pass of `samples` samples, in
// flop-equivalents: its arithmetic plus kFlopsPerByte times its memory traffic (activations in
// and out, parameters and their gradients).
double layer_cost(const LayerPlan& layer, std::size_t parameters, std::size_t samples);

// stages + 1 node indices, each the first node of a top-level layer (plan.units: a residual block
// is never cut): stage s runs the nodes [bounds[s], bounds[s + 1]). Minimises the
// largest stage cost (layer_cost for `samples` per micro-batch) among the cuts whose every stage
// holds at most total / stages + the largest layer's parameters; ties go to the smaller largest
// parameter share. Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) for more stages than layers.
std::vector<std::size_t> partition_layers(const ModelPlan& plan, std::size_t stages, std::size_t samples);

// The parameters (elements) of layers [first, last).
std::size_t range_parameters(const ModelPlan& plan, std::size_t first, std::size_t last);

}  // namespace anycl::detail
