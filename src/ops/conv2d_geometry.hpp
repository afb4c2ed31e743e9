// A validated convolution as the kernels see it (32-bit sizes), and batch chunking.
#pragma once

#include <algorithm>
#include <cstddef>

#include "anycl/conv2d.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

struct ConvGeom {
  cl_int C, H, W, K, Cg, Kg, groups, R, S, P, Q, sh, sw, pt, pl, dh, dw, pb, pr;
  std::size_t n, PQ, CHW, KPQ, CRS;  // per-image sizes in elements

  explicit ConvGeom(const Conv2d& d)
      : C(cl_int(d.c)), H(cl_int(d.h)), W(cl_int(d.w)), K(cl_int(d.k)), Cg(cl_int(d.c / d.groups)),
        Kg(cl_int(d.k / d.groups)), groups(cl_int(d.groups)), R(cl_int(d.r)), S(cl_int(d.s)), P(cl_int(d.p())),
        Q(cl_int(d.q())), sh(cl_int(d.stride_h)), sw(cl_int(d.stride_w)), pt(cl_int(d.pad_top)),
        pl(cl_int(d.pad_left)), dh(cl_int(d.dilation_h)), dw(cl_int(d.dilation_w)), pb(cl_int(d.pad_bottom)),
        pr(cl_int(d.pad_right)), n(d.n),
        PQ(std::size_t(P) * Q), CHW(std::size_t(C) * H * W), KPQ(std::size_t(K) * P * Q),
        CRS(std::size_t(Cg) * R * S) {}
};

// Images per chunk so that `bytes_per_image` of workspace per image stays within `cap`; at least
// one image, so no problem is refused for its size alone.
inline std::size_t images_per_chunk(std::size_t n, std::size_t bytes_per_image, std::size_t cap) {
  return std::clamp<std::size_t>(cap / std::max<std::size_t>(bytes_per_image, 1), 1, n);
}

// At most max_chunk images a chunk, the n images in as few chunks as that allows, of equal size.
inline std::size_t even_chunk(std::size_t n, std::size_t max_chunk) {
  const std::size_t chunks = std::max<std::size_t>(ceil_div(n, std::max<std::size_t>(max_chunk, 1)), 1);
  return std::max<std::size_t>(ceil_div(n, chunks), 1);
}

inline std::size_t round_up(std::size_t a, std::size_t b) { return (a + b - 1) / b * b; }

// A 1x1 filter whose sampled pixels (p*sh, q*sw) all lie inside x: its GEMM operand is x itself
// (stride 1) or x subsampled, never padding.
inline bool samples_inside_1x1(const ConvGeom& g) {
  return g.R == 1 && g.S == 1 && g.pt == 0 && g.pl == 0 && (g.P - 1) * g.sh < g.H && (g.Q - 1) * g.sw < g.W;
}

// True when 1x1 convolution is a plain GEMM over the input (stride 1, no padding).
bool is_pointwise(const Conv2d& d);
bool is_winograd_shape(const Conv2d& d);

}  // namespace anycl::detail
