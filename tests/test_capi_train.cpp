// The trainer's C API (src/capi/train_c.cpp, train_model_c.cpp) against the C++ trainer it wraps:
// the same model, options, data and seed give bitwise the same losses, weights, gradient, logits,
// predictions, running statistics and learning rate (the C calls run the same code path); a
// checkpoint saved and loaded into a fresh C trainer continues bitwise; bad input is refused
// with a status and a message naming it, changing nothing. The C side is strict C99
// (test_capi_train_c.c).
#include <catch2/catch.hpp>

#include <vector>

#include "anycl/anycl.h"
#include "anycl/anycl.hpp"
#include "digits_training.hpp"
#include "support.hpp"

extern "C" {
int capi_train_create(anycl_runtime* rt, int model, size_t side, const anycl_train_options* o, anycl_trainer** out);
int capi_train_steps(anycl_trainer* t, const float* x, const int* labels, size_t sample, size_t batch, size_t first,
                     size_t last, float* losses);
int capi_train_resumed(anycl_runtime* rt, int model, size_t side, const anycl_train_options* o, const float* x,
                       const int* labels, size_t batch, size_t stop_at, size_t last, const char* path, float* losses,
                       anycl_trainer** out);
void capi_train_options_defaults(anycl_train_options* o);
void capi_layer_defaults(anycl_layer* l, int kind);
int capi_train_model_errors(anycl_runtime* rt);
int capi_train_option_errors(anycl_runtime* rt);
int capi_train_call_errors(anycl_runtime* rt, const float* x, const int* labels, size_t batch, const char* dir);
}

namespace {

constexpr int kSmallCnn = 0, kSmallResnet = 1;
constexpr std::size_t kSide = 8, kSample = kSide * kSide, kBatch = 12, kSteps = 6;

// kSteps batches of 8x8 images in [0, 1) with labels spread over the 10 classes.
struct Batches {
  std::vector<float> x = anycl_test::random_values<float>(kSteps * kBatch * kSample, 17);
  std::vector<int> labels;
  Batches() {
    for (float& v : x) v = v * 0.5f + 0.5f;
    for (std::size_t i = 0; i < kSteps * kBatch; ++i) labels.push_back(int((i * 7 + 3) % 10));
  }
};

// The C model's C++ twin: digits::small_cnn, or digits::small_resnet with average pooling and
// dropout before the classifier (test_capi_train_c.c builds the same list).
anycl::ModelSpec cxx_model(int model) {
  digits::Data shape;
  shape.height = shape.width = kSide;
  if (model == kSmallCnn) return digits::small_cnn(shape);
  anycl::ModelSpec m = digits::small_resnet(shape);
  m.layers.insert(m.layers.end() - 2, anycl::AvgPoolLayer{2});
  m.layers.insert(m.layers.end() - 1, anycl::DropoutLayer{0.25f});
  return m;
}

// The C options and their C++ twin: Adam with weight decay and a cosine schedule (the
// residual model), or SGD with a step schedule.
struct Options {
  anycl_train_options c;
  anycl::TrainOptions cxx;
  explicit Options(int model) {
    anycl_train_options_init(&c);
    c.batch = cxx.batch = kBatch;
    c.seed = cxx.seed = 5;
    c.weight_decay = cxx.weight_decay = 1e-3f;
    if (model == kSmallResnet) {
      c.optimizer = ANYCL_OPTIMIZER_ADAMW, cxx.optimizer = anycl::Optimizer::AdamW;
      c.lr = cxx.lr = 0.01f;
      c.beta1 = cxx.beta1 = 0.8f, c.beta2 = cxx.beta2 = 0.99f, c.eps = cxx.eps = 1e-7f;
      c.schedule = ANYCL_LR_COSINE, cxx.schedule = anycl::LrSchedule::Cosine;
      c.total_steps = cxx.total_steps = kSteps, c.min_lr = cxx.min_lr = 1e-3f;
    } else {
      c.momentum = cxx.momentum = 0.8f;
      c.schedule = ANYCL_LR_STEP, cxx.schedule = anycl::LrSchedule::Step;
      c.step_size = cxx.step_size = 2, c.gamma = cxx.gamma = 0.5f;
    }
  }
};

struct Runtime {
  anycl_runtime* rt = nullptr;
  explicit Runtime(const char* spec) { REQUIRE(anycl_runtime_create(spec, &rt) == ANYCL_SUCCESS); }
  ~Runtime() { anycl_runtime_destroy(rt); }
};

struct Trainer {
  anycl_trainer* t = nullptr;
  ~Trainer() { anycl_trainer_destroy(t); }
  std::size_t count(anycl_status (*query)(const anycl_trainer*, size_t*)) const {
    size_t n = 0;
    REQUIRE(query(t, &n) == ANYCL_SUCCESS);
    return n;
  }
  std::vector<float> weights(std::size_t replica = 0) const {
    std::vector<float> w(count(anycl_trainer_parameter_count));
    REQUIRE(anycl_trainer_get_weights(t, replica, w.data(), w.size()) == ANYCL_SUCCESS);
    return w;
  }
  std::vector<float> running_stats() const {
    std::vector<float> s(count(anycl_trainer_running_stats_count));
    REQUIRE(anycl_trainer_running_stats(t, s.data(), s.size()) == ANYCL_SUCCESS);
    return s;
  }
  float learning_rate() const {
    float lr = 0;
    REQUIRE(anycl_trainer_learning_rate(t, &lr) == ANYCL_SUCCESS);
    return lr;
  }
};

// Both trainers take the same steps; every loss, the weights of every replica, the running
// statistics and the learning rate agree bitwise.
void check_same_training(anycl::Runtime& rt, anycl_runtime* crt, int model) {
  const Batches b;
  const Options o(model);
  anycl::DataParallelTrainer cxx(rt, cxx_model(model), o.cxx);
  Trainer c;
  REQUIRE(capi_train_create(crt, model, kSide, &o.c, &c.t) == 0);
  REQUIRE(c.count(anycl_trainer_parameter_count) == cxx.parameter_count());
  REQUIRE(c.count(anycl_trainer_classes) == 10);
  REQUIRE(c.count(anycl_trainer_replicas) == cxx.replicas());
  REQUIRE(c.weights() == cxx.weights());  // the same initialisation from the seed
  std::vector<float> losses(kSteps);
  REQUIRE(capi_train_steps(c.t, b.x.data(), b.labels.data(), kSample, kBatch, 0, kSteps, losses.data()) == 0);
  for (std::size_t s = 0; s < kSteps; ++s) {
    INFO("step " << s);
    CHECK(losses[s] == cxx.step(b.x.data() + s * kBatch * kSample, b.labels.data() + s * kBatch, kBatch));
  }
  CHECK(losses.back() < losses.front());  // it learns: the same batches come back each epoch
  for (std::size_t r = 0; r < cxx.replicas(); ++r) CHECK(c.weights(r) == cxx.weights(r));
  CHECK(c.running_stats() == cxx.running_stats());
  CHECK(c.learning_rate() == cxx.learning_rate());
  CHECK(c.count(anycl_trainer_steps) == cxx.steps());
}

}  // namespace

TEST_CASE("C trainer: init functions hold the C++ defaults", "[capi][train]") {
  anycl_train_options o;
  capi_train_options_defaults(&o);
  const anycl::TrainOptions d;
  CHECK(o.struct_size == sizeof o);
  CHECK(o.batch == d.batch);
  CHECK(o.lr == d.lr);
  CHECK(o.momentum == d.momentum);
  CHECK(o.seed == d.seed);
  CHECK(int(o.allreduce) == int(d.allreduce));
  CHECK(int(o.optimizer) == int(d.optimizer));
  CHECK(o.weight_decay == d.weight_decay);
  CHECK((o.beta1 == d.beta1 && o.beta2 == d.beta2 && o.eps == d.eps));
  CHECK(int(o.schedule) == int(d.schedule));
  CHECK((o.step_size == d.step_size && o.gamma == d.gamma && o.total_steps == d.total_steps && o.min_lr == d.min_lr));
  CHECK((o.stages == d.stages && o.micro_batches == d.micro_batches));

  anycl_layer l;
  capi_layer_defaults(&l, ANYCL_LAYER_CONV);
  const anycl::ConvLayer conv;
  CHECK((l.kind == ANYCL_LAYER_CONV && l.channels == conv.channels && l.kernel == conv.kernel && l.pad == conv.pad &&
         l.stride == conv.stride && l.groups == conv.groups && (l.relu != 0) == conv.relu));
  capi_layer_defaults(&l, ANYCL_LAYER_BATCH_NORM);
  const anycl::BatchNormLayer bn;
  CHECK((l.momentum == bn.momentum && l.eps == bn.eps && (l.relu != 0) == bn.relu));
  capi_layer_defaults(&l, ANYCL_LAYER_DENSE);
  CHECK((l.units == anycl::DenseLayer{}.units && (l.relu != 0) == anycl::DenseLayer{}.relu));
  capi_layer_defaults(&l, ANYCL_LAYER_DROPOUT);
  CHECK(l.rate == anycl::DropoutLayer{}.rate);
  capi_layer_defaults(&l, ANYCL_LAYER_AVG_POOL);
  CHECK(l.size == anycl::AvgPoolLayer{}.size);
  capi_layer_defaults(&l, ANYCL_LAYER_BEGIN_RESIDUAL);
  CHECK((l.relu != 0) == anycl::ResidualBlock{}.relu);
}

TEST_CASE("C trainer: the small CNN trains bitwise as DataParallelTrainer", "[capi][train][opencl]") {
  const char* spec = GENERATE("cpu", "cpu/2");
  INFO("device " << spec);
  anycl::Runtime rt(spec);
  Runtime crt(spec);
  check_same_training(rt, crt.rt, kSmallCnn);
}

TEST_CASE("C trainer: the residual model (batch norm with dropout and AdamW on a cosine schedule) trains bitwise as C++",
          "[capi][train][opencl]") {
  const char* spec = GENERATE("cpu", "cpu/2");
  INFO("device " << spec);
  anycl::Runtime rt(spec);
  Runtime crt(spec);
  check_same_training(rt, crt.rt, kSmallResnet);
}

TEST_CASE("C trainer: gradient and logits and predict match C++", "[capi][train][opencl]") {
  const Batches b;
  const Options o(kSmallResnet);
  anycl::Runtime rt("cpu");
  Runtime crt("cpu");
  anycl::DataParallelTrainer cxx(rt, cxx_model(kSmallResnet), o.cxx);
  Trainer c;
  REQUIRE(capi_train_create(crt.rt, kSmallResnet, kSide, &o.c, &c.t) == 0);
  std::vector<float> losses(2);
  REQUIRE(capi_train_steps(c.t, b.x.data(), b.labels.data(), kSample, kBatch, 0, 2, losses.data()) == 0);
  for (std::size_t s = 0; s < 2; ++s) cxx.step(b.x.data() + s * kBatch * kSample, b.labels.data() + s * kBatch, kBatch);

  const float* x = b.x.data() + 2 * kBatch * kSample;
  const int* labels = b.labels.data() + 2 * kBatch;
  std::vector<float> grad(cxx.parameter_count()), cxx_grad;
  float loss = 0;
  REQUIRE(anycl_trainer_gradient(c.t, x, labels, kBatch, &loss, grad.data(), grad.size()) == ANYCL_SUCCESS);
  CHECK(loss == cxx.gradient(x, labels, kBatch, cxx_grad));
  CHECK(grad == cxx_grad);
  CHECK(c.count(anycl_trainer_steps) == 2);  // the gradient updates nothing

  const std::size_t many = 3 * kBatch + 5;  // more than a batch: predict runs in pieces
  std::vector<float> logits(many * 10);
  std::vector<int> classes(many);
  REQUIRE(anycl_trainer_logits(c.t, b.x.data(), many, logits.data()) == ANYCL_SUCCESS);
  REQUIRE(anycl_trainer_predict(c.t, b.x.data(), many, classes.data()) == ANYCL_SUCCESS);
  CHECK(logits == cxx.logits(b.x.data(), many));
  CHECK(classes == cxx.predict(b.x.data(), many));

  // set_weights from C: the C++ trainer's weights make the C trainer's logits the C++ ones.
  anycl::DataParallelTrainer other(rt, cxx_model(kSmallResnet), [&] { auto p = o.cxx; p.seed = 9; return p; }());
  const std::vector<float> w = other.weights();
  REQUIRE(w != c.weights());
  REQUIRE(anycl_trainer_set_weights(c.t, w.data(), w.size()) == ANYCL_SUCCESS);
  CHECK(c.weights() == w);
}

TEST_CASE("C trainer: a checkpoint loaded into a fresh trainer continues bitwise", "[capi][train][opencl]") {
  const int model = GENERATE(kSmallCnn, kSmallResnet);
  INFO("model " << model);
  const Batches b;
  const Options o(model);
  anycl::Runtime rt("cpu");
  Runtime crt("cpu");
  anycl::DataParallelTrainer whole(rt, cxx_model(model), o.cxx);
  anycl_test::TempDir dir("anycl-capi-train");
  const std::string path = dir / "run.ckpt";
  std::vector<float> losses(kSteps);
  Trainer resumed;
  REQUIRE(capi_train_resumed(crt.rt, model, kSide, &o.c, b.x.data(), b.labels.data(), kBatch, 2, kSteps, path.c_str(),
                             losses.data(), &resumed.t) == 0);
  for (std::size_t s = 0; s < kSteps; ++s) {
    INFO("step " << s);
    CHECK(losses[s] == whole.step(b.x.data() + s * kBatch * kSample, b.labels.data() + s * kBatch, kBatch));
  }
  CHECK(resumed.weights() == whole.weights());
  CHECK(resumed.running_stats() == whole.running_stats());
  CHECK(resumed.learning_rate() == whole.learning_rate());
}

TEST_CASE("C trainer: bad model descriptions and options are refused naming the layer or field", "[capi][train][opencl]") {
  Runtime crt("cpu");
  int failed = capi_train_model_errors(crt.rt);
  INFO("last error: " << anycl_last_error());
  CHECK(failed == 0);
  failed = capi_train_option_errors(crt.rt);
  CHECK(failed == 0);
}

TEST_CASE("C trainer: bad calls are refused naming the argument and change nothing", "[capi][train][opencl]") {
  const Batches b;
  Runtime crt("cpu");
  anycl_test::TempDir dir("anycl-capi-train");
  const int failed = capi_train_call_errors(crt.rt, b.x.data(), b.labels.data(), kBatch, dir.path().c_str());
  INFO("last error: " << anycl_last_error());
  CHECK(failed == 0);
}
