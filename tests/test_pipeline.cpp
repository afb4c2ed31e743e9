// Model-parallel and hybrid training (TrainOptions::stages, micro_batches): the same model, seed
// and global batch train as on one device. The reference is a DataParallelTrainer on one 1-core
// sub-device of the CPU (a runtime on the test's own context), the kind of device cpu/2 and cpu/4
// are made of, so both run the same kernels:
// - one micro-batch: every layer sees the batch it sees on one device, so the losses and weights
//   are bitwise those of one device (M = 2), or of two 1-core devices data-parallel (2 x 2);
// - several micro-batches: each stage sums its micro-batches' gradients, in another order than
//   one device's GEMMs and convolutions over the whole batch; float32 reassociation of sums of
//   at most 8 terms over 5 steps stays far below the 1e-4 (relative) the tests allow.
// Plus the stage cut's parameter bound, checkpoints across stage counts, and refused options.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "anycl/anycl.hpp"
#include "interop_support.hpp"
#include "support.hpp"

namespace {

using anycl_test::status_of;

constexpr std::size_t kBatch = 8, kSteps = 5, kSample = 64, kClasses = 5;

anycl::ModelSpec model() {
  anycl::ModelSpec m;
  m.channels = 1, m.height = 8, m.width = 8;
  m.layers = {anycl::ConvLayer{4, 3, 1}, anycl::MaxPoolLayer{2}, anycl::ConvLayer{8, 3, 1},
              anycl::DenseLayer{32, true}, anycl::DenseLayer{kClasses}};
  return m;
}

// The parameters of each layer of model(), counted from its shapes by hand.
const std::vector<std::size_t> kLayerParams = {4 * 1 * 9 + 4, 0, 8 * 4 * 9 + 8, 32 * 8 * 4 * 4 + 32, kClasses * 32 + kClasses};

anycl::TrainOptions options(std::size_t stages, std::size_t micro, unsigned seed = 1) {
  anycl::TrainOptions o;
  o.batch = kBatch;
  o.seed = seed;
  o.stages = stages;
  o.micro_batches = micro;
  return o;
}

struct Batches {
  std::vector<float> x = anycl_test::random_values<float>(kSteps * kBatch * kSample, 17);
  std::vector<int> labels;
  Batches() {
    for (std::size_t i = 0; i < kSteps * kBatch; ++i) labels.push_back(int((i * 7 + 3) % kClasses));
  }
  float step(anycl::Trainer& t, std::size_t s) const {
    return t.step(x.data() + s * kBatch * kSample, labels.data() + s * kBatch, kBatch);
  }
};

struct Run {
  std::vector<float> losses, weights;
};

Run train(anycl::Trainer& t, std::size_t steps = kSteps) {
  static const Batches b;
  Run r;
  for (std::size_t s = 0; s < steps; ++s) r.losses.push_back(b.step(t, s));
  for (std::size_t c = 1; c < t.replicas(); ++c) REQUIRE(t.weights(c) == t.weights(0));
  r.weights = t.weights();
  return r;
}

// `cores` 1-core sub-devices of the CPU in one context of the test's own, as one runtime.
class Cores {
 public:
  explicit Cores(std::size_t cores) {
    const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY, 1, 0};
    cl_uint n = 0;
    REQUIRE(clCreateSubDevices(anycl_test::cpu_device(), props, 0, nullptr, &n) == CL_SUCCESS);
    REQUIRE(n >= cores);
    subs_.resize(n);
    REQUIRE(clCreateSubDevices(anycl_test::cpu_device(), props, n, subs_.data(), nullptr) == CL_SUCCESS);
    cl_ = std::make_unique<anycl_test::CallerCl>(std::vector<cl_device_id>(subs_.begin(), subs_.begin() + long(cores)));
    rt_ = std::make_unique<anycl::Runtime>(cl_->context, cl_->queues, anycl_test::test_options());
  }
  ~Cores() {
    rt_.reset();
    cl_.reset();
    for (cl_device_id d : subs_) clReleaseDevice(d);
  }
  anycl::Runtime& rt() { return *rt_; }

 private:
  std::vector<cl_device_id> subs_;
  std::unique_ptr<anycl_test::CallerCl> cl_;
  std::unique_ptr<anycl::Runtime> rt_;
};

Run reference(std::size_t cores) {
  Cores c(cores);
  anycl::Trainer t(c.rt(), model(), options(1, 1));
  return train(t);
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float f : v) m = std::max(m, std::fabs(f));
  return m;
}

void check_close(const Run& got, const Run& want) {
  REQUIRE(got.losses.size() == want.losses.size());
  for (std::size_t s = 0; s < got.losses.size(); ++s) {
    INFO("step " << s << ": " << got.losses[s] << " vs " << want.losses[s]);
    CHECK(std::fabs(got.losses[s] - want.losses[s]) <= 1e-4f * std::fabs(want.losses[s]));
  }
  REQUIRE(got.weights.size() == want.weights.size());
  const float bound = 1e-4f * std::max(1.f, max_abs(want.weights));
  std::size_t off = 0;
  for (std::size_t i = 0; i < got.weights.size(); ++i)
    if (!(std::fabs(got.weights[i] - want.weights[i]) <= bound) && off++ < 3)
      UNSCOPED_INFO("weight " << i << ": " << got.weights[i] << " vs " << want.weights[i]);
  CHECK(off == 0);
}

// Stage s's parameter bytes, counted from kLayerParams over the trainer's cut.
std::size_t stage_bytes(const std::vector<std::size_t>& bounds, std::size_t s) {
  std::size_t n = 0;
  for (std::size_t l = bounds[s]; l < bounds[s + 1]; ++l) n += kLayerParams[l];
  return n * sizeof(float);
}

}  // namespace

TEST_CASE("Model-parallel on cpu/2: one micro-batch is bitwise one device and more stay within 1e-4", "[pipeline]") {
  const Run one = reference(1);
  anycl::Runtime rt("cpu/2");
  for (std::size_t micro : {1, 2, 4}) {
    INFO("2 stages, " << micro << " micro-batches");
    anycl::Trainer t(rt, model(), options(2, micro));
    REQUIRE(t.replicas() == 1);
    const Run got = train(t);
    if (micro == 1) {
      CHECK(got.losses == one.losses);
      CHECK(got.weights == one.weights);
    } else {
      check_close(got, one);
    }
  }
}

TEST_CASE("Model-parallel: each device holds only its stage's parameters", "[pipeline]") {
  anycl::Runtime rt("cpu/2");
  anycl::Trainer t(rt, model(), options(2, 2));
  const std::vector<std::size_t> bounds = t.stage_bounds();
  REQUIRE(bounds.size() == 3);
  CHECK(bounds.front() == 0);
  CHECK(bounds.back() == kLayerParams.size());
  CHECK(bounds[0] < bounds[1]);
  CHECK(bounds[1] < bounds[2]);
  std::size_t total = 0, largest = 0;
  for (std::size_t p : kLayerParams) total += p, largest = std::max(largest, p);
  CHECK(total == t.parameter_count());
  for (std::size_t d = 0; d < 2; ++d) {
    INFO("device " << d << " holds layers " << bounds[d] << ".." << bounds[d + 1]);
    CHECK(t.parameter_bytes(d) == stage_bytes(bounds, d));
    CHECK(t.parameter_bytes(d) <= (total / 2 + largest) * sizeof(float));
  }
  CHECK(t.parameter_bytes(0) + t.parameter_bytes(1) == total * sizeof(float));
  // Without stages every device holds the whole model.
  anycl::Trainer plain(rt, model(), options(1, 1));
  CHECK(plain.stage_bounds() == std::vector<std::size_t>{0, kLayerParams.size()});
  CHECK(plain.parameter_bytes(1) == total * sizeof(float));
}

TEST_CASE("Model-parallel: predictions match the gradient-free forward of one device", "[pipeline]") {
  anycl::Runtime rt("cpu/2");
  anycl::Trainer t(rt, model(), options(2, 4));
  Cores c(1);
  anycl::Trainer one(c.rt(), model(), options(1, 1));
  const std::vector<float> x = anycl_test::random_values<float>(19 * kSample, 5);  // pieces of 8, 8, 3
  const std::vector<float> got = t.logits(x.data(), 19), want = one.logits(x.data(), 19);
  REQUIRE(got.size() == 19 * kClasses);
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
  CHECK(t.predict(x.data(), 19) == one.predict(x.data(), 19));
}

TEST_CASE("Model-parallel: a checkpoint resumes bitwise and loads across stage counts", "[pipeline]") {
  anycl_test::TempDir dir("anycl-pipe-ckpt");
  anycl::Runtime rt("cpu/2");
  static const Batches b;
  anycl::Trainer whole(rt, model(), options(2, 2));
  std::vector<float> losses;
  for (std::size_t s = 0; s < kSteps; ++s) losses.push_back(b.step(whole, s));
  const std::size_t k = 2;
  {
    anycl::Trainer first(rt, model(), options(2, 2));
    for (std::size_t s = 0; s < k; ++s) REQUIRE(b.step(first, s) == losses[s]);
    first.save_checkpoint(dir / "pipe.ckpt");
  }
  anycl::Trainer resumed(rt, model(), options(2, 2, 7));
  resumed.load_checkpoint(dir / "pipe.ckpt");
  CHECK(resumed.steps() == k);
  for (std::size_t s = k; s < kSteps; ++s) CHECK(b.step(resumed, s) == losses[s]);
  CHECK(resumed.weights() == whole.weights());
  // The file holds the whole model in plan order: a trainer without stages takes it as is.
  anycl::Trainer plain(rt, model(), options(1, 1, 7));
  plain.load_checkpoint(dir / "pipe.ckpt");
  anycl::Trainer staged(rt, model(), options(2, 1, 9));
  staged.load_checkpoint(dir / "pipe.ckpt");
  CHECK(plain.weights() == staged.weights());
  CHECK(staged.steps() == k);
}

TEST_CASE("Model-parallel: options that do not fit are clear errors", "[pipeline]") {
  anycl::Runtime rt("cpu/2");
  std::string msg;
  CHECK(status_of([&] { anycl::Trainer(rt, model(), options(3, 1)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("stages 3 exceeds the runtime's 2 devices"));
  CHECK(status_of([&] { anycl::Trainer(rt, model(), options(2, 0)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("micro_batches is 0"));
  CHECK(status_of([&] { anycl::Trainer(rt, model(), options(0, 1)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("stages is 0"));
  CHECK(status_of([&] { anycl::Trainer(rt, model(), options(2, kBatch + 1)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("micro_batches 9 exceeds the batch 8"));
  anycl::ModelSpec one_layer = model();
  one_layer.layers = {anycl::DenseLayer{kClasses}};
  CHECK(status_of([&] { anycl::Trainer(rt, one_layer, options(2, 1)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("2 stages for a model of 1 layers"));
  anycl::Trainer t(rt, model(), options(2, 2));
  CHECK(status_of([&] { t.parameter_bytes(2); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(status_of([&] { t.weights(1); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
}

// Entry test_pipeline_cpu4: cpu/4 needs a 4-unit CPU device: POCL_MAX_PTHREAD_COUNT=4.
TEST_CASE("Hybrid 2 x 2 on cpu/4: bitwise two 1-core devices data-parallel, within 1e-4 of one", "[.cpu4]") {
  anycl::Runtime rt("cpu/4");
  REQUIRE(rt.device_count() == 4);
  const Run two = reference(2), one = reference(1);
  for (std::size_t micro : {1, 2}) {
    INFO("2 pipelines of 2 stages, " << micro << " micro-batches");
    anycl::Trainer t(rt, model(), options(2, micro));
    REQUIRE(t.replicas() == 2);
    const Run got = train(t);  // checks both pipelines' weights are bitwise equal
    if (micro == 1) {
      CHECK(got.losses == two.losses);
      CHECK(got.weights == two.weights);
    }
    check_close(got, one);
    for (std::size_t d = 0; d < 4; ++d) CHECK(t.parameter_bytes(d) == stage_bytes(t.stage_bounds(), d % 2));
  }
  std::string msg;
  CHECK(status_of([&] { anycl::Trainer(rt, model(), options(3, 1)); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(msg, Catch::Contains("does not divide the runtime's 4 devices"));
}

// Entry test_pipeline_two-platforms: POCL and Oclgrind share no context, so the activations and
// gradients go between the stages through the host.
TEST_CASE("Two platforms: host-staged transfers between the stages follow one device", "[.two-platforms]") {
  anycl::ModelSpec m;
  m.channels = 1, m.height = 6, m.width = 6;
  m.layers = {anycl::ConvLayer{3, 3, 1}, anycl::MaxPoolLayer{2}, anycl::DenseLayer{4}};
  anycl::TrainOptions o;
  o.batch = 5;
  const auto x = anycl_test::random_values<float>(3 * o.batch * 36, 80);
  const std::vector<int> labels{0, 1, 2, 3, 1, 2, 0, 3, 3, 2, 1, 0, 0, 0, 1};
  anycl::Runtime two("pocl,oclgrind"), one("pocl");
  REQUIRE(two.device_count() == 2);
  anycl::Trainer ref(one, m, o);
  o.stages = 2, o.micro_batches = 2;
  anycl::Trainer t(two, m, o);
  CHECK_FALSE(t.allreduce_on_device());
  for (std::size_t s = 0; s < 3; ++s) {
    const float a = t.step(x.data() + s * o.batch * 36, labels.data() + s * o.batch, o.batch);
    const float b = ref.step(x.data() + s * o.batch * 36, labels.data() + s * o.batch, o.batch);
    CHECK(std::fabs(a - b) <= 1e-4f * b);
  }
  check_close({{}, t.weights()}, {{}, ref.weights()});
}
