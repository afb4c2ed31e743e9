// anycl-bench: shared pieces of the GEMM and convolution benchmarks.
#pragma once

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "opponents.hpp"

namespace anycl_bench {

struct Options {
  int reps = 7;        // timed runs behind each median (at least 5)
  int rounds = 3;      // multi: turns each configuration takes, in rotated order
  bool quick = false;  // fewer shapes, for smoke tests
  std::string only;    // conv, net: only the layers whose label contains this
  std::vector<std::size_t> batches = {8};  // net: the batch sizes, each a pass over the network; train: of each model
  bool batches_given = false;              // train: --batch was given (else each model's default cases)
  std::string model;                       // train: only this model ("resnet", "cnn"; "" = both)
  bool profile = false;                    // train: one more run with the kernel profile on
  std::string network = "resnet18";        // net: which network's convolutions
  std::string torch_script;                // net, train: the PyTorch script ("" = the one beside the sources, "none": skip)
  std::vector<bool> channels_last{false};  // conv: the layouts each layer runs in (NCHW, NHWC)
  std::FILE* table = stdout;  // the human-readable table (stderr when --json owns stdout)
  std::string device_spec;    // --device (conv: a second runtime on the same devices)
};

// {"gflops", "median_ms", "first_call_ms", "runs", "note"} or {"supported": false, "note"}.
nlohmann::json to_json(const Timing& t);

// A device buffer of `elems` uniform random floats in [-1, 1).
anycl::Buffer random_buffer(anycl::Runtime& rt, std::size_t elems, unsigned seed);

// Times `fn` (which must block until its device work is done) the way the opponents are timed.
Timing time_anycl(const std::function<void()>& fn, double flops, int reps);

// Sets up one contender of a comparison and makes its first call; throws when it cannot run.
using Prepare = std::function<PreparedCall()>;
// Prepares every contender, then times those that prepared in turns (time_in_turns, with the
// opponents' warm-up), so their ratios hold on a shared machine; one whose preparation threw is
// unsupported, its note the error.
std::vector<Timing> time_contenders(const std::vector<Prepare>& contenders, double flops, int reps);
// A Timing of a contender that does not run here, and why.
Timing unsupported(const std::string& why);
// oneDNN's convolution as a contender (prepare_onednn_conv); unsupported unless `cpu` (the
// device under test is a CPU, whose cores oneDNN shares).
Prepare onednn_contender(ConvDirection direction, const ConvShape& cs, bool blocked_layout, bool cpu);

// The workloads of `gemm` and `conv`, which `stages` runs too.
std::vector<GemmShape> gemm_shapes(bool quick);
std::string gemm_label(const GemmShape& g);
std::vector<ConvShape> conv_layers(bool quick);
std::string conv_label(const ConvShape& cs);
anycl::Conv2d to_desc(const ConvShape& cs);

struct ConvTensors {
  anycl::Buffer x, w, y;
};
ConvTensors random_tensors(anycl::Runtime& rt, const anycl::Conv2d& d);

// One blocking anycl call on random device buffers (kept alive by the returned function).
std::function<void()> anycl_gemm_call(anycl::Runtime& rt, const GemmShape& g);
std::function<void()> anycl_conv_call(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t,
                                      anycl::ConvPass pass, anycl::ConvAlgo algo);
// anycl_conv_call as a contender: the note is the algorithm (the selector's pick for a forward Auto).
PreparedCall prepare_anycl_conv(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t,
                                anycl::ConvPass pass, anycl::ConvAlgo algo);
// prepare_anycl_conv timed alone, or the error when the call fails (supported = false).
Timing time_anycl_conv(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t, anycl::ConvPass pass,
                       anycl::ConvAlgo algo, double flops, int reps);

nlohmann::json bench_gemm(anycl::Runtime& rt, const Options& opt);
nlohmann::json bench_conv(anycl::Runtime& rt, const Options& opt);
// `anycl-bench net`: every convolution of a network, each pass, against oneDNN and PyTorch.
nlohmann::json bench_net(anycl::Runtime& rt, const Options& opt);
// Kernel profiling on for one scope (anycl/profile.hpp), the record cleared first, so an error
// in a call does not leave it on for the next workload.
class ProfileScope {
 public:
  explicit ProfileScope(anycl::Runtime& rt) : rt_(rt) {
    anycl::clear_kernel_profile(rt_);
    anycl::set_kernel_profiling(rt_, true);
  }
  ~ProfileScope() { anycl::set_kernel_profiling(rt_, false); }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  anycl::Runtime& rt_;
};

// `anycl-bench train`: training throughput of the digits models, anycl's Trainer vs PyTorch.
nlohmann::json bench_train(anycl::Runtime& rt, const Options& opt);
// `anycl-bench stages`: the same workloads with the kernel profile on (anycl/profile.hpp).
nlohmann::json bench_stages(anycl::Runtime& rt, const Options& opt);
// One workload with the kernel profile on: two untimed calls, then `reps` timed ones; the call's
// median and, per kernel, launches, median device time and share (what `stages` prints a row of).
nlohmann::json profile_call(anycl::Runtime& rt, const std::string& name, const char* kind,
                            const std::function<void()>& call, double flops, int reps);
void print_profile_row(std::FILE* table, const nlohmann::json& row);
// `anycl-bench peak`: the device's measured fp32 peak vs a native FMA loop vs SGEMM 2048, per round.
nlohmann::json bench_peak(anycl::Runtime& rt, const Options& opt);
// `anycl-bench params`: issue 27's acceptance workloads on runtimes of the two ANYCL_PARAMS values
// of `layers` ("shipped,tuned"), interleaved; ratios second/first.
nlohmann::json bench_params(const std::string& spec, const Options& opt, const std::string& layers);
// Adds "peak_fraction" (gflops / fp32 peak) beside every "gflops" in `doc`.
void add_peak_fractions(nlohmann::json& doc, double peak_gflops);
// `anycl-bench multi`: runs its configurations in child processes; returns the exit code.
// `machine` goes into the document as it is.
int bench_multi(int argc, char** argv, const Options& opt, bool as_json, const std::string& out_file,
                const nlohmann::json& machine);

}  // namespace anycl_bench
