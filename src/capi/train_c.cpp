// The trainer in C: each call validates its C arguments, then calls DataParallelTrainer, which
// refuses bad input before it changes anything.
#include <algorithm>
#include <string>
#include <vector>

#include "capi/guard.hpp"
#include "capi/train_convert.hpp"

struct anycl_trainer {
  anycl::DataParallelTrainer trainer;
};

namespace {

[[noreturn]] void refuse(const std::string& what) { throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, what); }

anycl::DataParallelTrainer& trainer_or_throw(anycl_trainer* t, const char* fn) {
  if (!t) refuse(std::string(fn) + ": trainer is NULL");
  return t->trainer;
}

const anycl::DataParallelTrainer& trainer_or_throw(const anycl_trainer* t, const char* fn) {
  return trainer_or_throw(const_cast<anycl_trainer*>(t), fn);
}

template <typename T>
T& not_null(T* out, const char* fn, const char* name) {
  if (!out) refuse(std::string(fn) + ": " + name + " is NULL");
  return *out;
}

// `count` must be what the trainer holds: a C caller passes the length of its array.
void check_length(std::size_t count, std::size_t expected, const char* fn, const char* name, const char* what) {
  if (count != expected)
    refuse(std::string(fn) + ": " + name + " " + std::to_string(count) + " is not the " + what + " " +
           std::to_string(expected));
}

// Runs `query` (a DataParallelTrainer getter) and stores its result in *out.
template <typename T, typename Query>
anycl_status get(const anycl_trainer* t, T* out, const char* fn, const char* name, Query query) {
  return anycl::capi::guard([&] {
    const anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    T& result = not_null(out, fn, name);
    result = T(query(trainer));
  });
}

// Runs `call` (logits or predict) and copies the vector it returns to `out`.
template <typename T, typename Call>
anycl_status evaluate(anycl_trainer* t, T* out, const char* fn, const char* name, Call call) {
  return anycl::capi::guard([&] {
    anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    not_null(out, fn, name);
    const std::vector<T> result = call(trainer);
    std::copy(result.begin(), result.end(), out);
  });
}

}  // namespace

extern "C" {

anycl_status anycl_trainer_create(anycl_runtime* rt, const anycl_model_desc* model, const anycl_train_options* options,
                                  anycl_trainer** out) {
  static const char* const fn = "anycl_trainer_create";
  return anycl::capi::guard([&] {
    not_null(out, fn, "out") = nullptr;
    anycl::Runtime& r = anycl::capi::runtime_or_throw(rt, fn);
    anycl::capi::ModelPaths paths;
    const anycl::ModelSpec spec = anycl::capi::to_model(model, paths);
    const anycl::TrainOptions o = anycl::capi::to_options(options);
    try {
      *out = std::make_unique<anycl_trainer>(anycl_trainer{anycl::DataParallelTrainer(r, spec, o)}).release();
    } catch (const anycl::Error& e) {
      throw anycl::Error(e.status(), anycl::capi::with_c_index(std::string(fn) + ": " + e.what(), paths));
    }
  });
}

void anycl_trainer_destroy(anycl_trainer* trainer) { delete trainer; }

anycl_status anycl_trainer_step(anycl_trainer* t, const float* x, const int* labels, size_t count, float* loss) {
  return anycl::capi::guard([&] {
    const float l = trainer_or_throw(t, "anycl_trainer_step").step(x, labels, count);
    if (loss) *loss = l;
  });
}

anycl_status anycl_trainer_gradient(anycl_trainer* t, const float* x, const int* labels, size_t count, float* loss,
                                    float* grad, size_t grad_count) {
  static const char* const fn = "anycl_trainer_gradient";
  return anycl::capi::guard([&] {
    anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    not_null(grad, fn, "grad");
    check_length(grad_count, trainer.parameter_count(), fn, "grad_count", "parameter count");
    std::vector<float> g;
    const float l = trainer.gradient(x, labels, count, g);
    std::copy(g.begin(), g.end(), grad);
    if (loss) *loss = l;
  });
}

anycl_status anycl_trainer_logits(anycl_trainer* t, const float* x, size_t count, float* logits) {
  return evaluate(t, logits, "anycl_trainer_logits", "logits",
                  [&](anycl::DataParallelTrainer& tr) { return tr.logits(x, count); });
}

anycl_status anycl_trainer_predict(anycl_trainer* t, const float* x, size_t count, int* classes) {
  return evaluate(t, classes, "anycl_trainer_predict", "classes",
                  [&](anycl::DataParallelTrainer& tr) { return tr.predict(x, count); });
}

anycl_status anycl_trainer_get_weights(const anycl_trainer* t, size_t replica, float* weights, size_t count) {
  static const char* const fn = "anycl_trainer_get_weights";
  return anycl::capi::guard([&] {
    const anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    not_null(weights, fn, "weights");
    check_length(count, trainer.parameter_count(), fn, "count", "parameter count");
    const std::vector<float> w = trainer.weights(replica);
    std::copy(w.begin(), w.end(), weights);
  });
}

anycl_status anycl_trainer_set_weights(anycl_trainer* t, const float* weights, size_t count) {
  static const char* const fn = "anycl_trainer_set_weights";
  return anycl::capi::guard([&] {
    anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    not_null(weights, fn, "weights");
    check_length(count, trainer.parameter_count(), fn, "count", "parameter count");
    trainer.set_weights(std::vector<float>(weights, weights + count));
  });
}

anycl_status anycl_trainer_running_stats(const anycl_trainer* t, float* stats, size_t count) {
  static const char* const fn = "anycl_trainer_running_stats";
  return anycl::capi::guard([&] {
    const std::vector<float> s = trainer_or_throw(t, fn).running_stats();
    if (!stats && count > 0) refuse(std::string(fn) + ": stats is NULL");
    check_length(count, s.size(), fn, "count", "running statistics count");
    std::copy(s.begin(), s.end(), stats);
  });
}

anycl_status anycl_trainer_running_stats_count(const anycl_trainer* t, size_t* count) {
  return get(t, count, "anycl_trainer_running_stats_count", "count",
             [](const anycl::DataParallelTrainer& tr) { return tr.running_stats().size(); });
}

anycl_status anycl_trainer_parameter_count(const anycl_trainer* t, size_t* count) {
  return get(t, count, "anycl_trainer_parameter_count", "count",
             [](const anycl::DataParallelTrainer& tr) { return tr.parameter_count(); });
}

anycl_status anycl_trainer_classes(const anycl_trainer* t, size_t* classes) {
  return get(t, classes, "anycl_trainer_classes", "classes", [](const anycl::DataParallelTrainer& tr) { return tr.classes(); });
}

anycl_status anycl_trainer_replicas(const anycl_trainer* t, size_t* replicas) {
  return get(t, replicas, "anycl_trainer_replicas", "replicas", [](const anycl::DataParallelTrainer& tr) { return tr.replicas(); });
}

anycl_status anycl_trainer_steps(const anycl_trainer* t, size_t* steps) {
  return get(t, steps, "anycl_trainer_steps", "steps", [](const anycl::DataParallelTrainer& tr) { return tr.steps(); });
}

anycl_status anycl_trainer_learning_rate(const anycl_trainer* t, float* lr) {
  return get(t, lr, "anycl_trainer_learning_rate", "lr",
             [](const anycl::DataParallelTrainer& tr) { return tr.learning_rate(); });
}

anycl_status anycl_trainer_save_checkpoint(const anycl_trainer* t, const char* path) {
  static const char* const fn = "anycl_trainer_save_checkpoint";
  return anycl::capi::guard([&] {
    const anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    if (!path) refuse(std::string(fn) + ": path is NULL");
    trainer.save_checkpoint(path);
  });
}

anycl_status anycl_trainer_load_checkpoint(anycl_trainer* t, const char* path) {
  static const char* const fn = "anycl_trainer_load_checkpoint";
  return anycl::capi::guard([&] {
    anycl::DataParallelTrainer& trainer = trainer_or_throw(t, fn);
    if (!path) refuse(std::string(fn) + ": path is NULL");
    trainer.load_checkpoint(path);
  });
}

}  // extern "C"
