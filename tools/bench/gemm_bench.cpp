// anycl-bench gemm: SGEMM shapes from the GEMM issue, anycl vs CLBlast vs OpenBLAS.
#include <cstdio>
#include <vector>

#include "report.hpp"

namespace anycl_bench {

std::vector<GemmShape> gemm_shapes(bool quick) {
  if (quick) return {{256, 256, 256}, {64, 512, 256}, {64, 64, 64, 4}};
  return {{256, 256, 256},    {512, 512, 512},  {1000, 1000, 1000}, {1024, 1024, 1024},
          {2048, 2048, 2048}, {64, 4096, 1024}, {4096, 64, 1024},   {128, 128, 128, 64}};
}

std::string gemm_label(const GemmShape& g) {
  std::string s = std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k);
  return g.batch > 1 ? std::to_string(g.batch) + " x (" + s + ")" : s;
}

std::function<void()> anycl_gemm_call(anycl::Runtime& rt, const GemmShape& g) {
  anycl::GemmShape s;
  s.m = g.m, s.n = g.n, s.k = g.k, s.lda = g.k, s.ldb = g.n, s.ldc = g.n;
  s.batch = g.batch, s.stride_a = g.m * g.k, s.stride_b = g.k * g.n, s.stride_c = g.m * g.n;
  const anycl::Buffer a = random_buffer(rt, g.m * g.k * g.batch, 1), b = random_buffer(rt, g.k * g.n * g.batch, 2);
  const anycl::Buffer c = random_buffer(rt, g.m * g.n * g.batch, 3);
  return [&rt, s, a, b, c] { anycl::gemm<float>(rt, s, 1.f, a, 0, b, 0, 0.f, c, 0).wait(); };
}

nlohmann::json bench_gemm(anycl::Runtime& rt, const Options& opt) {
  const std::vector<GemmShape> shapes = gemm_shapes(opt.quick);
  const bool cpu = rt.device(0).type == "cpu";
  cl_command_queue q = rt.queue(0);
  nlohmann::json rows = nlohmann::json::array();
  std::fprintf(opt.table, "%-22s %10s %10s %10s %9s %9s\n", "sgemm m x n x k", "anycl", "CLBlast", "OpenBLAS", "vs BLAS",
              "vs CLBl.");
  for (const auto& g : shapes) {
    const Timing mine = time_anycl(anycl_gemm_call(rt, g), gemm_flops(g), opt.reps);
    const Timing clb = time_clblast_sgemm(q, g, opt.reps);
    Timing blas;
    if (cpu) blas = time_openblas_sgemm(g, opt.reps);
    else blas.supported = false, blas.note = "not a CPU device";
    const double vs_blas = blas.supported ? mine.gflops / blas.gflops : 0, vs_clb = mine.gflops / clb.gflops;
    std::fprintf(opt.table, "%-22s %10.1f %10.1f %10.1f %8.2fx %8.1fx\n", gemm_label(g).c_str(), mine.gflops, clb.gflops,
                blas.supported ? blas.gflops : 0.0, vs_blas, vs_clb);
    std::fflush(opt.table);
    rows.push_back({{"shape", gemm_label(g)}, {"m", g.m}, {"n", g.n}, {"k", g.k}, {"batch", g.batch},
                    {"anycl", to_json(mine)}, {"clblast", to_json(clb)}, {"openblas", to_json(blas)},
                    {"anycl_vs_openblas", vs_blas}, {"anycl_vs_clblast", vs_clb}});
  }
  return rows;
}

}  // namespace anycl_bench
