// The convolution find step: time every applicable algorithm once per (device, shape, pass) and
// keep the winner in memory and in the on-disk cache beside the program binaries.
#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>

#include "ops/conv2d_select.hpp"
#include "runtime/error.hpp"
#include "runtime/hash.hpp"
#include "runtime/log.hpp"
#include "runtime/runtime_impl.hpp"
#include "runtime/version.hpp"

namespace anycl {
namespace {

using detail::log_info;
using detail::log_warn;

constexpr ConvAlgo kCandidates[] = {ConvAlgo::Im2col, ConvAlgo::Gemm1x1, ConvAlgo::Direct, ConvAlgo::Winograd};
constexpr const char* kMagic = "anycl-conv-find 1";
constexpr int kReps = 3;
// After its first timed run, a candidate this many times slower than the best so far is not
// timed further: the direct kernels take ~0.2 s per run on a large layer and cannot win there.
constexpr double kCutFactor = 4;

const char* pass_label(ConvPass pass) {
  return pass == ConvPass::Forward ? "forward" : pass == ConvPass::BackwardData ? "backward_data" : "backward_weights";
}

// Everything that changes which algorithm wins: the device, the kernels as built (sources and
// options of every program), the workspace cap (it sets the batch chunks), the problem and pass.
std::string find_key(const detail::RuntimeImpl& impl, const detail::DeviceSlot& slot, const Conv2d& d, ConvPass pass) {
  std::string kernels;
  for (const auto& [variant, prog] : slot.programs) kernels += variant + '\0' + prog.source_hash + '\0' + prog.options + '\0';
  std::ostringstream k;
  k << "device=" << slot.info.name << ";driver=" << slot.info.driver_version << ";cu=" << slot.info.compute_units
    << ";anycl=" << detail::version_string() << ";kernels=" << detail::hash128_hex(kernels)
    << ";workspace=" << impl.conv_workspace_limit << ";pass=" << pass_label(pass) << ";n=" << d.n << ";c=" << d.c
    << ";h=" << d.h << ";w=" << d.w << ";k=" << d.k << ";r=" << d.r << ";s=" << d.s << ";stride=" << d.stride_h << 'x'
    << d.stride_w << ";pad=" << d.pad_top << ',' << d.pad_left << ',' << d.pad_bottom << ',' << d.pad_right
    << ";dilation=" << d.dilation_h << 'x' << d.dilation_w << ";groups=" << d.groups << ";relu=" << d.relu;
  return k.str();
}

std::optional<ConvAlgo> algo_named(const std::string& name) {
  for (ConvAlgo a : kCandidates)
    if (name == to_string(a)) return a;
  return std::nullopt;
}

// Text, one field per line, the last line a checksum of the others.
std::string serialize(const std::string& key, const ConvFindResult& r) {
  std::ostringstream body;
  body << kMagic << "\nkey " << key << "\nwinner " << to_string(r.algo) << '\n';
  for (const ConvAlgoTime& t : r.times) body << "time " << to_string(t.algo) << ' ' << t.ms << ' ' << t.cut << '\n';
  return body.str() + "check " + detail::hash128_hex(body.str()) + '\n';
}

// The entry's result, or nullopt with the reason for a damaged, foreign or stale entry.
std::optional<ConvFindResult> parse(const std::string& text, const std::string& key, const Conv2d& d, ConvPass pass,
                                    std::string& why) {
  const std::size_t check_at = text.rfind("check ");
  if (check_at == std::string::npos || text.back() != '\n' ||
      text.substr(check_at + 6, text.size() - check_at - 7) != detail::hash128_hex(text.substr(0, check_at)))
    return why = "checksum mismatch (truncated or corrupt)", std::nullopt;
  std::istringstream in(text.substr(0, check_at));
  std::string line, word;
  if (!std::getline(in, line) || line != kMagic) return why = "not a find entry of this format", std::nullopt;
  if (!std::getline(in, line) || line != "key " + key) return why = "entry is for another key", std::nullopt;
  ConvFindResult r;
  std::istringstream winner(std::getline(in, line) ? line : "");
  std::optional<ConvAlgo> best = winner >> word && word == "winner" && winner >> word ? algo_named(word) : std::nullopt;
  if (!best || !detail::applies(*best, pass, d)) return why = "no applicable winner", std::nullopt;
  r.algo = *best;
  while (std::getline(in, line)) {
    std::istringstream t(line);
    ConvAlgoTime at{ConvAlgo::Auto, 0, false};
    std::optional<ConvAlgo> a = t >> word && word == "time" && t >> word ? algo_named(word) : std::nullopt;
    if (!a || !(t >> at.ms >> at.cut) || !(at.ms >= 0)) return why = "bad time line '" + line + "'", std::nullopt;
    at.algo = *a;
    r.times.push_back(at);
  }
  return r;
}

std::optional<ConvFindResult> load(const detail::BinaryCache& cache, const std::string& path, const std::string& key,
                                   const Conv2d& d, ConvPass pass) {
  if (!cache.enabled()) return std::nullopt;
  const std::optional<std::string> text = detail::read_file(path);
  if (!text) return std::nullopt;
  std::string why;
  std::optional<ConvFindResult> r = text->empty() ? std::nullopt : parse(*text, key, d, pass, why);
  if (!r) log_warn("conv find: ignoring " + path + ": " + (why.empty() ? "empty file" : why));
  return r;
}

// Scratch tensors of the pass's shapes, zero-filled (stale memory may hold NaNs or denormals,
// which time differently), so the caller's buffers are never written.
struct Scratch {
  Buffer x, w, y;
  Scratch(Runtime& rt, const Conv2d& d, std::size_t device)
      : x(rt.alloc(d.x_size() * sizeof(float), device)), w(rt.alloc(d.w_size() * sizeof(float), device)),
        y(rt.alloc(d.y_size() * sizeof(float), device)) {
    const detail::DeviceSlot& slot = rt.impl().slot(device);
    const float zero = 0;
    for (const Buffer* b : {&x, &w, &y})
      detail::check(clEnqueueFillBuffer(slot.queue.get(), b->native(), &zero, sizeof zero, 0, b->bytes(), 0, nullptr,
                                        nullptr),
                    "clEnqueueFillBuffer(conv find scratch)", slot.where());
  }
};

double run_once(Runtime& rt, const Conv2d& d, ConvPass pass, const Scratch& s, ConvAlgo algo) {
  const auto start = std::chrono::steady_clock::now();
  if (pass == ConvPass::Forward) conv2d_forward(rt, d, s.x, s.w, nullptr, s.y, algo).wait();
  else if (pass == ConvPass::BackwardData) conv2d_backward_data(rt, d, s.y, s.w, s.x, algo).wait();
  else conv2d_backward_weights(rt, d, s.x, s.y, s.w, nullptr, algo).wait();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Warm-up first (kernel builds and POCL's per-local-size compiles are not timed), then the
// median of kReps runs. The selector's pick goes first so the cut has a good bar early.
ConvFindResult time_candidates(Runtime& rt, const Conv2d& d, ConvPass pass, std::size_t device) {
  const Scratch scratch(rt, d, device);
  rt.impl().slot(device).queue.finish();
  std::vector<ConvAlgo> order{detail::select(pass, d)};
  for (ConvAlgo a : kCandidates)
    if (a != order[0] && detail::applies(a, pass, d)) order.push_back(a);
  ConvFindResult r;
  r.timed = true;
  double best = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ConvAlgo a = order[i];
    std::vector<double> ms;
    try {
      run_once(rt, d, pass, scratch, a);
      ms.push_back(run_once(rt, d, pass, scratch, a));
    } catch (const Error& e) {
      // A candidate that cannot run here (say, its workspace does not fit) is not a candidate;
      // Auto must not fail where the selector's pick would have run.
      if (i + 1 == order.size() && r.times.empty()) throw;
      log_warn(std::string("conv find: skipping ") + to_string(a) + ": " + e.what());
      continue;
    }
    const bool cut = !r.times.empty() && ms[0] > kCutFactor * best;
    while (!cut && ms.size() < std::size_t(kReps)) ms.push_back(run_once(rt, d, pass, scratch, a));
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    r.times.push_back({a, ms[ms.size() / 2], cut});
    if (r.times.size() == 1 || r.times.back().ms < best) best = r.times.back().ms;
  }
  std::stable_sort(r.times.begin(), r.times.end(), [](const ConvAlgoTime& a, const ConvAlgoTime& b) { return a.ms < b.ms; });
  r.algo = r.times.front().algo;
  return r;
}

}  // namespace

ConvFindResult conv2d_find(Runtime& rt, const Conv2d& d, ConvPass pass, std::size_t device) {
  d.validate();
  detail::RuntimeImpl& impl = rt.impl();
  const std::string key = find_key(impl, impl.slot(device), d, pass);
  {
    std::lock_guard<std::mutex> lock(impl.conv_find_mu);
    if (auto it = impl.conv_find_memo.find(key); it != impl.conv_find_memo.end()) return it->second;
  }
  const detail::BinaryCache& cache = *impl.build_context().cache;
  const std::string path = cache.path_for("conv-find-" + detail::hash128_hex(key));
  std::optional<ConvFindResult> r = load(cache, path, key, d, pass);
  if (!r) {
    r = time_candidates(rt, d, pass, device);
    std::string why;
    if (cache.enabled() && !detail::write_file_atomic(path, serialize(key, *r), &why)) log_warn("conv find: " + why);
  }
  log_info(std::string("conv find: ") + to_string(r->algo) + (r->timed ? " (timed)" : " (cached)") + " for " + key);
  std::lock_guard<std::mutex> lock(impl.conv_find_mu);
  ConvFindResult& memo = impl.conv_find_memo[key] = *r;
  memo.timed = false;  // later calls are answered from memory
  return *r;
}

void set_conv_find(Runtime& rt, bool on) { rt.impl().conv_find = on; }

}  // namespace anycl
