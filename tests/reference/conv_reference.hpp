// Plain C++17 reference for 2-D NCHW convolution: the test oracle.
// Deliberately naive (direct nested loops, double accumulation) so that its
// correctness can be checked by reading it. Do not optimise.
//
// Layouts: x[n][c][h][w], w[k][c/g][r][s], y[n][k][p][q], bias[k].
// p = (h + pad_top + pad_bottom - dil_h*(r-1) - 1) / stride_h + 1, q likewise.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <vector>

namespace anycl_test {

struct ConvDesc {
    int n = 1, c = 1, h = 1, w = 1;  // input
    int k = 1, r = 1, s = 1;         // filters
    int stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    int dil_h = 1, dil_w = 1;
    int groups = 1;

    int out_h() const { return (h + pad_top + pad_bottom - dil_h * (r - 1) - 1) / stride_h + 1; }
    int out_w() const { return (w + pad_left + pad_right - dil_w * (s - 1) - 1) / stride_w + 1; }
    int c_per_group() const { return c / groups; }
    int k_per_group() const { return k / groups; }

    std::size_t x_size() const { return std::size_t(n) * c * h * w; }
    std::size_t w_size() const { return std::size_t(k) * c_per_group() * r * s; }
    std::size_t y_size() const { return std::size_t(n) * k * out_h() * out_w(); }

    void validate() const {
        if (n < 1 || c < 1 || h < 1 || w < 1 || k < 1 || r < 1 || s < 1 || stride_h < 1 ||
            stride_w < 1 || dil_h < 1 || dil_w < 1 || groups < 1 || pad_top < 0 ||
            pad_left < 0 || pad_bottom < 0 || pad_right < 0)
            throw std::invalid_argument("ConvDesc: bad value");
        if (c % groups != 0 || k % groups != 0)
            throw std::invalid_argument("ConvDesc: groups must divide c and k");
        if (out_h() < 1 || out_w() < 1)
            throw std::invalid_argument("ConvDesc: empty output");
    }
};

// Index helpers (row-major, NCHW / KCRS).
inline std::size_t idx4(int a, int b, int c, int d, int B, int C, int D) {
    return ((std::size_t(a) * B + b) * C + c) * D + d;
}

// y = conv(x, w) (+ bias[k]) (then max(0, .) if relu). bias may be empty.
inline std::vector<float> conv_forward(const ConvDesc& d, const std::vector<float>& x,
                                       const std::vector<float>& w,
                                       const std::vector<float>& bias, bool relu) {
    d.validate();
    const int P = d.out_h(), Q = d.out_w(), Cg = d.c_per_group(), Kg = d.k_per_group();
    std::vector<float> y(d.y_size());
    for (int n = 0; n < d.n; ++n)
        for (int k = 0; k < d.k; ++k)
            for (int p = 0; p < P; ++p)
                for (int q = 0; q < Q; ++q) {
                    const int g = k / Kg;
                    double acc = bias.empty() ? 0.0 : double(bias[k]);
                    for (int cl = 0; cl < Cg; ++cl)
                        for (int r = 0; r < d.r; ++r)
                            for (int s = 0; s < d.s; ++s) {
                                const int ih = p * d.stride_h - d.pad_top + r * d.dil_h;
                                const int iw = q * d.stride_w - d.pad_left + s * d.dil_w;
                                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
                                const int c = g * Cg + cl;
                                acc += double(x[idx4(n, c, ih, iw, d.c, d.h, d.w)]) *
                                       double(w[idx4(k, cl, r, s, Cg, d.r, d.s)]);
                            }
                    if (relu && acc < 0.0) acc = 0.0;
                    y[idx4(n, k, p, q, d.k, P, Q)] = float(acc);
                }
    return y;
}

// dx = d(loss)/dx given dy: the transpose of conv_forward (without bias/relu).
// Accumulates every (output, filter tap) contribution into a double buffer.
inline std::vector<float> conv_backward_data(const ConvDesc& d, const std::vector<float>& dy,
                                             const std::vector<float>& w) {
    d.validate();
    const int P = d.out_h(), Q = d.out_w(), Cg = d.c_per_group(), Kg = d.k_per_group();
    std::vector<double> acc(d.x_size(), 0.0);
    for (int n = 0; n < d.n; ++n)
        for (int k = 0; k < d.k; ++k)
            for (int p = 0; p < P; ++p)
                for (int q = 0; q < Q; ++q) {
                    const int g = k / Kg;
                    const double g_out = dy[idx4(n, k, p, q, d.k, P, Q)];
                    for (int cl = 0; cl < Cg; ++cl)
                        for (int r = 0; r < d.r; ++r)
                            for (int s = 0; s < d.s; ++s) {
                                const int ih = p * d.stride_h - d.pad_top + r * d.dil_h;
                                const int iw = q * d.stride_w - d.pad_left + s * d.dil_w;
                                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
                                const int c = g * Cg + cl;
                                acc[idx4(n, c, ih, iw, d.c, d.h, d.w)] +=
                                    g_out * double(w[idx4(k, cl, r, s, Cg, d.r, d.s)]);
                            }
                }
    return std::vector<float>(acc.begin(), acc.end());
}

// dw = d(loss)/dw and dbias[k] = sum over n,p,q of dy.
inline void conv_backward_weights(const ConvDesc& d, const std::vector<float>& x,
                                  const std::vector<float>& dy, std::vector<float>& dw,
                                  std::vector<float>& dbias) {
    d.validate();
    const int P = d.out_h(), Q = d.out_w(), Cg = d.c_per_group(), Kg = d.k_per_group();
    std::vector<double> acc(d.w_size(), 0.0), bacc(std::size_t(d.k), 0.0);
    for (int n = 0; n < d.n; ++n)
        for (int k = 0; k < d.k; ++k)
            for (int p = 0; p < P; ++p)
                for (int q = 0; q < Q; ++q) {
                    const int g = k / Kg;
                    const double g_out = dy[idx4(n, k, p, q, d.k, P, Q)];
                    bacc[std::size_t(k)] += g_out;
                    for (int cl = 0; cl < Cg; ++cl)
                        for (int r = 0; r < d.r; ++r)
                            for (int s = 0; s < d.s; ++s) {
                                const int ih = p * d.stride_h - d.pad_top + r * d.dil_h;
                                const int iw = q * d.stride_w - d.pad_left + s * d.dil_w;
                                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
                                const int c = g * Cg + cl;
                                acc[idx4(k, cl, r, s, Cg, d.r, d.s)] +=
                                    g_out * double(x[idx4(n, c, ih, iw, d.c, d.h, d.w)]);
                            }
                }
    dw.assign(acc.begin(), acc.end());
    dbias.assign(bacc.begin(), bacc.end());
}

}  // namespace anycl_test
