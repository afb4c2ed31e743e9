// anycl-bench net: every convolution of a network (ResNet-18 on 224x224 images) in forward,
// backward-data and backward-weights, each timed with anycl (Auto), oneDNN (NCHW and blocked)
// and PyTorch (net_torch.py in a child process). On each layer and pass anycl and oneDNN take
// turns call by call, then PyTorch runs, so all see the same machine load. Per pass, the
// network's total is each layer's median times how many convolutions of the network have its shape.
#include <memory>
#include <stdexcept>

#include "line_child.hpp"
#include "report.hpp"

namespace anycl_bench {
namespace {

using nlohmann::json;

struct NetLayer {
  std::string name;
  ConvShape shape;
  int count;                  // convolutions of the network with this shape
  bool input_layer = false;   // its backward-data (the gradient of the image) is never needed
};

// torchvision's resnet18: the 7x7 stem, then four stages of two basic blocks; the first block of
// stages 2-4 halves the resolution with a strided 3x3 and a strided 1x1 projection shortcut.
std::vector<NetLayer> resnet18(std::size_t n) {
  std::vector<NetLayer> layers = {{"conv1 7x7 s2", {n, 3, 224, 224, 64, 7, 7, 2, 3}, 1, true},
                                  {"layer1 3x3", {n, 64, 56, 56, 64, 3, 3, 1, 1}, 4}};
  for (std::size_t stage = 2, c = 64, hw = 56; stage <= 4; ++stage, c *= 2, hw /= 2) {
    const std::string name = "layer" + std::to_string(stage);
    layers.push_back({name + " 3x3 s2", {n, c, hw, hw, 2 * c, 3, 3, 2, 1}, 1});
    layers.push_back({name + " 3x3", {n, 2 * c, hw / 2, hw / 2, 2 * c, 3, 3, 1, 1}, 3});
    layers.push_back({name + " 1x1 s2 shortcut", {n, c, hw, hw, 2 * c, 1, 1, 2, 0}, 1});
  }
  return layers;
}

struct PassKind {
  anycl::ConvPass pass;
  const char* key;
};
constexpr PassKind kPasses[] = {{anycl::ConvPass::Forward, "forward"},
                                {anycl::ConvPass::BackwardData, "backward_data"},
                                {anycl::ConvPass::BackwardWeights, "backward_weights"}};
constexpr const char* kSides[] = {"anycl", "onednn_nchw", "onednn_blocked", "pytorch"};

// PyTorch through net_torch.py, started once and asked for one layer and pass at a time. After a
// failure to start or a lost child every answer is `supported: false` with the reason.
class TorchOpponent {
 public:
  explicit TorchOpponent(const std::string& script_option) {
    const std::string script =
        script_option.empty() ? std::string(ANYCL_BENCH_SOURCE_DIR) + "/net_torch.py" : script_option;
    child_ = start_torch_script(script, off_);
  }

  Timing time(const ConvShape& cs, const char* pass, int reps) {
    if (!child_) return unsupported(off_);
    const json request = {{"n", cs.n},   {"c", cs.c},     {"h", cs.h},       {"w", cs.w},    {"k", cs.k},
                          {"r", cs.r},   {"s", cs.s},     {"stride", cs.stride}, {"pad", cs.pad},
                          {"pass", pass}, {"reps", reps}, {"warmup", 2}};
    json answer;
    try {
      answer = json::parse(child_->ask(request.dump()));
    } catch (const std::exception& e) {  // a lost child or a line that is not JSON
      off_ = std::string("PyTorch child: ") + e.what();
      child_.reset();
      return unsupported(off_);
    }
    if (answer.value("supported", true) == false) return unsupported(answer.value("note", "unsupported"));
    Timing t;
    t.median_ms = answer.at("median_ms").get<double>();
    t.first_call_ms = answer.at("first_call_ms").get<double>();
    t.runs = answer.at("runs").get<int>();
    t.gflops = t.median_ms > 0 ? conv_flops(cs) / (t.median_ms * 1e6) : 0;
    t.note = answer.value("note", "pytorch");
    return t;
  }

 private:
  std::unique_ptr<LineChild> child_;
  std::string off_;
};

ConvDirection direction(anycl::ConvPass pass) {
  if (pass == anycl::ConvPass::Forward) return ConvDirection::forward;
  return pass == anycl::ConvPass::BackwardData ? ConvDirection::backward_data : ConvDirection::backward_weights;
}

json shape_json(const ConvShape& cs) {
  return {{"n", cs.n}, {"c", cs.c}, {"h", cs.h}, {"w", cs.w}, {"k", cs.k},
          {"r", cs.r}, {"s", cs.s}, {"stride", cs.stride}, {"pad", cs.pad}};
}

// One layer: each pass, anycl and oneDNN's two layouts taking turns (time_contenders), then
// PyTorch.
json time_layer(anycl::Runtime& rt, const NetLayer& l, TorchOpponent& torch, bool cpu, int reps) {
  const anycl::Conv2d d = to_desc(l.shape);
  d.validate();
  const ConvTensors t = random_tensors(rt, d);
  const double flops = conv_flops(l.shape);
  json row = {{"layer", l.name}, {"count", l.count}, {"shape", shape_json(l.shape)}, {"gflop", flops * 1e-9},
              {"input_layer", l.input_layer}};
  for (const PassKind& p : kPasses) {
    std::vector<Prepare> sides = {[&] { return prepare_anycl_conv(rt, d, t, p.pass, anycl::ConvAlgo::Auto); }};
    for (const bool blocked : {false, true})
      sides.push_back(onednn_contender(direction(p.pass), l.shape, blocked, cpu));
    std::vector<Timing> times = time_contenders(sides, flops, reps);
    times.push_back(torch.time(l.shape, p.key, reps));
    for (int i = 0; i < 4; ++i) row[p.key][kSides[i]] = to_json(times[i]);
  }
  return row;
}

double median_ms(const json& result) {
  return result.value("supported", true) ? result.at("median_ms").get<double>() : -1.0;
}

// Per pass and side: the sum of count x median over the layers (null when a layer is missing),
// and the opponents' totals over anycl's. The input layer's backward-data is left out.
json totals(const json& layers) {
  json out;
  for (const char* side : kSides) {
    double all = 0;
    bool complete = true;
    for (const PassKind& p : kPasses) {
      double sum = 0;
      bool have = true;
      for (const json& l : layers) {
        if (l["input_layer"].get<bool>() && p.pass == anycl::ConvPass::BackwardData) continue;
        const double ms = median_ms(l[p.key][side]);
        have = have && ms >= 0;
        sum += l["count"].get<int>() * ms;
      }
      out[p.key][side] = have ? json(sum) : json(nullptr);
      all += sum, complete = complete && have;
    }
    out["all"][side] = complete ? json(all) : json(nullptr);
  }
  for (auto& [pass, sides] : out.items()) {
    (void)pass;
    for (int i = 1; i < 4; ++i)
      if (!sides[kSides[i]].is_null() && !sides["anycl"].is_null())
        sides["anycl_speedup_vs_" + std::string(kSides[i])] =
            sides[kSides[i]].get<double>() / sides["anycl"].get<double>();
  }
  return out;
}

void print_header(std::FILE* table, std::size_t batch) {
  std::fprintf(table, "resnet18 batch %zu, ms per call %-3s | %-35s | %-35s | %-35s\n", batch, "", "forward",
               "backward-data", "backward-weights");
  std::fprintf(table, "%-26s %3s", "layer", "x");
  for (int p = 0; p < 3; ++p) std::fprintf(table, " | %8s %8s %8s %8s", "anycl", "dnnNCHW", "dnnBlk", "torch");
  std::fprintf(table, "\n");
}

void print_cells(std::FILE* table, const char* label, const std::string& count, const json& per_pass,
                 bool of_timings) {
  std::fprintf(table, "%-26s %3s", label, count.c_str());
  for (const PassKind& p : kPasses) {
    std::fprintf(table, " |");
    for (const char* side : kSides) {
      const json& v = per_pass[p.key][side];
      const double ms = of_timings ? median_ms(v) : (v.is_null() ? -1.0 : v.get<double>());
      if (ms < 0) std::fprintf(table, " %8s", "n/a");
      else std::fprintf(table, " %8.2f", ms);
    }
  }
  std::fprintf(table, "\n");
  std::fflush(table);
}

}  // namespace

nlohmann::json bench_net(anycl::Runtime& rt, const Options& opt) {
  if (opt.network != "resnet18") throw std::invalid_argument("anycl-bench net: unknown network " + opt.network);
  const bool cpu = rt.device(0).type == "cpu";
  TorchOpponent torch(opt.torch_script);
  json runs = json::array();
  for (const std::size_t batch : opt.batches) {
    print_header(opt.table, batch);
    json layers = json::array();
    for (const NetLayer& l : resnet18(batch)) {
      if (l.name.find(opt.only) == std::string::npos) continue;
      layers.push_back(time_layer(rt, l, torch, cpu, opt.reps));
      print_cells(opt.table, l.name.c_str(), std::to_string(l.count), layers.back(), true);
    }
    const json sums = totals(layers);
    print_cells(opt.table, "total (count x median)", "", sums, false);
    std::fprintf(opt.table, "all passes, ms:");
    for (const char* side : kSides) {
      const json& ms = sums["all"][side];
      if (ms.is_null()) std::fprintf(opt.table, " %s n/a", side);
      else std::fprintf(opt.table, " %s %.1f", side, ms.get<double>());
    }
    std::fprintf(opt.table, "\n\n");
    runs.push_back({{"network", opt.network}, {"batch", batch}, {"reps", opt.reps}, {"layers", layers},
                    {"totals_ms", sums}});
  }
  return runs;
}

}  // namespace anycl_bench
