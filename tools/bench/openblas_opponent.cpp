// OpenBLAS opponent: cblas_sgemm, row-major NN; batched problems are a loop over the batch.
#include "opponents.hpp"

#include <cblas.h>

#include <string>

#include "opponent_detail.hpp"

namespace anycl_bench {

Timing time_openblas_sgemm(const GemmShape& g, int reps) {
  const size_t sa = g.m * g.k, sb = g.k * g.n, sc = g.m * g.n;
  const std::vector<float> a = detail::random_floats(sa * g.batch, 1);
  const std::vector<float> b = detail::random_floats(sb * g.batch, 2);
  std::vector<float> c(sc * g.batch, 0.0f);

  auto run = [&] {
    for (size_t i = 0; i < g.batch; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(g.m), int(g.n), int(g.k), 1.0f,
                  a.data() + i * sa, int(g.k), b.data() + i * sb, int(g.n), 0.0f,
                  c.data() + i * sc, int(g.n));
  };
  const double first = time_once_ms(run);
  Timing t = summarize(run_timed(run, detail::kWarmup, detail::clamp_reps(reps)), gemm_flops(g),
                       first);
  t.note = std::string("openblas ") + openblas_get_corename() + ", " +
           std::to_string(openblas_get_num_threads()) + " threads";
  return t;
}

}  // namespace anycl_bench
