// anycl-bench train: training throughput (images/s) of examples/digits_training.hpp's models,
// anycl's Trainer against the same model in PyTorch (train_torch.py in a child process). The two
// take turns, one timed run of `steps` steps each per round, so both see the same machine load;
// each side's figure is the median over the rounds. With --profile, one more anycl run with the
// kernel profile on gives the kernels of a step: launches, device time, and what lies outside.
#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>

#include "digits_training.hpp"
#include "line_child.hpp"
#include "report.hpp"

namespace anycl_bench {
namespace {

using nlohmann::json;

struct TrainCase {
  std::string model;  // "resnet" (digits::small_resnet) or "cnn" (digits::small_cnn)
  std::size_t batch;
};

// Without --model and --batch: the small ResNet at 64 and the CNN at 32 and 256.
std::vector<TrainCase> train_cases(const Options& opt) {
  if (opt.model.empty() && !opt.batches_given) return {{"resnet", 64}, {"cnn", 32}, {"cnn", 256}};
  std::vector<TrainCase> cases;
  for (const char* model : {"resnet", "cnn"})
    if (opt.model.empty() || opt.model == model)
      for (std::size_t b : opt.batches_given ? opt.batches : std::vector<std::size_t>{64}) cases.push_back({model, b});
  if (cases.empty()) throw std::invalid_argument("anycl-bench train: unknown model " + opt.model + " (resnet, cnn)");
  return cases;
}

anycl::ModelSpec model_spec(const std::string& model) {
  digits::Data shape;
  shape.height = shape.width = 8;
  return model == "resnet" ? digits::small_resnet(shape) : digits::small_cnn(shape);
}

// One batch of uniform [0, 1) images and uniform labels: throughput does not depend on the values.
struct Batch {
  std::vector<float> x;
  std::vector<int> labels;
};

Batch random_batch(std::size_t n) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  std::uniform_int_distribution<int> label(0, 9);
  Batch b;
  for (std::size_t i = 0; i < n * 64; ++i) b.x.push_back(pixel(gen));
  for (std::size_t i = 0; i < n; ++i) b.labels.push_back(label(gen));
  return b;
}

// Steps per timed run: about 2048 images, at least 5 steps.
std::size_t steps_for(std::size_t batch) { return std::max<std::size_t>(5, 2048 / batch); }

double anycl_run(anycl::Trainer& trainer, const Batch& b, std::size_t steps, float& loss) {
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < steps; ++s) loss = trainer.step(b.x.data(), b.labels.data(), b.labels.size());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// PyTorch's images/s of one timed run, or -1 with the reason in `note`. A lost child or an
// answer that is not JSON ends the child: anycl runs alone from then on.
double torch_run(std::unique_ptr<LineChild>& child, const TrainCase& c, std::size_t steps, std::size_t warmup,
                 std::string& note) {
  if (!child) return -1;
  const json request = {{"model", c.model}, {"batch", c.batch}, {"steps", steps}, {"warmup", warmup}};
  json answer;
  try {
    answer = json::parse(child->ask(request.dump()));
  } catch (const std::exception& e) {
    note = std::string("PyTorch child: ") + e.what();
    child.reset();
    return -1;
  }
  note = answer.value("note", "pytorch");
  if (!answer.value("supported", true)) return -1;
  return answer.at("images_per_second").get<double>();
}

// The kernels of `steps` steps: per kernel its launches and device time per step.
json profile_steps(anycl::Runtime& rt, anycl::Trainer& trainer, const Batch& b, std::size_t steps) {
  float loss = 0;
  double seconds = 0;
  std::vector<anycl::KernelTime> kernels;
  {
    ProfileScope on(rt);
    seconds = anycl_run(trainer, b, steps, loss);
    kernels = anycl::kernel_profile(rt);
  }
  anycl::clear_kernel_profile(rt);
  const double step_ms = 1e3 * seconds / double(steps);
  json rows = json::array();
  double launches = 0, device_ms = 0;
  for (const anycl::KernelTime& k : kernels) {
    const double per_step = double(k.count) / double(steps), ms = k.total_ms / double(steps);
    rows.push_back({{"kernel", k.kernel}, {"device", k.device}, {"launches_per_step", per_step},
                    {"ms_per_step", ms}, {"median_ms", k.median_ms}});
    launches += per_step, device_ms += ms;
  }
  std::sort(rows.begin(), rows.end(),
            [](const json& a, const json& b) { return a["ms_per_step"].get<double>() > b["ms_per_step"].get<double>(); });
  return {{"step_ms", step_ms}, {"launches_per_step", launches}, {"kernel_ms_per_step", device_ms},
          {"outside_kernels_ms_per_step", step_ms - device_ms}, {"kernels", rows}};
}

void print_profile(std::FILE* table, const json& p) {
  std::fprintf(table, "  profile: %.3f ms per step, %.1f launches, %.3f ms in kernels, %.3f ms outside\n",
               p["step_ms"].get<double>(), p["launches_per_step"].get<double>(), p["kernel_ms_per_step"].get<double>(),
               p["outside_kernels_ms_per_step"].get<double>());
  for (const json& k : p["kernels"])
    std::fprintf(table, "    %-28s %6.2f launches %8.4f ms per step\n", k["kernel"].get<std::string>().c_str(),
                 k["launches_per_step"].get<double>(), k["ms_per_step"].get<double>());
}

void print_row(std::FILE* table, const TrainCase& c, double ours, const std::vector<double>& theirs) {
  std::fprintf(table, "%-7s %6zu %12.0f", c.model.c_str(), c.batch, ours);
  if (theirs.empty()) std::fprintf(table, " %12s %8s\n", "n/a", "n/a");
  else std::fprintf(table, " %12.0f %8.2f\n", median(theirs), ours / median(theirs));
}

json bench_case(anycl::Runtime& rt, const TrainCase& c, std::unique_ptr<LineChild>& torch, std::string& torch_note,
                const Options& opt) {
  anycl::TrainOptions o;
  o.batch = c.batch, o.lr = 0.05f, o.momentum = 0.9f;
  anycl::Trainer trainer(rt, model_spec(c.model), o);
  const Batch b = random_batch(c.batch);
  const std::size_t steps = steps_for(c.batch), warmup = 3;
  float loss = 0;
  anycl_run(trainer, b, warmup, loss);  // kernel builds, plans, first touch
  std::vector<double> ours, theirs;
  for (int r = 0; r < opt.rounds; ++r) {
    ours.push_back(double(steps * c.batch) / anycl_run(trainer, b, steps, loss));
    const double ips = torch_run(torch, c, steps, r == 0 ? warmup : 0, torch_note);
    if (ips > 0) theirs.push_back(ips);
  }
  json row = {{"model", c.model}, {"batch", c.batch}, {"steps_per_run", steps}, {"rounds", opt.rounds},
              {"anycl", {{"images_per_second", median(ours)}, {"runs", ours}, {"final_loss", loss}}},
              {"pytorch", {{"images_per_second", theirs.empty() ? json(nullptr) : json(median(theirs))},
                           {"runs", theirs}, {"note", torch_note}}}};
  row["anycl_vs_pytorch"] = theirs.empty() ? json(nullptr) : json(median(ours) / median(theirs));
  print_row(opt.table, c, median(ours), theirs);
  if (opt.profile) {
    row["profile"] = profile_steps(rt, trainer, b, steps);
    print_profile(opt.table, row["profile"]);
  }
  std::fflush(opt.table);
  return row;
}

}  // namespace

json bench_train(anycl::Runtime& rt, const Options& opt) {
  const std::string script =
      opt.torch_script.empty() ? std::string(ANYCL_BENCH_SOURCE_DIR) + "/train_torch.py" : opt.torch_script;
  std::string torch_note;
  std::unique_ptr<LineChild> torch = start_torch_script(script, torch_note);
  std::fprintf(opt.table, "%-7s %6s %12s %12s %8s   (images/s, median of %d rounds)\n", "model", "batch", "anycl",
               "pytorch", "ratio", opt.rounds);
  json runs = json::array();
  for (const TrainCase& c : train_cases(opt)) runs.push_back(bench_case(rt, c, torch, torch_note, opt));
  return runs;
}

}  // namespace anycl_bench
