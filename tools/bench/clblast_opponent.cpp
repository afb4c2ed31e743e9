// CLBlast opponent: Gemm / GemmStridedBatched and Convgemm on an OpenCL queue, as shipped
// (no device-specific tuning beyond what the library database contains).
#include "opponents.hpp"

#include <CL/cl.h>
#include <clblast.h>

#include <stdexcept>
#include <string>

#include "opponent_detail.hpp"

namespace anycl_bench {

namespace {

void check_cl(cl_int err, const char* what) {
  if (err != CL_SUCCESS)
    throw std::runtime_error(std::string("OpenCL error ") + std::to_string(err) + " in " + what);
}

void check_clblast(clblast::StatusCode s, const char* what) {
  if (s != clblast::StatusCode::kSuccess)
    throw std::runtime_error(std::string("CLBlast error ") + std::to_string(static_cast<int>(s)) +
                             " in " + what);
}

// Device buffer owned for the duration of one measurement.
class DeviceBuffer {
 public:
  DeviceBuffer(cl_command_queue q, size_t count, const float* init = nullptr) {
    cl_context ctx = nullptr;
    check_cl(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof(ctx), &ctx, nullptr),
             "clGetCommandQueueInfo");
    cl_int err = CL_SUCCESS;
    mem_ = clCreateBuffer(ctx, CL_MEM_READ_WRITE, (count ? count : 1) * sizeof(float), nullptr, &err);
    check_cl(err, "clCreateBuffer");
    if (init && count)
      check_cl(clEnqueueWriteBuffer(q, mem_, CL_TRUE, 0, count * sizeof(float), init, 0, nullptr,
                                    nullptr),
               "clEnqueueWriteBuffer");
  }
  ~DeviceBuffer() {
    if (mem_) clReleaseMemObject(mem_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  cl_mem get() const { return mem_; }

 private:
  cl_mem mem_ = nullptr;
};

DeviceBuffer random_buffer(cl_command_queue q, size_t count, unsigned seed) {
  const std::vector<float> host = detail::random_floats(count, seed);
  return DeviceBuffer(q, count, host.data());
}

}  // namespace

Timing time_clblast_sgemm(cl_command_queue q, const GemmShape& g, int reps) {
  using clblast::Layout;
  using clblast::Transpose;
  const size_t sa = g.m * g.k, sb = g.k * g.n, sc = g.m * g.n;
  DeviceBuffer a = random_buffer(q, sa * g.batch, 1);
  DeviceBuffer b = random_buffer(q, sb * g.batch, 2);
  DeviceBuffer c(q, sc * g.batch);

  std::function<void()> run;
  size_t temp_bytes = 0;
  if (g.batch == 1) {
    // Hand CLBlast its temp buffer once so the timed runs do not allocate.
    check_clblast(clblast::GemmTempBufferSize<float>(Layout::kRowMajor, Transpose::kNo,
                                                     Transpose::kNo, g.m, g.n, g.k, 0, g.k, 0,
                                                     g.n, 0, g.n, &q, temp_bytes),
                  "GemmTempBufferSize");
  }
  DeviceBuffer temp(q, (temp_bytes + sizeof(float) - 1) / sizeof(float));
  cl_mem temp_mem = temp_bytes ? temp.get() : nullptr;

  if (g.batch == 1) {
    run = [&] {
      check_clblast(clblast::Gemm<float>(Layout::kRowMajor, Transpose::kNo, Transpose::kNo, g.m,
                                         g.n, g.k, 1.0f, a.get(), 0, g.k, b.get(), 0, g.n, 0.0f,
                                         c.get(), 0, g.n, &q, nullptr, temp_mem),
                    "Gemm");
      check_cl(clFinish(q), "clFinish");
    };
  } else {
    run = [&] {
      check_clblast(clblast::GemmStridedBatched<float>(
                        Layout::kRowMajor, Transpose::kNo, Transpose::kNo, g.m, g.n, g.k, 1.0f,
                        a.get(), 0, g.k, sa, b.get(), 0, g.n, sb, 0.0f, c.get(), 0, g.n, sc,
                        g.batch, &q, nullptr),
                    "GemmStridedBatched");
      check_cl(clFinish(q), "clFinish");
    };
  }
  const double first = time_once_ms(run);
  Timing t = summarize(run_timed(run, detail::kWarmup, detail::clamp_reps(reps)), gemm_flops(g),
                       first);
  t.note = g.batch == 1 ? "clblast Gemm" : "clblast GemmStridedBatched";
  return t;
}

Timing time_clblast_convgemm(cl_command_queue q, const ConvShape& cs, int reps) {
  if (cs.groups != 1) {
    Timing t;
    t.supported = false;
    t.note = "clblast Convgemm has no groups";
    return t;
  }
  DeviceBuffer im = random_buffer(q, cs.n * cs.c * cs.h * cs.w, 1);
  DeviceBuffer ker = random_buffer(q, cs.k * cs.c * cs.r * cs.s, 2);
  DeviceBuffer out(q, cs.n * cs.k * cs.out_h() * cs.out_w());

  auto run = [&] {
    check_clblast(clblast::Convgemm<float>(clblast::KernelMode::kCrossCorrelation, cs.c, cs.h,
                                           cs.w, cs.r, cs.s, cs.pad, cs.pad, cs.stride, cs.stride,
                                           1, 1, cs.k, cs.n, im.get(), 0, ker.get(), 0, out.get(),
                                           0, &q, nullptr),
                  "Convgemm");
    check_cl(clFinish(q), "clFinish");
  };
  const double first = time_once_ms(run);
  Timing t = summarize(run_timed(run, detail::kWarmup, detail::clamp_reps(reps)), conv_flops(cs),
                       first);
  t.note = "clblast Convgemm";
  return t;
}

}  // namespace anycl_bench
