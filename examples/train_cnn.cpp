// Trains a small CNN on the 8x8 handwritten digits with anycl's data-parallel trainer and prints
// the loss per epoch, the test accuracy and the training throughput.
//
//   /usr/bin/python3 scripts/export_digits.py digits.txt
//   train_cnn --data digits.txt --device cpu/2 [--epochs 10] [--batch 32] [--lr 0.05]
//             [--momentum 0.9] [--seed 1] [--allreduce auto|device|host]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "anycl/anycl.hpp"
#include "digits_training.hpp"

namespace {

struct Args {
  std::string device, data = "digits.txt", allreduce = "auto";
  int epochs = 10;
  anycl::TrainOptions options;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "train_cnn: %s\nusage: train_cnn --data FILE [--device SPEC] [--epochs N] [--batch N] [--lr X] "
               "[--momentum X] [--seed N] [--allreduce auto|device|host]\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + opt).c_str());
    const char* v = argv[++i];
    if (opt == "--device") a.device = v;
    else if (opt == "--data") a.data = v;
    else if (opt == "--epochs") a.epochs = std::atoi(v);
    else if (opt == "--batch") a.options.batch = std::size_t(std::atol(v));
    else if (opt == "--lr") a.options.lr = std::strtof(v, nullptr);
    else if (opt == "--momentum") a.options.momentum = std::strtof(v, nullptr);
    else if (opt == "--seed") a.options.seed = unsigned(std::atol(v));
    else if (opt == "--allreduce") a.allreduce = v;
    else usage(("unknown option " + opt).c_str());
  }
  if (a.epochs < 1) usage("--epochs must be positive");
  if (a.allreduce == "device") a.options.allreduce = anycl::AllReduce::OnDevice;
  else if (a.allreduce == "host") a.options.allreduce = anycl::AllReduce::HostStaged;
  else if (a.allreduce != "auto") usage("--allreduce takes auto, device or host");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  try {
    const digits::Data data = digits::load(args.data);
    anycl::Runtime rt(args.device);
    anycl::DataParallelTrainer trainer(rt, digits::small_cnn(data), args.options);
    std::printf("%zu replicas (all-reduce %s), %zu parameters, %zu train / %zu test images, batch %zu\n",
                trainer.replicas(), trainer.allreduce_on_device() ? "on device" : "host-staged",
                trainer.parameter_count(), data.train.count(), data.test.count(), args.options.batch);
    for (std::size_t d = 0; d < rt.device_count(); ++d) std::printf("  device %zu: %s\n", d, rt.device(d).name.c_str());
    std::mt19937 rng(args.options.seed);
    double seconds = 0;
    for (int e = 1; e <= args.epochs; ++e) {
      const auto t0 = std::chrono::steady_clock::now();
      const double loss = digits::train_epoch(trainer, data.train, args.options.batch, rng);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("epoch %2d  loss %.5f\n", e, loss);
    }
    std::printf("test accuracy %.2f%% (%zu images)\n", 100 * digits::accuracy(trainer, data.test), data.test.count());
    std::printf("training: %.0f images/s (%.2f s for %d epochs)\n",
                double(data.train.count()) * args.epochs / seconds, seconds, args.epochs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cnn: %s\n", e.what());
    return 1;
  }
  return 0;
}
