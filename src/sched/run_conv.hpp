// Convolution on host pointers over several devices (README, "Multi-device").
#pragma once

#include <vector>

#include "ops/conv2d_dispatch.hpp"
#include "sched/plan.hpp"

namespace anycl::detail {

// How a validated host-pointer pass splits (rows = images, cols = output channels); empty for a
// one-device runtime. One piece: run on that device alone.
std::vector<Piece> plan_conv(RuntimeImpl& rt, ConvPass pass, const Conv2d& d);

// The runtime's weights, 0 for devices without the convolution programs (e.g. no compiler and
// no prebuilt binary for them).
std::vector<double> conv_weights(RuntimeImpl& rt);

// Multiply-adds x 2 of the pass (the same for all three passes).
double conv_flops(const Conv2d& d);

// Runs the pieces at once (one queue each), then writes the outputs: scattered for a channel
// split, summed across devices where a piece holds a partial result (backward-data under a
// channel split, backward-weights under a batch split). Nothing is written before every device
// finished.
void run_conv_pieces(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                     const ConvHostTensors& host, ConvAlgo algo);

}  // namespace anycl::detail
