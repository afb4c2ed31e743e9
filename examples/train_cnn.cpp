// Trains a small CNN or ResNet on the 8x8 handwritten digits with anycl's data-parallel trainer, on one
// process or on several MPI ranks (--mpi, with mpirun), and prints per epoch the loss, the test
// accuracy and the training throughput.
//
//   /usr/bin/python3 scripts/export_digits.py digits.txt
//   train_cnn --data digits.txt --device cpu/2 [--model cnn|resnet|wide] [--dropout RATE] [--epochs 10] [--steps N]
//             [--batch 32] [--lr 0.05] [--momentum 0.9] [--optimizer sgd|adam|adamw]
//             [--weight-decay X] [--schedule constant|cosine|step] [--seed 1] [--allreduce auto|device|host] [--print-steps]
//             [--checkpoint FILE] [--resume FILE] [--json FILE] [--stages M] [--micro-batches N]
//   mpirun -np 2 train_cnn --mpi [--mpi-timeout S] [--bucket-kb N] [--fail-rank R --fail-step K
//             --fail-how kill|hang|throw] ...
//
// --batch is the global batch; with --mpi every rank feeds its shard of it. --stages cuts the
// model into M pipeline stages over the devices (a multiple of M: hybrid), each batch flowing
// through them in N micro-batches (docs/training.md); --model wide is a 1.6M-parameter model;
// --dropout puts a dropout layer before the model's last layer. --checkpoint writes
// the trainer's state after every epoch, --resume continues from such a file. --fail-* make rank
// R die, hang or fail its step K (the tests of failures across ranks).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "anycl/anycl.hpp"
#include "digits_training.hpp"
#ifdef ANYCL_HAVE_MPI
#include "anycl/mpi.hpp"
#endif

namespace {

struct Args {
  std::string device, data = "digits.txt", allreduce = "auto", checkpoint, resume, json, fail_how;
  std::string model = "cnn", optimizer = "sgd", schedule = "constant";
  int epochs = 10;
  std::size_t steps = SIZE_MAX, fail_rank = SIZE_MAX, fail_step = 0;
  bool mpi = false, print_steps = false;
  double mpi_timeout = 25;
  float dropout = 0;
  anycl::TrainOptions options;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "train_cnn: %s\nusage: train_cnn --data FILE [--device SPEC] [--model cnn|resnet|wide] [--dropout RATE] [--epochs N] "
               "[--steps N] "
               "[--batch N] [--lr X] [--momentum X] [--optimizer sgd|adam|adamw] [--weight-decay X] "
               "[--schedule constant|cosine|step] [--seed N] [--allreduce auto|device|host] [--print-steps] "
               "[--checkpoint FILE] [--resume FILE] [--json FILE] [--stages M] [--micro-batches N] [--mpi] [--mpi-timeout S] "
               "[--bucket-kb N] "
               "[--fail-rank R --fail-step K --fail-how kill|hang|throw]\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "--mpi" || opt == "--print-steps") {
      (opt == "--mpi" ? a.mpi : a.print_steps) = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + opt).c_str());
    const char* v = argv[++i];
    if (opt == "--device") a.device = v;
    else if (opt == "--data") a.data = v;
    else if (opt == "--epochs") a.epochs = std::atoi(v);
    else if (opt == "--steps") a.steps = std::size_t(std::atol(v));
    else if (opt == "--batch") a.options.batch = std::size_t(std::atol(v));
    else if (opt == "--lr") a.options.lr = std::strtof(v, nullptr);
    else if (opt == "--momentum") a.options.momentum = std::strtof(v, nullptr);
    else if (opt == "--seed") a.options.seed = unsigned(std::atol(v));
    else if (opt == "--model") a.model = v;
    else if (opt == "--dropout") a.dropout = std::strtof(v, nullptr);
    else if (opt == "--optimizer") a.optimizer = v;
    else if (opt == "--weight-decay") a.options.weight_decay = std::strtof(v, nullptr);
    else if (opt == "--schedule") a.schedule = v;
    else if (opt == "--allreduce") a.allreduce = v;
    else if (opt == "--checkpoint") a.checkpoint = v;
    else if (opt == "--resume") a.resume = v;
    else if (opt == "--json") a.json = v;
    else if (opt == "--model") a.model = v;
    else if (opt == "--stages") a.options.stages = std::size_t(std::atol(v));
    else if (opt == "--micro-batches") a.options.micro_batches = std::size_t(std::atol(v));
    else if (opt == "--mpi-timeout") a.mpi_timeout = std::atof(v);
    else if (opt == "--bucket-kb") a.options.bucket_bytes = std::size_t(std::atol(v)) * 1024;
    else if (opt == "--fail-rank") a.fail_rank = std::size_t(std::atol(v));
    else if (opt == "--fail-step") a.fail_step = std::size_t(std::atol(v));
    else if (opt == "--fail-how") a.fail_how = v;
    else usage(("unknown option " + opt).c_str());
  }
  if (a.epochs < 1) usage("--epochs must be positive");
  if (a.allreduce == "device") a.options.allreduce = anycl::AllReduce::OnDevice;
  else if (a.allreduce == "host") a.options.allreduce = anycl::AllReduce::HostStaged;
  else if (a.allreduce != "auto") usage("--allreduce takes auto, device or host");
  if (a.model != "cnn" && a.model != "resnet" && a.model != "wide") usage("--model takes cnn, resnet or wide");
  if (!(a.dropout >= 0 && a.dropout < 1)) usage("--dropout takes a rate in [0, 1)");
  if (a.optimizer == "adam") a.options.optimizer = anycl::Optimizer::Adam;
  else if (a.optimizer == "adamw") a.options.optimizer = anycl::Optimizer::AdamW;
  else if (a.optimizer != "sgd") usage("--optimizer takes sgd, adam or adamw");
  if (a.schedule == "cosine") a.options.schedule = anycl::LrSchedule::Cosine;
  else if (a.schedule == "step") a.options.schedule = anycl::LrSchedule::Step;
  else if (a.schedule != "constant") usage("--schedule takes constant, cosine or step");
  if (!a.fail_how.empty() && a.fail_how != "kill" && a.fail_how != "hang" && a.fail_how != "throw")
    usage("--fail-how takes kill, hang or throw");
#ifndef ANYCL_HAVE_MPI
  if (a.mpi) usage("--mpi: this build has no MPI (configure with libopenmpi-dev installed)");
#endif
  return a;
}

// Before the step numbered `fail_step` (1-based) on rank `fail_rank`: die, hang, or hand the
// trainer a label it refuses, so that rank's step throws.
void inject_fault(const Args& a, std::size_t rank, std::size_t next_step, std::vector<int>& labels) {
  if (rank != a.fail_rank || next_step != a.fail_step) return;
  // The wall-clock time lets a test measure how long the other ranks take to stop.
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::fprintf(stderr, "train_cnn (rank %zu): injecting '%s' at step %zu at %.3f\n", rank, a.fail_how.c_str(),
               next_step, now);
  std::fflush(stderr);
  if (a.fail_how == "kill") std::raise(SIGKILL);
  while (a.fail_how == "hang") std::this_thread::sleep_for(std::chrono::seconds(1));
  labels.front() = 1000;
}

// FNV-1a over the weights, then the batch-norm running statistics.
std::uint64_t weights_checksum(const anycl::DataParallelTrainer& t) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::vector<float>& w : {t.weights(), t.running_stats()}) {
    const auto* p = reinterpret_cast<const unsigned char*>(w.data());
    for (std::size_t i = 0; i < w.size() * sizeof(float); ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  return h;
}

anycl::ModelSpec chosen_model(const Args& args, const digits::Data& data) {
  anycl::ModelSpec m = args.model == "resnet" ? digits::small_resnet(data)
                       : args.model == "wide" ? digits::wide_cnn(data)
                                              : digits::small_cnn(data);
  if (args.dropout > 0) m.layers.insert(m.layers.end() - 1, anycl::DropoutLayer{args.dropout});
  return m;
}

// Batches of an epoch that train_epoch steps on (a last one smaller than the rank count is skipped).
std::size_t steps_per_epoch(std::size_t samples, std::size_t batch, std::size_t ranks) {
  return samples / batch + (samples % batch >= ranks ? 1 : 0);
}

struct Summary {
  double seconds = 0, images = 0, loss = 0, accuracy = 0;
};

void write_json(const Args& a, const Summary& s, std::size_t ranks, std::size_t devices) {
  FILE* f = std::fopen(a.json.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + a.json);
  std::fprintf(f,
               "{\"benchmark\": \"train_cnn\", \"ranks\": %zu, \"devices_per_rank\": %zu, \"batch\": %zu, "
               "\"epochs\": %d, \"images\": %.0f, \"seconds\": %.4f, \"images_per_second\": %.1f, "
               "\"final_loss\": %.6f, \"test_accuracy\": %.4f, \"model\": \"%s\", \"stages\": %zu, "
               "\"micro_batches\": %zu, \"bucket_bytes\": %zu}\n",
               ranks, devices, a.options.batch, a.epochs, s.images, s.seconds, s.images / s.seconds, s.loss, s.accuracy,
               a.model.c_str(), a.options.stages, a.options.micro_batches, a.options.bucket_bytes);
  std::fclose(f);
}

void train(const Args& args, anycl::ProcessGroup* group) {
  const digits::Shard shard{group ? group->rank() : 0, group ? group->size() : 1};
  const bool chatty = shard.rank == 0;
  const digits::Data data = digits::load(args.data);
  anycl::Runtime rt(args.device);
  anycl::TrainOptions options = args.options;
  options.processes = group;
  options.batch = (args.options.batch + shard.ranks - 1) / shard.ranks;  // this rank's largest shard
  const std::size_t per_epoch = steps_per_epoch(data.train.count(), args.options.batch, shard.ranks);
  // Cosine decays over the whole run; step multiplies the lr by gamma (0.1) every third of it.
  options.total_steps = per_epoch * std::size_t(args.epochs);
  options.step_size = std::max<std::size_t>(1, options.total_steps / 3);
  anycl::DataParallelTrainer trainer(rt, chosen_model(args, data), options);
  int first_epoch = 1;
  std::mt19937 rng(args.options.seed);
  if (!args.resume.empty()) {
    trainer.load_checkpoint(args.resume);
    if (trainer.steps() % per_epoch != 0)
      throw std::runtime_error(args.resume + " was not written at the end of an epoch of this batch");
    first_epoch = int(trainer.steps() / per_epoch) + 1;
    for (int e = 1; e < first_epoch; ++e) digits::epoch_order(data.train.count(), rng);  // the epochs done
  }
  if (chatty) {
    std::printf("%zu rank(s) x %zu replicas (all-reduce %s), %zu parameters, %zu train / %zu test images, batch %zu\n",
                shard.ranks, trainer.replicas(), trainer.allreduce_on_device() ? "on device" : "host-staged",
                trainer.parameter_count(), data.train.count(), data.test.count(), args.options.batch);
    for (std::size_t d = 0; d < rt.device_count(); ++d) std::printf("  device %zu: %s\n", d, rt.device(d).name.c_str());
    const std::vector<std::size_t> bounds = trainer.stage_bounds();
    for (std::size_t s = 0; s + 1 < bounds.size() && bounds.size() > 2; ++s)
      std::printf("  stage %zu: layers %zu..%zu, %zu parameter bytes on device %zu\n", s, bounds[s], bounds[s + 1] - 1,
                  trainer.parameter_bytes(s), s);
    if (first_epoch > 1) std::printf("resumed from %s at step %zu\n", args.resume.c_str(), trainer.steps());
  }
  digits::StepHooks hooks;
  hooks.before = [&](std::vector<int>& labels) { inject_fault(args, shard.rank, trainer.steps() + 1, labels); };
  hooks.after = [&](float loss) {
    if (chatty && args.print_steps) std::printf("step %zu loss %.9g\n", trainer.steps(), double(loss));
  };
  Summary sum;
  for (int e = first_epoch; e <= args.epochs && trainer.steps() < args.steps; ++e) {
    const std::size_t before = trainer.steps();
    const auto t0 = std::chrono::steady_clock::now();
    sum.loss = digits::train_epoch(trainer, data.train, args.options.batch, rng, shard, args.steps - before, hooks);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double images = double(std::min(data.train.count(), (trainer.steps() - before) * args.options.batch));
    sum.seconds += seconds, sum.images += images;
    sum.accuracy = digits::accuracy(trainer, data.test);
    if (chatty) {
      std::printf("epoch %2d  loss %.5f  test accuracy %.2f%%  %.0f images/s  lr %.4g\n", e, sum.loss,
                  100 * sum.accuracy, images / seconds, double(trainer.learning_rate()));
      std::fflush(stdout);
    }
    if (!args.checkpoint.empty() && chatty && trainer.steps() % per_epoch == 0) trainer.save_checkpoint(args.checkpoint);
  }
  // Every rank's, so a test can see they are equal.
  std::printf("rank %zu weights checksum %016llx\n", shard.rank, (unsigned long long)weights_checksum(trainer));
  if (!chatty) return;
  std::printf("training: %.0f images/s (%.2f s, %zu steps)\n", sum.images / sum.seconds, sum.seconds, trainer.steps());
  if (!args.json.empty()) write_json(args, sum, shard.ranks, rt.device_count());
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
#ifdef ANYCL_HAVE_MPI
  if (args.mpi) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    try {
      anycl::MpiProcessGroup group(MPI_COMM_WORLD, args.mpi_timeout);
      train(args, &group);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "train_cnn (rank %d): %s\n", rank, e.what());
      std::fflush(stderr);
      // Ends every rank, including one that hangs (a clean MPI_Finalize could wait on it), after
      // a moment in which the other ranks, which learnt of the failure too, print their errors.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
    return 0;
  }
#endif
  try {
    train(args, nullptr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cnn: %s\n", e.what());
    return 1;
  }
  return 0;
}
