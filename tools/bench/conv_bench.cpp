// anycl-bench conv: the ResNet-style layers of the convolution issue at batch 8 and depthwise
// layers at batch 8 and 1; anycl (each algorithm and the selector's choice) vs CLBlast Convgemm
// vs oneDNN (plain NCHW or NHWC, and its own blocked layout); backward-data and backward-weights
// for the 3x3 and depthwise layers, against oneDNN's in both layouts. --layout nhwc (or both) runs
// anycl and oneDNN's plain tensors channels-last. Winograd runs with both output tiles, 2x2 and
// 4x4, the device's own and the other on a second runtime (winograd_tile.hpp).
#include <chrono>
#include <memory>
#include <vector>

#include "report.hpp"
#include "winograd_tile.hpp"

namespace anycl_bench {
namespace {

using anycl::ConvAlgo;

// What the find step picks against the selector, and what finding cost (0 when cached).
nlohmann::json find_json(anycl::Runtime& rt, const anycl::Conv2d& d) {
  const auto start = std::chrono::steady_clock::now();
  const anycl::ConvFindResult f = anycl::conv2d_find(rt, d, anycl::ConvPass::Forward);
  nlohmann::json j = {{"winner", anycl::to_string(f.algo)},
                      {"selector", anycl::to_string(anycl::conv2d_select(rt, d))},
                      {"timed", f.timed},
                      {"find_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()}};
  for (const anycl::ConvAlgoTime& t : f.times) j["candidate_ms"][anycl::to_string(t.algo)] = t.ms;
  std::fprintf(stderr, "find forward: winner %s, selector %s, %s\n", anycl::to_string(f.algo),
               anycl::to_string(anycl::conv2d_select(rt, d)), j["candidate_ms"].dump().c_str());
  return j;
}

}  // namespace

std::vector<ConvShape> conv_layers(bool quick) {
  if (quick) return {{2, 16, 14, 14, 16, 3, 3, 1, 1}, {2, 16, 14, 14, 16, 3, 3, 1, 1, 16}};
  std::vector<ConvShape> layers = {{8, 64, 56, 56, 64, 3, 3, 1, 1},  {8, 128, 28, 28, 128, 3, 3, 1, 1},
                                    {8, 256, 14, 14, 256, 3, 3, 1, 1}, {8, 3, 224, 224, 64, 7, 7, 2, 3},
                                    {8, 256, 14, 14, 1024, 1, 1, 1, 0}};
  // Depthwise as MobileNet and EfficientNet have it: 3x3 and 5x5, stride 1 and 2, batch 8 and 1.
  for (size_t n : {8, 1})
    for (const ConvShape& dw : {ConvShape{n, 256, 14, 14, 256, 3, 3, 1, 1, 256}, ConvShape{n, 96, 112, 112, 96, 3, 3, 2, 1, 96},
                               ConvShape{n, 240, 28, 28, 240, 5, 5, 1, 2, 240}, ConvShape{n, 144, 56, 56, 144, 5, 5, 2, 2, 144}})
      layers.push_back(dw);
  return layers;
}

std::string conv_label(const ConvShape& cs) {
  std::string s = std::to_string(cs.c) + "ch " + std::to_string(cs.h) + "x" + std::to_string(cs.w) + " -> " +
                  std::to_string(cs.k) + ", " + std::to_string(cs.r) + "x" + std::to_string(cs.s);
  if (cs.stride > 1) s += " s" + std::to_string(cs.stride);
  if (cs.pad) s += " p" + std::to_string(cs.pad);
  if (cs.groups > 1) s += " dw";
  if (cs.n != 8) s += " b" + std::to_string(cs.n);
  if (cs.channels_last) s += " nhwc";
  return s;
}

anycl::Conv2d to_desc(const ConvShape& cs) {
  anycl::Conv2d d;
  d.n = cs.n, d.c = cs.c, d.h = cs.h, d.w = cs.w, d.k = cs.k, d.r = cs.r, d.s = cs.s;
  d.stride_h = d.stride_w = cs.stride;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = cs.pad;
  d.groups = cs.groups;
  d.layout = cs.channels_last ? anycl::ConvLayout::Nhwc : anycl::ConvLayout::Nchw;
  return d;
}

ConvTensors random_tensors(anycl::Runtime& rt, const anycl::Conv2d& d) {
  return {random_buffer(rt, d.x_size(), 1), random_buffer(rt, d.w_size(), 2), random_buffer(rt, d.y_size(), 3)};
}

std::function<void()> anycl_conv_call(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t,
                                      anycl::ConvPass pass, anycl::ConvAlgo algo) {
  if (pass == anycl::ConvPass::Forward)
    return [&rt, d, t, algo] { anycl::conv2d_forward(rt, d, t.x, t.w, nullptr, t.y, algo).wait(); };
  if (pass == anycl::ConvPass::BackwardData)
    return [&rt, d, t, algo] { anycl::conv2d_backward_data(rt, d, t.y, t.w, t.x, algo).wait(); };
  return [&rt, d, t, algo] { anycl::conv2d_backward_weights(rt, d, t.x, t.y, t.w, nullptr, algo).wait(); };
}

PreparedCall prepare_anycl_conv(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t,
                                anycl::ConvPass pass, anycl::ConvAlgo algo) {
  PreparedCall call;
  call.run = anycl_conv_call(rt, d, t, pass, algo);
  call.first_call_ms = time_once_ms(call.run);
  const bool selected = algo == ConvAlgo::Auto && pass == anycl::ConvPass::Forward;
  call.note = anycl::to_string(selected ? anycl::conv2d_select(rt, d) : algo);
  return call;
}

Timing time_anycl_conv(anycl::Runtime& rt, const anycl::Conv2d& d, const ConvTensors& t, anycl::ConvPass pass,
                       anycl::ConvAlgo algo, double flops, int reps) {
  return time_contenders({[&] { return prepare_anycl_conv(rt, d, t, pass, algo); }}, flops, reps)[0];
}

// Each layer in every layout --layout asks for, one after the other (same-run ratios).
std::vector<ConvShape> in_layouts(const std::vector<ConvShape>& layers, const std::vector<bool>& channels_last) {
  std::vector<ConvShape> out;
  for (ConvShape cs : layers)
    for (bool nhwc : channels_last) out.push_back(cs), out.back().channels_last = nhwc;
  return out;
}

nlohmann::json bench_conv(anycl::Runtime& rt, const Options& opt) {
  const std::vector<ConvShape> layers = in_layouts(conv_layers(opt.quick), opt.channels_last);
  const bool cpu = rt.device(0).type == "cpu";
  cl_command_queue q = rt.queue(0);
  nlohmann::json rows = nlohmann::json::array();
  const int tile = winograd_tile(rt);
  std::unique_ptr<OtherWinogradTile> other;  // built at the first layer Winograd applies to
  std::fprintf(opt.table, "%-36s %8s %8s %8s %8s %8s %8s %8s | %8s %8s %8s | %7s %7s | %7s %7s\n",
               "conv fwd, batch 8 or bN (GFLOP/s)", "auto", "im2col", "1x1", "direct", "wino2x2", "wino4x4", "implicit",
               "CLBlast", "dnnPlain", "dnnBlk", "bwdData", "bwdW", "dnnBD", "dnnBW");
  for (const auto& cs : layers) {
    if (conv_label(cs).find(opt.only) == std::string::npos) continue;
    const anycl::Conv2d d = to_desc(cs);
    d.validate();
    const ConvTensors t = random_tensors(rt, d);
    const double flops = conv_flops(cs);
    nlohmann::json row = {{"layer", conv_label(cs)}, {"batch", cs.n}, {"layout", anycl::to_string(d.layout)}};
    const ConvAlgo algos[] = {ConvAlgo::Auto,   ConvAlgo::Im2col,   ConvAlgo::Gemm1x1,
                              ConvAlgo::Direct, ConvAlgo::Winograd, ConvAlgo::ImplicitGemm};
    constexpr int kAlgos = sizeof(algos) / sizeof(algos[0]);
    // anycl's algorithms and oneDNN's two layouts take turns (time_contenders).
    std::vector<Prepare> forward;
    for (const ConvAlgo algo : algos)
      forward.push_back([&, algo] { return prepare_anycl_conv(rt, d, t, anycl::ConvPass::Forward, algo); });
    for (const bool blocked_layout : {false, true})
      forward.push_back(onednn_contender(ConvDirection::forward, cs, blocked_layout, cpu));
    const std::vector<Timing> forward_times = time_contenders(forward, flops, opt.reps);
    double fwd[kAlgos];
    for (int i = 0; i < kAlgos; ++i) {
      row["anycl_forward"][anycl::to_string(algos[i])] = to_json(forward_times[i]);
      fwd[i] = forward_times[i].supported ? forward_times[i].gflops : 0;
    }
    const Timing& nchw = forward_times[kAlgos];
    const Timing& blocked = forward_times[kAlgos + 1];
    // Winograd with the other output tile (columns wino2x2 and wino4x4: fwd[4] is the device's).
    Timing alt;
    alt.supported = false;
    if (tile && fwd[4] > 0) {
      if (!other) other = std::make_unique<OtherWinogradTile>(rt, opt.device_spec);
      if (anycl::Runtime* rt2 = other->runtime()) {
        const ConvTensors t2 = random_tensors(*rt2, d);
        alt = time_anycl_conv(*rt2, d, t2, anycl::ConvPass::Forward, ConvAlgo::Winograd, flops, opt.reps);
      }
      // {"2x2": timing, "4x4": timing}: the device's tile is anycl_forward's Winograd.
      const auto label = [](int m) { return std::to_string(m) + "x" + std::to_string(m); };
      row["winograd_tiles"][label(tile)] = row["anycl_forward"][anycl::to_string(ConvAlgo::Winograd)];
      row["winograd_tiles"][label(6 - tile)] = to_json(alt);
    }
    const double alt_gflops = alt.supported ? alt.gflops : 0;
    const double wino[2] = {tile == 4 ? alt_gflops : fwd[4], tile == 4 ? fwd[4] : alt_gflops};  // 2x2, 4x4
    row["find_forward"] = find_json(rt, d);
    Timing clb;  // CLBlast's Convgemm is NCHW only
    clb.supported = false;
    if (!cs.channels_last) clb = time_clblast_convgemm(q, cs, opt.reps);
    row["clblast_convgemm"] = to_json(clb);
    row["onednn_nchw"] = to_json(nchw);
    row["onednn_blocked"] = to_json(blocked);
    row["anycl_vs_onednn_nchw"] = nchw.supported ? fwd[0] / nchw.gflops : 0;
    row["anycl_vs_clblast"] = clb.supported ? fwd[0] / clb.gflops : 0;
    // Backward passes, in turns: anycl's, then oneDNN's in both layouts (the table shows blocked).
    double bwd[4] = {0, 0, 0, 0};
    if ((cs.r == 3 && cs.groups == 1) || cs.groups == cs.c) {
      std::vector<Prepare> backward;
      for (const anycl::ConvPass pass : {anycl::ConvPass::BackwardData, anycl::ConvPass::BackwardWeights})
        backward.push_back([&, pass] { return prepare_anycl_conv(rt, d, t, pass, ConvAlgo::Auto); });
      if (cpu)
        for (const bool blocked_layout : {false, true})
          for (const ConvDirection dir : {ConvDirection::backward_data, ConvDirection::backward_weights})
            backward.push_back(onednn_contender(dir, cs, blocked_layout, cpu));
      const std::vector<Timing> times = time_contenders(backward, flops, opt.reps);
      const char* keys[] = {"anycl_backward_data", "anycl_backward_weights", "onednn_backward_data_nchw",
                            "onednn_backward_weights_nchw", "onednn_backward_data_blocked",
                            "onednn_backward_weights_blocked"};
      for (std::size_t i = 0; i < times.size(); ++i) row[keys[i]] = to_json(times[i]);
      const std::size_t shown[] = {0, 1, 4, 5};
      for (int i = 0; i < 4; ++i)
        if (shown[i] < times.size()) bwd[i] = times[shown[i]].supported ? times[shown[i]].gflops : 0;
    }
    std::fprintf(opt.table,
                 "%-36s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f | %8.1f %8.1f %8.1f | %7.1f %7.1f | %7.1f %7.1f\n",
                 conv_label(cs).c_str(), fwd[0], fwd[1], fwd[2], fwd[3], wino[0], wino[1], fwd[5],
                 clb.supported ? clb.gflops : 0.0, nchw.supported ? nchw.gflops : 0.0, blocked.supported ? blocked.gflops : 0.0, bwd[0], bwd[1], bwd[2],
                 bwd[3]);
    std::fflush(opt.table);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace anycl_bench
