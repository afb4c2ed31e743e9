// The public convolution functions: validate at the edge, plan, run (include/anycl/conv2d.hpp).
#include "anycl/conv2d.hpp"

#include <optional>
#include <string>

#include "api/call_log.hpp"
#include "api/numerics_check.hpp"
#include "api/wait_list.hpp"
#include "ops/conv2d_passes.hpp"
#include "ops/conv2d_find.hpp"
#include "ops/conv2d_select.hpp"
#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "sched/run_conv.hpp"

namespace anycl {
namespace {

using detail::ConvHostSet;
using detail::ConvTensorSet;
using detail::engine;

std::string function_of(ConvPass pass) { return std::string("anycl::") + detail::pass_name(pass); }

// Bias (forward) or dbias (backward-weights) given: backward-data never has one.
void log_conv_call(ConvPass pass, const Conv2d& d, bool bias, ConvAlgo algo) {
  detail::log_call_if_enabled([&] { return detail::conv_call_text(pass, d, bias, algo); });
}

// ANYCL_CHECK_NUMERICS: the pass's tensors by role (ConvTensorSet order); `add(i, region, input,
// output)` records the i-th, which add skips when absent.
template <typename Add>
std::optional<detail::NumericsScan> conv_scan(const Runtime& rt, ConvPass pass, const Conv2d& d, bool bias,
                                              ConvAlgo algo, Add add) {
  if (!engine(rt).ops.check_numerics) return std::nullopt;
  static const char* const names[3][4] = {{"x", "w", "y", "bias"}, {"dx", "w", "dy", "bias"}, {"x", "dw", "dy", "dbias"}};
  const detail::ConvRole roles[] = {detail::ConvRole::Nchw, detail::ConvRole::Kcrs, detail::ConvRole::Nkpq,
                                    detail::ConvRole::Kvec};
  const std::size_t sizes[] = {d.x_size(), d.w_size(), d.y_size(), d.k};
  std::optional<detail::NumericsScan> scan;
  scan.emplace(detail::conv_call_text(pass, d, bias, algo), false);
  for (int i = 0; i < 4; ++i) {
    const bool out = detail::writes(pass, roles[i]);
    add(*scan, i, detail::dense_region(names[static_cast<int>(pass)][i], sizes[i]), !out, out);
  }
  scan->before();
  return scan;
}

// The tensor a pass reads or writes, as the caller named it; `elems` 0 when it may be absent.
struct Named {
  const Buffer* buffer;
  std::size_t elems;
  const char* name;
};

// Checks every tensor of a validated problem (an optional one only when given), then plans and
// runs on the output's device. A forced algorithm that does not apply fails before anything is
// queued.
Event on_buffers(Runtime& rt, ConvPass pass, const Conv2d& d, std::initializer_list<Named> tensors,
                 const Buffer& output, const ConvTensorSet& set, ConvAlgo algo, const std::vector<Event>& wait) {
  const std::size_t dev = output.device();
  for (const Named& t : tensors)
    if (t.buffer) detail::check_operand(t.buffer, 0, t.elems, sizeof(float), dev, function_of(pass), t.name);
  const detail::DeviceSlot& home = engine(rt).slot(dev);
  detail::check_wait_list(home, wait, function_of(pass));
  log_conv_call(pass, d, set.kvec != nullptr, algo);
  if (engine(rt).ops.check_numerics) detail::wait_on_host(wait);
  const cl_mem mems[] = {set.nchw, set.kcrs, set.nkpq, set.kvec};
  const auto scan = conv_scan(rt, pass, d, set.kvec != nullptr, algo, [&](auto& s, int i, auto r, bool in, bool out) {
    s.buffer(engine(rt).slot(dev), mems[i], r, in, out);
  });
  const detail::ConvCall call{pass, d, algo};
  const detail::Plan plan = detail::plan_call(engine(rt), {call, dev, true});
  detail::enqueue_wait_list(home, wait);
  Event done = detail::run_conv(engine(rt), plan, call, set);
  if (scan) done.wait(), scan->after();
  return detail::caller_event(home, std::move(done));
}

cl_mem native(const Buffer* b) { return b ? b->native() : nullptr; }

// The plan resolves the algorithm before any copy, so an inapplicable one fails first.
void on_host(Runtime& rt, ConvPass pass, const Conv2d& d, bool tensors_given, const ConvHostSet& set,
             ConvAlgo algo) {
  d.validate();
  if (!tensors_given) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, function_of(pass) + ": a tensor pointer is NULL");
  log_conv_call(pass, d, set.kvec != nullptr, algo);
  const void* host[] = {set.nchw, set.kcrs, set.nkpq, set.kvec};
  const auto scan = conv_scan(rt, pass, d, set.kvec != nullptr, algo, [&](auto& s, int i, auto r, bool in, bool out) {
    s.host(host[i], r, in, out);
  });
  const detail::ConvCall call{pass, d, algo};
  const detail::Plan plan = detail::plan_call(engine(rt), {call, std::nullopt, true});
  detail::run_conv(engine(rt), plan, call, set);
  if (scan) scan->after();
}

}  // namespace

Event conv2d_forward(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& w, const Buffer* bias,
                     const Buffer& y, ConvAlgo algo, const std::vector<Event>& wait) {
  d.validate();
  return on_buffers(rt, ConvPass::Forward, d,
                    {{&x, d.x_size(), "x"}, {&w, d.w_size(), "w"}, {&y, d.y_size(), "y"}, {bias, d.k, "bias"}}, y,
                    {x.native(), w.native(), y.native(), native(bias)}, algo, wait);
}

Event conv2d_backward_data(Runtime& rt, const Conv2d& d, const Buffer& dy, const Buffer& w, const Buffer& dx,
                           ConvAlgo algo, const std::vector<Event>& wait) {
  d.validate();
  return on_buffers(rt, ConvPass::BackwardData, d,
                    {{&dy, d.y_size(), "dy"}, {&w, d.w_size(), "w"}, {&dx, d.x_size(), "dx"}}, dx,
                    {dx.native(), w.native(), dy.native(), nullptr}, algo, wait);
}

Event conv2d_backward_weights(Runtime& rt, const Conv2d& d, const Buffer& x, const Buffer& dy, const Buffer& dw,
                              const Buffer* dbias, ConvAlgo algo, const std::vector<Event>& wait) {
  d.validate();
  return on_buffers(rt, ConvPass::BackwardWeights, d,
                    {{&x, d.x_size(), "x"}, {&dy, d.y_size(), "dy"}, {&dw, d.w_size(), "dw"}, {dbias, d.k, "dbias"}},
                    dw, {x.native(), dw.native(), dy.native(), native(dbias)}, algo, wait);
}

// The host sets hold the inputs as the pass's read-only tensors (ConvHostSet).
void conv2d_forward(Runtime& rt, const Conv2d& d, const float* x, const float* w, const float* bias, float* y,
                    ConvAlgo algo) {
  on_host(rt, ConvPass::Forward, d, x && w && y,
          {const_cast<float*>(x), const_cast<float*>(w), y, const_cast<float*>(bias)}, algo);
}

void conv2d_backward_data(Runtime& rt, const Conv2d& d, const float* dy, const float* w, float* dx, ConvAlgo algo) {
  on_host(rt, ConvPass::BackwardData, d, dy && w && dx, {dx, const_cast<float*>(w), const_cast<float*>(dy), nullptr},
          algo);
}

void conv2d_backward_weights(Runtime& rt, const Conv2d& d, const float* x, const float* dy, float* dw, float* dbias,
                             ConvAlgo algo) {
  on_host(rt, ConvPass::BackwardWeights, d, x && dy && dw,
          {const_cast<float*>(x), dw, const_cast<float*>(dy), dbias}, algo);
}

ConvAlgo conv2d_select(const Runtime& rt, const Conv2d& d) {
  d.validate();
  const detail::Engine& e = engine(rt);
  return detail::select(ConvPass::Forward, d, e.ops.conv_disabled, detail::conv_thresholds(e.slot(0)));
}

ConvFindResult conv2d_find(Runtime& rt, const Conv2d& d, ConvPass pass, std::size_t device) {
  d.validate();
  detail::Engine& e = engine(rt);
  const detail::FindSettings settings{e.ops.conv_workspace_limit, e.ops.conv_disabled};
  return detail::find_conv_algo(e.slot(device), e.ops.find_memo, settings, e.binary_cache(), d, pass);
}

void set_conv_find(Runtime& rt, bool on) { engine(rt).ops.conv_find = on; }

void set_conv_workspace_limit(Runtime& rt, std::size_t bytes) {
  if (bytes == 0) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "set_conv_workspace_limit: the limit must be positive");
  engine(rt).ops.conv_workspace_limit = bytes;
}

}  // namespace anycl
