// The convolution find step: time every applicable algorithm once per (device, shape, pass) and
// keep the winner in memory and in the on-disk cache beside the program binaries.
#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>

#include "ops/conv2d_find.hpp"

#include <boost/compute/buffer.hpp>

#include "ops/conv2d_passes.hpp"
#include "ops/conv2d_select.hpp"
#include "runtime/error.hpp"
#include "runtime/hash.hpp"
#include "runtime/log.hpp"
#include "runtime/version.hpp"

namespace anycl::detail {
namespace {

constexpr ConvAlgo kCandidates[] = {ConvAlgo::Im2col, ConvAlgo::Gemm1x1, ConvAlgo::Direct, ConvAlgo::Winograd,
                                     ConvAlgo::ImplicitGemm};
constexpr const char* kMagic = "anycl-conv-find 1";
constexpr int kReps = 3;
// After its first timed run, a candidate this many times slower than the best so far is not
// timed further: the direct kernels take ~0.2 s per run on a large layer and cannot win there.
constexpr double kCutFactor = 4;

const char* pass_label(ConvPass pass) {
  return pass == ConvPass::Forward ? "forward" : pass == ConvPass::BackwardData ? "backward_data" : "backward_weights";
}

// Everything that changes which algorithm wins: the device, the kernels as built (sources and
// options of every program), the workspace cap (it sets the batch chunks), the algorithms
// ANYCL_CONV_ALGOS disabled, the problem and pass.
std::string find_key(const FindSettings& settings, const DeviceSlot& slot, const Conv2d& d, ConvPass pass) {
  std::string kernels;
  for (const auto& [variant, prog] : slot.programs) kernels += variant + '\0' + prog.source_hash + '\0' + prog.options + '\0';
  std::ostringstream k;
  k << "device=" << slot.info.name << ";driver=" << slot.info.driver_version << ";cu=" << slot.info.compute_units
    << ";anycl=" << version_string() << ";kernels=" << hash128_hex(kernels)
    << ";workspace=" << settings.workspace_limit << ";disabled=" << settings.disabled << ";pass=" << pass_label(pass) << ";n=" << d.n << ";c=" << d.c
    << ";h=" << d.h << ";w=" << d.w << ";k=" << d.k << ";r=" << d.r << ";s=" << d.s << ";stride=" << d.stride_h << 'x'
    << d.stride_w << ";pad=" << d.pad_top << ',' << d.pad_left << ',' << d.pad_bottom << ',' << d.pad_right
    << ";dilation=" << d.dilation_h << 'x' << d.dilation_w << ";groups=" << d.groups << ";relu=" << d.relu
    << ";layout=" << to_string(d.layout);
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
  return body.str() + "check " + hash128_hex(body.str()) + '\n';
}

// The entry's result, or nullopt with the reason for a damaged, foreign or stale entry.
std::optional<ConvFindResult> parse(const std::string& text, const std::string& key, const Conv2d& d, ConvPass pass,
                                    std::string& why) {
  const std::size_t check_at = text.rfind("check ");
  if (check_at == std::string::npos || text.back() != '\n' ||
      text.substr(check_at + 6, text.size() - check_at - 7) != hash128_hex(text.substr(0, check_at)))
    return why = "checksum mismatch (truncated or corrupt)", std::nullopt;
  std::istringstream in(text.substr(0, check_at));
  std::string line, word;
  if (!std::getline(in, line) || line != kMagic) return why = "not a find entry of this format", std::nullopt;
  if (!std::getline(in, line) || line != "key " + key) return why = "entry is for another key", std::nullopt;
  ConvFindResult r;
  std::istringstream winner(std::getline(in, line) ? line : "");
  std::optional<ConvAlgo> best = winner >> word && word == "winner" && winner >> word ? algo_named(word) : std::nullopt;
  if (!best || !applies(*best, pass, d)) return why = "no applicable winner", std::nullopt;
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

std::optional<ConvFindResult> load(const BinaryCache& cache, const std::string& path, const std::string& key,
                                   const Conv2d& d, ConvPass pass) {
  if (!cache.enabled()) return std::nullopt;
  const std::optional<std::string> text = read_file(path);
  if (!text) return std::nullopt;
  std::string why;
  std::optional<ConvFindResult> r = text->empty() ? std::nullopt : parse(*text, key, d, pass, why);
  if (!r) log_warn("conv find: ignoring " + path + ": " + (why.empty() ? "empty file" : why));
  return r;
}

// Scratch tensors of the pass's shapes, zero-filled (stale memory may hold NaNs or denormals,
// which time differently), so the caller's buffers are never written.
struct Scratch {
  boost::compute::buffer x, w, y, k;
  Scratch(const DeviceSlot& slot, const Conv2d& d)
      : x(*slot.context, d.x_size() * sizeof(float)), w(*slot.context, d.w_size() * sizeof(float)),
        y(*slot.context, d.y_size() * sizeof(float)), k(*slot.context, d.k * sizeof(float)) {
    const float zero = 0;
    for (const boost::compute::buffer* b : {&x, &w, &y, &k})
      check(clEnqueueFillBuffer(slot.queue.get(), b->get(), &zero, sizeof zero, 0, b->size(), 0, nullptr, nullptr),
            "clEnqueueFillBuffer(conv find scratch)", slot.where());
    check(clFinish(slot.queue.get()), "clFinish", slot.where());
  }
  // Without bias: find keys do not depend on it, and it costs the same for every algorithm.
  ConvTensorSet set() const { return {x.get(), w.get(), y.get(), nullptr}; }
};

double run_once(const DeviceSlot& slot, const Conv2d& d, ConvPass pass, std::size_t cap, const Scratch& s,
                ConvAlgo algo) {
  const auto start = std::chrono::steady_clock::now();
  enqueue_conv(slot, pass, d, algo, cap, s.set()).wait();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Warm-up first (kernel builds and POCL's per-local-size compiles are not timed), then the
// median of kReps runs. The selector's pick goes first so the cut has a good bar early.
ConvFindResult time_candidates(const DeviceSlot& slot, const Conv2d& d, ConvPass pass, std::size_t cap,
                               ConvAlgoMask disabled) {
  const Scratch scratch(slot, d);
  std::vector<ConvAlgo> order{select(pass, d, disabled, conv_thresholds(slot))};
  for (ConvAlgo a : kCandidates)
    if (a != order[0] && applies(a, pass, d) && !(disabled & algo_bit(a))) order.push_back(a);
  ConvFindResult r;
  r.timed = true;
  double best = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ConvAlgo a = order[i];
    std::vector<double> ms;
    try {
      run_once(slot, d, pass, cap, scratch, a);
      ms.push_back(run_once(slot, d, pass, cap, scratch, a));
    } catch (const Error& e) {
      // A candidate that cannot run here (say, its workspace does not fit) is not a candidate;
      // Auto must not fail where the selector's pick would have run.
      if (i + 1 == order.size() && r.times.empty()) throw;
      log_warn(std::string("conv find: skipping ") + to_string(a) + ": " + e.what());
      continue;
    }
    const bool cut = !r.times.empty() && ms[0] > kCutFactor * best;
    while (!cut && ms.size() < std::size_t(kReps)) ms.push_back(run_once(slot, d, pass, cap, scratch, a));
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    r.times.push_back({a, ms[ms.size() / 2], cut});
    if (r.times.size() == 1 || r.times.back().ms < best) best = r.times.back().ms;
  }
  std::stable_sort(r.times.begin(), r.times.end(), [](const ConvAlgoTime& a, const ConvAlgoTime& b) { return a.ms < b.ms; });
  r.algo = r.times.front().algo;
  return r;
}

}  // namespace

ConvFindResult find_conv_algo(const DeviceSlot& slot, ConvFindMemo& memo, const FindSettings& settings,
                              const BinaryCache& cache, const Conv2d& d, ConvPass pass) {
  const std::string key = find_key(settings, slot, d, pass);
  {
    std::lock_guard<std::mutex> lock(memo.mu);
    if (auto it = memo.results.find(key); it != memo.results.end()) return it->second;
  }
  const std::string path = cache.path_for("conv-find-" + hash128_hex(key));
  std::optional<ConvFindResult> r = load(cache, path, key, d, pass);
  if (!r) {
    r = time_candidates(slot, d, pass, conv_workspace_cap(settings.workspace_limit, slot), settings.disabled);
    std::string why;
    if (cache.enabled() && !write_file_atomic(path, serialize(key, *r), &why)) log_warn("conv find: " + why);
  }
  log_info(std::string("conv find: ") + to_string(r->algo) + (r->timed ? " (timed)" : " (cached)") + " for " + key);
  std::lock_guard<std::mutex> lock(memo.mu);
  ConvFindResult& kept = memo.results[key] = *r;
  kept.timed = false;  // later calls are answered from memory
  return *r;
}

}  // namespace anycl::detail
