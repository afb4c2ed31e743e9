// What anycl-tune does with one GEMM candidate once it is built on a device: check it against a
// plain host loop on awkward problems (transposes, padded leading dimensions, offsets, a batch)
// with guard regions around every operand, then time it on the family's representative shapes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "anycl/tune.hpp"

namespace anycl::detail {

class GemmTuneBench {
 public:
  virtual ~GemmTuneBench() = default;
  // "" when every result matches the reference within tolerance and every byte outside C's
  // elements (A, B, the guards, C's row gaps) came back unchanged; else what was wrong.
  virtual std::string check() = 0;
  // Geometric mean GFLOP/s over the shapes (best of a few runs each).
  virtual double time() = 0;
};

// `variant` is gemm_packed_f32/_f64 or gemm_tiled_f32/_f64; the device's program of that variant
// is whatever was installed last. Inputs and references are made once, here.
std::unique_ptr<GemmTuneBench> make_gemm_bench(Runtime& rt, std::size_t device, const std::string& variant,
                                               const std::vector<TuneShape>& shapes);

}  // namespace anycl::detail
