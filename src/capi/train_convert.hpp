// The C trainer's descriptions as the C++ API's types (src/capi/train_model_c.cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"

namespace anycl::capi {

// For each layer, the path DataParallelTrainer names it by ("layer 2 (residual block) body
// layer 0") and its index in the C list.
using ModelPaths = std::vector<std::pair<std::string, std::size_t>>;

// ANYCL_ERROR_INVALID_ARGUMENT naming model->layers[i] for a NULL or unversioned description,
// an unknown kind, unbalanced residual markers or a non-finite field; fills `paths`.
anycl::ModelSpec to_model(const anycl_model_desc* model, ModelPaths& paths);

// `message` plus the C index of the layer it names, when it names one of `paths`.
std::string with_c_index(const std::string& message, const ModelPaths& paths);

// NULL: the defaults. ANYCL_ERROR_INVALID_ARGUMENT for an unversioned struct, an unknown enum
// value or a non-finite float, naming the field.
anycl::TrainOptions to_options(const anycl_train_options* options);

}  // namespace anycl::capi
