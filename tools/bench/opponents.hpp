// anycl benchmark opponents: CLBlast, OpenBLAS and oneDNN timed on the same problem shapes as
// anycl, so anycl-bench can print them side by side.
//
// Conventions
//  * All data is fp32, filled with uniform random values in [-1, 1].
//  * GEMM is row-major C[m x n] = A[m x k] * B[k x n] (no transposes, alpha = 1, beta = 0).
//  * Convolutions are cross-correlations (what DL frameworks call "convolution"), NCHW
//    activations, OIHW weights (GOIHW when groups > 1), symmetric padding, no bias, no dilation.
//  * first_call_ms is the first call of the routine in this process, including kernel
//    compilation / JIT / primitive creation. It is excluded from the median.
//  * median_ms is the median of max(reps, 1) timed runs taken after warm-up; wall clock, and
//    for OpenCL opponents each run ends with clFinish on the queue.
//  * On failure (OpenCL/CLBlast/oneDNN error) the functions throw std::runtime_error.
//    A combination an opponent cannot express (e.g. CLBlast Convgemm with groups > 1) returns
//    Timing{supported = false, note = reason} instead.
#ifndef ANYCL_BENCH_OPPONENTS_HPP
#define ANYCL_BENCH_OPPONENTS_HPP

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

// Same declaration as in <CL/cl.h>; repeated so this header does not pull in the OpenCL headers
// (and their CL_TARGET_OPENCL_VERSION choice) into the including translation unit.
typedef struct _cl_command_queue* cl_command_queue;

namespace anycl_bench {

struct GemmShape {
  size_t m, n, k;
  size_t batch = 1;  // > 1: strided batch of identical, densely packed problems
};

struct ConvShape {
  size_t n, c, h, w;  // input batch, channels, height, width
  size_t k, r, s;     // output channels, kernel height, kernel width
  size_t stride, pad;
  size_t groups = 1;  // groups == c == k: depthwise
  bool channels_last = false;  // NHWC tensors and OHWI filters (else NCHW and OIHW)

  size_t out_h() const { return (h + 2 * pad - r) / stride + 1; }
  size_t out_w() const { return (w + 2 * pad - s) / stride + 1; }
};

struct Timing {
  bool supported = true;
  double median_ms = 0.0;
  double gflops = 0.0;         // flops / median
  double first_call_ms = 0.0;  // compile / setup + first run, excluded from the median
  int runs = 0;                // number of timed runs behind the median
  std::string note;            // implementation used, or why unsupported
};

enum class OnednnAlgo { direct, automatic };  // dnnl::algorithm::convolution_direct / _auto
enum class ConvDirection { forward, backward_data, backward_weights };

// A call ready to be timed: run() executes it once and waits for it; first_call_ms is its setup
// (compilation, JIT, primitive creation) and first run; note as Timing's.
struct PreparedCall {
  std::function<void()> run;
  double first_call_ms = 0.0;
  std::string note;
};

// --- opponents -------------------------------------------------------------------------------
// CLBlast 1.5 on the device of `q` (as shipped: no tuning for unknown devices).
// batch == 1: clblast::Gemm with a preallocated temp buffer; batch > 1: GemmStridedBatched.
Timing time_clblast_sgemm(cl_command_queue q, const GemmShape& g, int reps);
// clblast::Convgemm (cross-correlation, the library's built-in im2col method). groups > 1 is
// reported unsupported.
Timing time_clblast_convgemm(cl_command_queue q, const ConvShape& cs, int reps);

// cblas_sgemm, row-major; batch > 1 loops over the batch.
Timing time_openblas_sgemm(const GemmShape& g, int reps);

// oneDNN (CPU engine) convolution, set up and run once, for time_in_turns. blocked_layout =
// false: plain NCHW / (G)OIHW tensors; true: format_tag::any everywhere, i.e. oneDNN's preferred
// blocked layouts (the reorders into them are setup, not timed).
PreparedCall prepare_onednn_conv(ConvDirection direction, const ConvShape& cs, bool blocked_layout,
                                 OnednnAlgo algo = OnednnAlgo::direct);

// --- timing helpers --------------------------------------------------------------------------
// Runs fn `warmup` times untimed, then `reps` times timed; returns milliseconds per run.
std::vector<double> run_timed(const std::function<void()>& fn, int warmup, int reps);
double median(std::vector<double> v);
// Builds a Timing from the timed runs: median, GFLOP/s for `flops` per run.
Timing summarize(const std::vector<double>& runs_ms, double flops, double first_call_ms);
// The calls take turns: `warmup` untimed rounds, then `reps` timed ones, each call running once a
// round and the order reversed every other round, so a slow spell of a shared machine falls on
// all of them alike; a Timing per call (the median of its runs), in the order of `calls`.
std::vector<Timing> time_in_turns(const std::vector<PreparedCall>& calls, double flops, int warmup, int reps);
// Measures one call of fn in milliseconds.
double time_once_ms(const std::function<void()>& fn);

double gemm_flops(const GemmShape& g);  // 2 m n k batch
double conv_flops(const ConvShape& cs); // 2 n k oh ow (c/groups) r s (same for the backward passes)

// --- environment -----------------------------------------------------------------------------
// Call first thing in main(), before any OpenCL, OpenBLAS or oneDNN call.
// Sets POCL_AFFINITY=1 (unless already set; POCL reads it at platform init). OMP_WAIT_POLICY and
// OPENBLAS_CORETYPE are read by libgomp / OpenBLAS when they are loaded, before main(), so if
// OMP_WAIT_POLICY is not PASSIVE or OPENBLAS_CORETYPE is set, and argv is non-null, the process
// re-executes itself (/proc/self/exe) once with OMP_WAIT_POLICY=PASSIVE and OPENBLAS_CORETYPE
// unset. Returns a one-line description of the resulting environment.
std::string prepare_bench_environment(char** argv);

}  // namespace anycl_bench

#endif  // ANYCL_BENCH_OPPONENTS_HPP
