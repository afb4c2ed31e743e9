// Trainer checkpoints: stopping after k steps and resuming continues bitwise like a run that never
// stopped (weights and momentum restored; with batch norm, dropout, Adam and a cosine schedule,
// the running statistics, Adam's moments and the schedule's and dropout's position too); the file's CRC-32 is the zlib one (Python's zlib as
// the reference); truncated, corrupt, foreign, newer and mismatched files are clear errors that
// leave the trainer untouched.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "anycl/anycl.hpp"
#include "support.hpp"

namespace {

using anycl_test::contains;
using anycl_test::status_of;

anycl::ModelSpec tiny_model(std::size_t classes = 4) {
  anycl::ModelSpec m;
  m.channels = 1, m.height = 6, m.width = 6;
  m.layers = {anycl::ConvLayer{3, 3, 1}, anycl::MaxPoolLayer{2}, anycl::DenseLayer{classes}};
  return m;
}

constexpr std::size_t kBatch = 5, kSteps = 8, kSample = 36;

struct Batches {
  std::vector<float> x = anycl_test::random_values<float>(kSteps * kBatch * kSample, 91);
  std::vector<int> labels;
  Batches() {
    for (std::size_t i = 0; i < kSteps * kBatch; ++i) labels.push_back(int((i * 7 + 3) % 4));
  }
  float step(anycl::DataParallelTrainer& t, std::size_t s) const {
    return t.step(x.data() + s * kBatch * kSample, labels.data() + s * kBatch, kBatch);
  }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

anycl::TrainOptions options(unsigned seed = 1) {
  anycl::TrainOptions o;
  o.batch = kBatch;
  o.seed = seed;
  return o;
}

// Batch norm (running statistics), a residual block, dropout (the seed and step decide its masks).
anycl::ModelSpec norm_model() {
  using namespace anycl;
  ModelSpec m;
  m.channels = 1, m.height = 6, m.width = 6;
  m.layers = {ConvLayer{4, 3, 1, 1, 1, false}, BatchNormLayer{0.1f, 1e-5f, true},
              ResidualBlock{{ConvLayer{4, 3, 1, 1, 2, false}, BatchNormLayer{}}, {}, true},
              ConvLayer{6, 3, 1, 2, 1, false}, BatchNormLayer{}, DropoutLayer{0.3f}, GlobalAvgPoolLayer{},
              DenseLayer{4}};
  return m;
}

anycl::TrainOptions adam_cosine(unsigned seed = 1) {
  anycl::TrainOptions o = options(seed);
  o.optimizer = anycl::Optimizer::Adam, o.weight_decay = 0.01f, o.lr = 0.01f;
  o.schedule = anycl::LrSchedule::Cosine, o.total_steps = kSteps;
  return o;
}

// On the device GENERATE picks: an uninterrupted run of kSteps steps (`whole`, its `losses`),
// and `dir / "run.ckpt"`, the state of another trainer of the same model and options after its
// first kResumeAt steps (checked to be the same steps).
constexpr std::size_t kResumeAt = 3;
struct ResumeRun {
  std::string spec = GENERATE(as<std::string>{}, "cpu", "cpu/2");
  anycl_test::TempDir dir{"anycl-ckpt"};
  anycl::Runtime rt{spec};
  Batches b;
  anycl::DataParallelTrainer whole;
  std::vector<float> losses;

  ResumeRun(const anycl::ModelSpec& m, const anycl::TrainOptions& o) : whole(rt, m, o) {
    for (std::size_t s = 0; s < kSteps; ++s) losses.push_back(b.step(whole, s));
    anycl::DataParallelTrainer first(rt, m, o);
    for (std::size_t s = 0; s < kResumeAt; ++s) REQUIRE(b.step(first, s) == losses[s]);
    first.save_checkpoint(dir / "run.ckpt");
  }
};

}  // namespace

TEST_CASE("checkpoint: batch norm, dropout, Adam and a cosine schedule resume bitwise", "[checkpoint]") {
  ResumeRun run(norm_model(), adam_cosine());
  INFO("device " << run.spec);
  const std::size_t k = kResumeAt;
  anycl::DataParallelTrainer resumed(run.rt, norm_model(), adam_cosine());
  resumed.set_weights(std::vector<float>(resumed.parameter_count(), 0.5f));
  resumed.load_checkpoint(run.dir / "run.ckpt");
  CHECK(resumed.learning_rate() != adam_cosine().lr);  // the schedule's position came back
  for (std::size_t s = k; s < kSteps; ++s) CHECK(run.b.step(resumed, s) == run.losses[s]);
  CHECK(resumed.weights() == run.whole.weights());
  CHECK(resumed.running_stats() == run.whole.running_stats());
  const std::vector<float> x(run.b.x.begin(), run.b.x.begin() + kBatch * kSample);
  CHECK(resumed.logits(x.data(), kBatch) == run.whole.logits(x.data(), kBatch));  // evaluation: running statistics

  // The comparisons can fail: without Adam's moments (set_weights clears them) the run differs.
  anycl::DataParallelTrainer cleared(run.rt, norm_model(), adam_cosine());
  cleared.load_checkpoint(run.dir / "run.ckpt");
  cleared.set_weights(cleared.weights());
  for (std::size_t s = k; s < kSteps; ++s) run.b.step(cleared, s);
  CHECK(cleared.weights() != run.whole.weights());
  // A checkpoint of other optimizer settings (or another dropout seed) is refused.
  anycl::DataParallelTrainer other_seed(run.rt, norm_model(), adam_cosine(2));
  std::string msg;
  CHECK(status_of([&] { other_seed.load_checkpoint(run.dir / "run.ckpt"); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "dropout-seed"));
  anycl::DataParallelTrainer sgd(run.rt, norm_model(), options());
  CHECK(status_of([&] { sgd.load_checkpoint(run.dir / "run.ckpt"); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  // A setting the run does not use (Step's step_size under Cosine) does not refuse it.
  anycl::TrainOptions unused = adam_cosine();
  unused.step_size = 17;
  anycl::DataParallelTrainer loads(run.rt, norm_model(), unused);
  CHECK(status_of([&] { loads.load_checkpoint(run.dir / "run.ckpt"); }, &msg) == ANYCL_SUCCESS);
}

TEST_CASE("checkpoint: a run stopped after 3 steps and resumed matches the uninterrupted run bitwise",
          "[checkpoint]") {
  ResumeRun run(tiny_model(), options());
  INFO("device " << run.spec);
  const std::size_t k = kResumeAt;
  // Another seed: every weight the resumed run uses must come from the file.
  anycl::DataParallelTrainer resumed(run.rt, tiny_model(), options(7));
  REQUIRE(resumed.weights() != run.whole.weights());
  resumed.load_checkpoint(run.dir / "run.ckpt");
  CHECK(resumed.steps() == k);
  for (std::size_t s = k; s < kSteps; ++s) CHECK(run.b.step(resumed, s) == run.losses[s]);
  CHECK(resumed.steps() == kSteps);
  CHECK(resumed.weights() == run.whole.weights());
  for (std::size_t r = 1; r < resumed.replicas(); ++r) CHECK(resumed.weights(r) == run.whole.weights(0));

  // Without the momentum (set_weights clears it) the same weights continue differently: the
  // comparison above can fail.
  anycl::DataParallelTrainer no_momentum(run.rt, tiny_model(), options());
  for (std::size_t s = 0; s < k; ++s) run.b.step(no_momentum, s);
  no_momentum.set_weights(no_momentum.weights());
  for (std::size_t s = k; s < kSteps; ++s) run.b.step(no_momentum, s);
  CHECK(no_momentum.weights() != run.whole.weights());
}

TEST_CASE("checkpoint: the layout and CRC-32 agree with an independent reader", "[checkpoint]") {
  anycl_test::TempDir dir("anycl-ckpt");
  anycl::Runtime rt("cpu");
  anycl::DataParallelTrainer t(rt, tiny_model(), options());
  const Batches b;
  b.step(t, 0), b.step(t, 1);
  t.save_checkpoint(dir / "a.ckpt");
  const std::string bytes = read_bytes(dir / "a.ckpt");
  // magic 8 + version 4 + 4 + hash 8 + steps 8 + lr 4 + momentum 4 + settings count 8 + 11
  // settings of 8 + tensor count 8, then per tensor 8 + 4 * elements, twice (weights and
  // momentum), then the CRC 4.
  const std::size_t tensors = 4, header = 48 + 8 + 11 * 8;
  REQUIRE(bytes.size() == header + 2 * (tensors * 8 + 4 * t.parameter_count()) + 4);
  CHECK(bytes.substr(0, 8) == "ANYCLCKP");
  CHECK(bytes[8] == 2);
  CHECK(bytes[24] == 2);  // the step count
  CHECK(bytes[40] == 11);  // the settings count
  // The weights follow the header as the trainer reports them.
  float first_weight;
  std::memcpy(&first_weight, bytes.data() + header + 8, 4);
  CHECK(first_weight == t.weights()[0]);
  const anycl_test::ProcessResult r = anycl_test::run_process(
      {ANYCL_TEST_PYTHON, "-c",
       "import sys, zlib; d = open(sys.argv[1], 'rb').read(); "
       "print(int.from_bytes(d[-4:], 'little') == zlib.crc32(d[:-4]))",
       dir / "a.ckpt"});
  INFO(r.out << r.err);
  CHECK(r.out == "True\n");
  // No temporary file is left beside it.
  CHECK(anycl_test::run_process({"/bin/sh", "-c", "ls " + (dir / "") + " | wc -l"}).out == "1\n");
}

TEST_CASE("checkpoint: truncated corrupt foreign and mismatched files are clear errors", "[checkpoint]") {
  anycl_test::TempDir dir("anycl-ckpt");
  anycl::Runtime rt("cpu");
  anycl::DataParallelTrainer t(rt, tiny_model(), options());
  const Batches b;
  b.step(t, 0);
  t.save_checkpoint(dir / "good.ckpt");
  const std::string good = read_bytes(dir / "good.ckpt");
  b.step(t, 1);
  const std::vector<float> before = t.weights();
  const std::size_t steps_before = t.steps();

  auto refused = [&](const std::string& name, const std::string& bytes, const std::string& why) {
    write_bytes(dir / name, bytes);
    std::string msg;
    INFO(name);
    CHECK(status_of([&] { t.load_checkpoint(dir / name); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
    CHECK(contains(msg, name));
    CHECK(contains(msg, why));
    CHECK(t.weights() == before);
    CHECK(t.steps() == steps_before);
  };
  refused("half.ckpt", good.substr(0, good.size() / 2), "truncated");
  refused("no-crc.ckpt", good.substr(0, good.size() - 2), "truncated");
  std::string flipped = good;
  flipped[good.size() - 8] ^= 0x10;  // inside the last momentum tensor
  refused("flipped.ckpt", flipped, "CRC-32");
  refused("foreign.ckpt", "anycl-digits 1 8 8 1500 297\n", "not an anycl checkpoint");
  refused("empty.ckpt", "", "not an anycl checkpoint");
  std::string newer = good;
  newer[8] = 3;
  refused("newer.ckpt", newer, "format version 3");

  anycl::DataParallelTrainer other_model(rt, tiny_model(5), options());
  other_model.save_checkpoint(dir / "other-model.ckpt");
  refused("other-model.ckpt", read_bytes(dir / "other-model.ckpt"), "another model");
  anycl::TrainOptions faster = options();
  faster.lr = 0.1f;
  anycl::DataParallelTrainer other_lr(rt, tiny_model(), faster);
  other_lr.save_checkpoint(dir / "other-lr.ckpt");
  refused("other-lr.ckpt", read_bytes(dir / "other-lr.ckpt"), "lr 0.1");

  std::string msg;
  CHECK(status_of([&] { t.load_checkpoint(dir / "missing.ckpt"); }, &msg) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "missing.ckpt"));
  CHECK(status_of([&] { t.save_checkpoint(dir / "no-such-folder/x.ckpt"); }, &msg) ==
        ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(msg, "x.ckpt"));
  // The good file still loads, and a failed save left no file behind.
  t.load_checkpoint(dir / "good.ckpt");
  CHECK(t.steps() == 1);
}
