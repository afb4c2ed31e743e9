// The C model description (a flat list with residual markers) as an anycl::ModelSpec, and the C
// training options as anycl::TrainOptions.
#include <cctype>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "capi/guard.hpp"
#include "capi/train_convert.hpp"

namespace anycl::capi {
namespace {

[[noreturn]] void refuse(const std::string& what) { throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, what); }

std::string at(std::size_t i) { return "anycl_trainer_create: model->layers[" + std::to_string(i) + "]"; }

// Reads the flat list into nested layer lists, recording for every C++ layer path (as
// DataParallelTrainer names layers in its errors) the C index it came from.
class FlatReader {
 public:
  FlatReader(const anycl_model_desc& m) : model_(m) {}

  std::vector<anycl::Layer> top_level(ModelPaths& paths) {
    paths_ = &paths;
    std::vector<anycl::Layer> layers = sequence("");
    if (next_ < model_.layer_count) {  // sequence() stops only at a marker
      refuse(at(next_) + ": " + (kind_of(next_) == ANYCL_LAYER_SHORTCUT ? "ANYCL_LAYER_SHORTCUT" : "ANYCL_LAYER_END_RESIDUAL") +
             " outside a residual block");
    }
    return layers;
  }

 private:
  const anycl_model_desc& model_;
  ModelPaths* paths_ = nullptr;
  std::size_t next_ = 0;
  std::vector<std::size_t> open_blocks_;  // the C index of each enclosing BEGIN_RESIDUAL

  int kind_of(std::size_t i) const { return from_c_enum<int>(layer(i).kind); }

  const anycl_layer& layer(std::size_t i) const {
    return *reinterpret_cast<const anycl_layer*>(reinterpret_cast<const char*>(model_.layers) + i * model_.layer_size);
  }

  // Layers up to the end of the list or the next SHORTCUT / END_RESIDUAL (not consumed).
  std::vector<anycl::Layer> sequence(const std::string& prefix) {
    std::vector<anycl::Layer> out;
    while (next_ < model_.layer_count) {
      const int kind = kind_of(next_);
      if (kind == ANYCL_LAYER_SHORTCUT || kind == ANYCL_LAYER_END_RESIDUAL) break;
      const std::string path = prefix + "layer " + std::to_string(out.size());
      paths_->emplace_back(path, next_);
      out.push_back(kind == ANYCL_LAYER_BEGIN_RESIDUAL ? block(path) : plain(layer(next_), next_));
      ++next_;
    }
    return out;
  }

  anycl::ResidualBlock block(const std::string& path) {
    const std::size_t begin = next_++;
    anycl::ResidualBlock b;
    b.relu = layer(begin).relu != 0;
    b.body = sequence(path + " (residual block) body ");
    if (next_ < model_.layer_count && kind_of(next_) == ANYCL_LAYER_SHORTCUT) {
      ++next_;
      b.shortcut = sequence(path + " (residual block) shortcut ");
      if (next_ < model_.layer_count && kind_of(next_) == ANYCL_LAYER_SHORTCUT)
        refuse(at(next_) + ": a second ANYCL_LAYER_SHORTCUT in the residual block of layers[" + std::to_string(begin) + "]");
    }
    if (next_ == model_.layer_count)
      refuse(at(begin) + ": ANYCL_LAYER_BEGIN_RESIDUAL has no matching ANYCL_LAYER_END_RESIDUAL");
    return b;  // next_ is at END_RESIDUAL; sequence() steps past it
  }

  static float finite(float v, std::size_t i, const char* field) {
    if (!std::isfinite(v)) refuse(at(i) + "." + field + " is not finite");
    return v;
  }

  static anycl::Layer plain(const anycl_layer& l, std::size_t i) {
    const bool relu = l.relu != 0;
    switch (from_c_enum<int>(l.kind)) {
      case ANYCL_LAYER_CONV: return anycl::ConvLayer{l.channels, l.kernel, l.pad, l.stride, l.groups, relu};
      case ANYCL_LAYER_MAX_POOL: return anycl::MaxPoolLayer{l.size};
      case ANYCL_LAYER_AVG_POOL: return anycl::AvgPoolLayer{l.size};
      case ANYCL_LAYER_GLOBAL_AVG_POOL: return anycl::GlobalAvgPoolLayer{};
      case ANYCL_LAYER_DENSE: return anycl::DenseLayer{l.units, relu};
      case ANYCL_LAYER_BATCH_NORM:
        return anycl::BatchNormLayer{finite(l.momentum, i, "momentum"), finite(l.eps, i, "eps"), relu};
      case ANYCL_LAYER_DROPOUT: return anycl::DropoutLayer{finite(l.rate, i, "rate")};
      default: refuse(at(i) + ".kind " + std::to_string(from_c_enum<int>(l.kind)) + " is not an anycl_layer_kind");
    }
  }
};

}  // namespace

anycl::ModelSpec to_model(const anycl_model_desc* m, ModelPaths& paths) {
  static const std::string fn = "anycl_trainer_create: ";
  if (!m) refuse(fn + "model is NULL");
  check_struct_size(fn + "model->struct_size", m->struct_size, sizeof(anycl_model_desc), sizeof(anycl_model_desc),
                    "anycl_model_desc", "anycl_model_desc_init");
  if (m->layer_size < sizeof(anycl_layer))
    refuse(fn + "model->layer_size " + std::to_string(m->layer_size) + " is less than sizeof(anycl_layer) " +
           std::to_string(sizeof(anycl_layer)) + "; call anycl_model_desc_init first");
  if (!m->layers && m->layer_count > 0) refuse(fn + "model->layers is NULL");
  anycl::ModelSpec spec;
  spec.channels = m->channels, spec.height = m->height, spec.width = m->width;
  spec.layers = FlatReader(*m).top_level(paths);
  return spec;
}

// The C index of the layer a DataParallelTrainer message names: the longest recorded path that
// occurs in it not followed by a digit ("layer 1" must not match "layer 12").
std::string with_c_index(const std::string& message, const ModelPaths& paths) {
  std::size_t best = 0, index = 0;
  for (const auto& [path, i] : paths) {
    for (std::size_t at = message.find(path); at != std::string::npos; at = message.find(path, at + 1)) {
      const std::size_t end = at + path.size();
      const bool whole = end == message.size() || !std::isdigit(static_cast<unsigned char>(message[end]));
      if (whole && path.size() > best) best = path.size(), index = i;
    }
  }
  if (best == 0) return message;
  return message + " (model->layers[" + std::to_string(index) + "])";
}

// The size of the first anycl_train_options: a later anycl.h appends fields, which a library reads
// only when struct_size covers them (see covers()), so callers built against an older header keep
// working and get the new fields' defaults.
constexpr std::size_t kFirstOptionsSize = offsetof(anycl_train_options, micro_batches) + sizeof(std::size_t);

template <typename Field>
bool covers(const anycl_train_options* o, const Field& field) {
  return std::size_t(reinterpret_cast<const char*>(&field) - reinterpret_cast<const char*>(o)) + sizeof(Field) <=
         o->struct_size;
}

anycl::TrainOptions to_options(const anycl_train_options* o) {
  static const std::string fn = "anycl_trainer_create: ";
  anycl::TrainOptions r;
  if (!o) return r;
  check_struct_size(fn + "options->struct_size", o->struct_size, kFirstOptionsSize, sizeof(anycl_train_options),
                    "anycl_train_options", "anycl_train_options_init");
  auto enum_in = [&](int value, int last, const char* field, const char* type) {
    if (value < 0 || value > last)
      refuse(fn + "options->" + field + " " + std::to_string(value) + " is not an " + type);
    return value;
  };
  auto finite = [&](float v, const char* field) {
    if (!std::isfinite(v)) refuse(fn + "options->" + field + " is not finite");
    return v;
  };
  r.batch = o->batch;
  r.lr = finite(o->lr, "lr"), r.momentum = finite(o->momentum, "momentum");
  r.seed = o->seed;
  r.allreduce = anycl::AllReduce(
      enum_in(from_c_enum<int>(o->allreduce), ANYCL_ALLREDUCE_HOST_STAGED, "allreduce", "anycl_allreduce"));
  r.optimizer = anycl::Optimizer(
      enum_in(from_c_enum<int>(o->optimizer), ANYCL_OPTIMIZER_ADAMW, "optimizer", "anycl_optimizer"));
  r.weight_decay = finite(o->weight_decay, "weight_decay");
  r.beta1 = finite(o->beta1, "beta1"), r.beta2 = finite(o->beta2, "beta2"), r.eps = finite(o->eps, "eps");
  r.schedule = anycl::LrSchedule(
      enum_in(from_c_enum<int>(o->schedule), ANYCL_LR_COSINE, "schedule", "anycl_lr_schedule"));
  r.step_size = o->step_size;
  r.gamma = finite(o->gamma, "gamma");
  r.total_steps = o->total_steps;
  r.min_lr = finite(o->min_lr, "min_lr");
  r.stages = o->stages, r.micro_batches = o->micro_batches;
  static_assert(sizeof(anycl_train_options) <= kFirstOptionsSize + alignof(anycl_train_options),
                "a field added to anycl_train_options is read here only `if (covers(o, o->field))`");
  return r;
}

static_assert(int(anycl::AllReduce::HostStaged) == ANYCL_ALLREDUCE_HOST_STAGED &&
                  int(anycl::Optimizer::AdamW) == ANYCL_OPTIMIZER_ADAMW &&
                  int(anycl::LrSchedule::Cosine) == ANYCL_LR_COSINE,
              "the C enums mirror the C++ ones");

}  // namespace anycl::capi

extern "C" {

void anycl_layer_init(anycl_layer* layer, anycl_layer_kind kind) {
  if (!layer) return;
  const anycl::ConvLayer conv;
  const anycl::BatchNormLayer norm;
  *layer = anycl_layer{};
  layer->kind = kind;
  layer->channels = conv.channels, layer->kernel = conv.kernel, layer->pad = conv.pad;
  layer->stride = conv.stride, layer->groups = conv.groups;
  layer->size = anycl::MaxPoolLayer{}.size;
  layer->units = anycl::DenseLayer{}.units;
  layer->momentum = norm.momentum, layer->eps = norm.eps;
  layer->rate = anycl::DropoutLayer{}.rate;
  switch (anycl::capi::from_c_enum<int>(kind)) {
    case ANYCL_LAYER_CONV: layer->relu = conv.relu; break;
    case ANYCL_LAYER_DENSE: layer->relu = anycl::DenseLayer{}.relu; break;
    case ANYCL_LAYER_BATCH_NORM: layer->relu = norm.relu; break;
    case ANYCL_LAYER_BEGIN_RESIDUAL: layer->relu = anycl::ResidualBlock{}.relu; break;
    default: break;
  }
}

void anycl_model_desc_init(anycl_model_desc* model) {
  if (!model) return;
  *model = anycl_model_desc{};
  model->struct_size = sizeof(anycl_model_desc);
  model->layer_size = sizeof(anycl_layer);
}

void anycl_train_options_init(anycl_train_options* options) {
  if (!options) return;
  const anycl::TrainOptions d;
  *options = anycl_train_options{};
  options->struct_size = sizeof(anycl_train_options);
  options->batch = d.batch;
  options->lr = d.lr, options->momentum = d.momentum;
  options->seed = d.seed;
  options->allreduce = anycl_allreduce(d.allreduce);
  options->optimizer = anycl_optimizer(d.optimizer);
  options->weight_decay = d.weight_decay;
  options->beta1 = d.beta1, options->beta2 = d.beta2, options->eps = d.eps;
  options->schedule = anycl_lr_schedule(d.schedule);
  options->step_size = d.step_size;
  options->gamma = d.gamma;
  options->total_steps = d.total_steps;
  options->min_lr = d.min_lr;
  options->stages = d.stages, options->micro_batches = d.micro_batches;
}

}  // extern "C"
