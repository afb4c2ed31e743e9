// oneDNN opponent: CPU-engine convolution forward / backward-data / backward-weights, with plain
// tensors (NCHW, or NHWC with OHWI filters) or oneDNN's preferred (blocked) layouts.
#include "opponents.hpp"

#include <dnnl.hpp>

#include <cstring>
#include <memory>
#include <string>

#include "opponent_detail.hpp"

namespace anycl_bench {

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

// Plain (user) descriptors of one convolution.
struct ConvDescs {
  memory::desc src, wei, dst;
  memory::dims strides, pad;
};

ConvDescs plain_descs(const ConvShape& cs) {
  const auto f32 = memory::data_type::f32;
  const auto d = [](size_t v) { return static_cast<memory::dim>(v); };
  ConvDescs r;
  const tag act = cs.channels_last ? tag::nhwc : tag::nchw;
  r.src = memory::desc({d(cs.n), d(cs.c), d(cs.h), d(cs.w)}, f32, act);
  if (cs.groups == 1)
    r.wei = memory::desc({d(cs.k), d(cs.c), d(cs.r), d(cs.s)}, f32, cs.channels_last ? tag::ohwi : tag::oihw);
  else
    r.wei = memory::desc({d(cs.groups), d(cs.k / cs.groups), d(cs.c / cs.groups), d(cs.r), d(cs.s)},
                         f32, cs.channels_last ? tag::gohwi : tag::goihw);
  r.dst = memory::desc({d(cs.n), d(cs.k), d(cs.out_h()), d(cs.out_w())}, f32, act);
  r.strides = {d(cs.stride), d(cs.stride)};
  r.pad = {d(cs.pad), d(cs.pad)};
  return r;
}

// The descriptor handed to the primitive: the plain one, or "any" to let oneDNN choose.
memory::desc requested(const memory::desc& plain, bool blocked) {
  return blocked ? memory::desc(plain.dims(), plain.data_type(), tag::any) : plain;
}

// Memory in layout `want` holding random data (generated plain, reordered if needed).
memory random_memory(const memory::desc& want, const memory::desc& plain, const dnnl::engine& eng,
                     dnnl::stream& strm, unsigned seed) {
  memory user(plain, eng);
  const std::vector<float> host = detail::random_floats(plain.get_size() / sizeof(float), seed);
  std::memcpy(user.get_data_handle(), host.data(), plain.get_size());
  if (want == plain) return user;
  memory m(want, eng);
  dnnl::reorder(user, m).execute(strm, user, m);
  strm.wait();
  return m;
}

// What a prepared call keeps alive between its runs.
struct OnednnState {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
};

}  // namespace

PreparedCall prepare_onednn_conv(ConvDirection direction, const ConvShape& cs, bool blocked, OnednnAlgo algo) {
  const auto state = std::make_shared<OnednnState>();
  const dnnl::engine& eng = state->eng;
  dnnl::stream& strm = state->strm;
  dnnl::primitive& prim = state->prim;
  std::unordered_map<int, memory>& args = state->args;
  const ConvDescs p = plain_descs(cs);
  // Channels-last as oneDNN's users run it (PyTorch's channels_last): NHWC tensors, the filters in
  // the primitive's own layout (reordered once, untimed); plain OHWI filters fall back to its
  // reference kernels.
  const memory::desc src = requested(p.src, blocked), wei = requested(p.wei, blocked || cs.channels_last),
                     dst = requested(p.dst, blocked);
  const auto alg = algo == OnednnAlgo::direct ? dnnl::algorithm::convolution_direct
                                              : dnnl::algorithm::convolution_auto;

  // Setup (primitive descriptor + primitive creation, i.e. JIT) is part of first_call_ms.
  std::string impl;
  const auto create_forward_pd = [&](dnnl::prop_kind kind) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(kind, alg, src, wei, dst, p.strides, p.pad, p.pad), eng);
  };
  double setup_ms = 0.0;
  switch (direction) {
    case ConvDirection::forward: {
      dnnl::convolution_forward::primitive_desc pd;
      setup_ms = time_once_ms([&] {
        pd = create_forward_pd(dnnl::prop_kind::forward_inference);
        prim = dnnl::convolution_forward(pd);
      });
      impl = pd.impl_info_str();
      args = {{DNNL_ARG_SRC, random_memory(pd.src_desc(), p.src, eng, strm, 1)},
              {DNNL_ARG_WEIGHTS, random_memory(pd.weights_desc(), p.wei, eng, strm, 2)},
              {DNNL_ARG_DST, memory(pd.dst_desc(), eng)}};
      break;
    }
    case ConvDirection::backward_data: {
      dnnl::convolution_backward_data::primitive_desc pd;
      setup_ms = time_once_ms([&] {
        const auto hint = create_forward_pd(dnnl::prop_kind::forward_training);
        pd = dnnl::convolution_backward_data::primitive_desc(
            dnnl::convolution_backward_data::desc(alg, src, wei, dst, p.strides, p.pad, p.pad),
            eng, hint);
        prim = dnnl::convolution_backward_data(pd);
      });
      impl = pd.impl_info_str();
      args = {{DNNL_ARG_DIFF_DST, random_memory(pd.diff_dst_desc(), p.dst, eng, strm, 3)},
              {DNNL_ARG_WEIGHTS, random_memory(pd.weights_desc(), p.wei, eng, strm, 2)},
              {DNNL_ARG_DIFF_SRC, memory(pd.diff_src_desc(), eng)}};
      break;
    }
    case ConvDirection::backward_weights: {
      dnnl::convolution_backward_weights::primitive_desc pd;
      setup_ms = time_once_ms([&] {
        const auto hint = create_forward_pd(dnnl::prop_kind::forward_training);
        pd = dnnl::convolution_backward_weights::primitive_desc(
            dnnl::convolution_backward_weights::desc(alg, src, wei, dst, p.strides, p.pad,
                                                     p.pad),
            eng, hint);
        prim = dnnl::convolution_backward_weights(pd);
      });
      impl = pd.impl_info_str();
      args = {{DNNL_ARG_SRC, random_memory(pd.src_desc(), p.src, eng, strm, 1)},
              {DNNL_ARG_DIFF_DST, random_memory(pd.diff_dst_desc(), p.dst, eng, strm, 3)},
              {DNNL_ARG_DIFF_WEIGHTS, memory(pd.diff_weights_desc(), eng)}};
      break;
    }
  }

  PreparedCall call;
  call.run = [state] {
    state->prim.execute(state->strm, state->args);
    state->strm.wait();
  };
  call.first_call_ms = setup_ms + time_once_ms(call.run);
  call.note = "onednn " + impl + (blocked ? " (format any)" : cs.channels_last ? " (nhwc, weights any)" : " (nchw)");
  return call;
}

}  // namespace anycl_bench
