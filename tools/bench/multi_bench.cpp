// anycl-bench multi: the multi-device scheduler. SGEMM 2048^2 and the 3x3 ResNet layers (batch 8,
// host pointers) on `cpu/2` (two 1-core sub-devices, split by the scheduler) against one 1-core
// device and the whole device; and POCL + Oclgrind on a small problem against POCL alone (the
// balancer must give the ~1e5x slower Oclgrind next to nothing). Each configuration runs in a
// child process: POCL_MAX_PTHREAD_COUNT and OCL_ICD_VENDORS are read when OpenCL initialises.
// The configurations take turns over several rounds and each median pools its rounds, so a slow
// spell of the shared machine falls on all of them rather than on whichever ran then. A paired
// part then runs the three in one process, a call of each in turn (paired_worker), and takes the
// ratios call by call: the slow spells, which last about half a second, no longer decide them.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include "report.hpp"

namespace anycl_bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Workload {
  std::string name;
  bool gemm;
  std::size_t size;  // GEMM m = n = k
  ConvShape conv;
  bool buffers = false;  // device buffers of device 0 instead of host pointers
};

std::vector<Workload> big_workloads(bool quick) {
  if (quick) return {{"sgemm 256", true, 256, {}}, {"conv 16ch 14x14->16", false, 0, {2, 16, 14, 14, 16, 3, 3, 1, 1}}};
  const ConvShape c64 = {8, 64, 56, 56, 64, 3, 3, 1, 1};
  return {{"sgemm 2048", true, 2048, {}},
          {"conv 64ch 56x56->64", false, 0, c64},
          {"conv 128ch 28x28->128", false, 0, {8, 128, 28, 28, 128, 3, 3, 1, 1}},
          {"conv 256ch 14x14->256", false, 0, {8, 256, 14, 14, 256, 3, 3, 1, 1}},
          {"sgemm 2048 on buffers", true, 2048, {}, true},
          {"conv 64ch 56x56 on buffers", false, 0, c64, true}};
}

std::vector<Workload> small_workloads() {
  return {{"sgemm 384", true, 384, {}}, {"conv 32ch 14x14->32", false, 0, {8, 32, 14, 14, 32, 3, 3, 1, 1}}};
}

// Page-aligned host memory, so that every configuration's inputs take the same path: zero-copy
// views need CL_DEVICE_MEM_BASE_ADDR_ALIGN (128 bytes on POCL), which malloc's 16-byte alignment
// met by chance. With plain vectors, one process's `cpu` and `cpu,oclgrind` runtimes ran the same
// code path 6-12% apart, and another's 3-9% apart the other way.
template <class T>
struct PageAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{4096};
  PageAllocator() = default;
  template <class U>
  PageAllocator(const PageAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlign); }
  bool operator==(const PageAllocator&) const { return true; }
  bool operator!=(const PageAllocator&) const { return false; }
};
using HostFloats = std::vector<float, PageAllocator<float>>;

HostFloats random_host(std::size_t n, unsigned seed) {
  HostFloats v(n);
  unsigned s = seed * 2654435761u + 1;
  for (auto& x : v) x = float((s = s * 1664525u + 1013904223u) >> 8) / float(1 << 24) - 0.5f;
  return v;
}

double flops(const Workload& w) { return w.gemm ? gemm_flops({w.size, w.size, w.size}) : conv_flops(w.conv); }

anycl::Buffer on_device(anycl::Runtime& rt, const HostFloats& v) {
  anycl::Buffer b = rt.alloc(v.size() * sizeof(float));
  rt.write(b, v.data(), v.size() * sizeof(float));
  return b;
}

// The inputs and output of one workload, made once: on the host, and on device 0 when the
// workload runs on device buffers.
struct Operands {
  HostFloats a, b, c;
  std::optional<anycl::Buffer> da, db, dc;
};

// One call of the workload on rt: host pointers (synchronous), or device buffers until the
// call's event completes.
std::function<void()> workload_call(anycl::Runtime& rt, const Workload& w) {
  auto o = std::make_shared<Operands>();
  anycl::Conv2d d;
  if (w.gemm) {
    o->a = random_host(w.size * w.size, 1), o->b = random_host(w.size * w.size, 2);
    o->c.resize(w.size * w.size);
  } else {
    const ConvShape& cs = w.conv;
    d.n = cs.n, d.c = cs.c, d.h = cs.h, d.w = cs.w, d.k = cs.k, d.r = cs.r, d.s = cs.s;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = cs.pad;
    o->a = random_host(d.x_size(), 3), o->b = random_host(d.w_size(), 4);
    o->c.resize(d.y_size());
  }
  if (w.buffers) o->da = on_device(rt, o->a), o->db = on_device(rt, o->b), o->dc = on_device(rt, o->c);
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = w.size;
  if (w.gemm && !w.buffers)
    return [&rt, o, s] { anycl::gemm<float>(rt, s, 1.f, o->a.data(), o->b.data(), 0.f, o->c.data()); };
  if (w.gemm) return [&rt, o, s] { anycl::gemm<float>(rt, s, 1.f, *o->da, 0, *o->db, 0, 0.f, *o->dc, 0).wait(); };
  if (!w.buffers)
    return [&rt, o, d] { anycl::conv2d_forward(rt, d, o->a.data(), o->b.data(), nullptr, o->c.data()); };
  return [&rt, o, d] { anycl::conv2d_forward(rt, d, *o->da, *o->db, nullptr, *o->dc).wait(); };
}

// Milliseconds of each timed run.
std::vector<double> time_workload(anycl::Runtime& rt, const Workload& w, int reps) {
  return run_timed(workload_call(rt, w), 2, reps);
}

// Calls of each workload on every runtime in turn (the order rotated every time), so that a slow
// spell of the machine (they last about half a second) falls on all of them alike.
// JSON {workload: {name: [ms]}}.
json alternate_calls(const std::vector<Workload>& workloads,
                     const std::vector<std::pair<const char*, anycl::Runtime*>>& runtimes, int reps) {
  json runs;
  for (const Workload& w : workloads) {
    std::vector<std::function<void()>> calls;
    for (const auto& [name, rt] : runtimes) calls.push_back(workload_call(*rt, w));
    for (int warm = 0; warm < 2; ++warm)
      for (auto& call : calls) call();
    for (int r = 0; r < reps; ++r)
      for (std::size_t k = 0; k < calls.size(); ++k) {
        const std::size_t i = (k + r) % calls.size();
        runs[w.name][runtimes[i].first].push_back(time_once_ms(calls[i]));
      }
  }
  return runs;
}

// The paired child: the whole device, cpu/2, and cpu/2 with all the work on its first
// sub-device (weights 1, 0: one core) in one process, a call of each in turn.
// JSON {"runs_ms": {workload: {"one_core"|"whole_device"|"cpu_2": [ms]}}}.
constexpr const char* kPairedConfigs[] = {"one_core", "whole_device", "cpu_2"};

int paired_worker(bool quick, int reps) {
  anycl::Runtime whole("cpu"), split("cpu/2"), one("cpu/2");
  anycl::device_weights(split);  // calibration outside the timings
  anycl::set_device_weights(one, {1, 0});
  const json runs =
      alternate_calls(big_workloads(quick), {{"one_core", &one}, {"whole_device", &whole}, {"cpu_2", &split}}, reps);
  std::cout << json{{"runs_ms", runs}}.dump() << "\n";
  return 0;
}

// The heterogeneous paired child: POCL alone and POCL + Oclgrind in one process, a call of each in
// turn, ten times the repetitions as in worker(). JSON {"runs_ms": {workload: {"pocl_alone"|
// "pocl_oclgrind": [ms]}}}. Both take the same code path while Oclgrind's share rounds to
// nothing, so what remains between them is the scheduler's own cost.
int hetero_paired_worker(int reps) {
  anycl::Runtime alone("cpu"), both("cpu,oclgrind");
  anycl::device_weights(both);  // calibration outside the timings
  const json runs = alternate_calls(small_workloads(), {{"pocl_alone", &alone}, {"pocl_oclgrind", &both}}, reps * 10);
  std::cout << json{{"runs_ms", runs}}.dump() << "\n";
  return 0;
}

// The child: one configuration, JSON {"devices", "weights", "runs_ms": {workload: [ms, ...]}}.
int worker(const std::string& spec, bool small, bool quick, int reps) {
  anycl::Runtime rt(spec);
  json out = {{"devices", json::array()}};
  for (std::size_t i = 0; i < rt.device_count(); ++i)
    out["devices"].push_back({{"name", rt.device(i).name}, {"compute_units", rt.device(i).compute_units}});
  if (rt.device_count() > 1) out["weights"] = anycl::device_weights(rt);  // calibration outside the timings
  // The small workloads take about a millisecond: ten times the repetitions keep their medians
  // from following a single scheduler hiccup.
  for (const Workload& w : small ? small_workloads() : big_workloads(quick))
    out["runs_ms"][w.name] = time_workload(rt, w, small ? reps * 10 : reps);
  std::cout << out.dump() << "\n";
  return 0;
}

std::string oclgrind_icd() {
  if (const char* env = std::getenv("ANYCL_OCLGRIND_ICD")) return env;
  for (const char* p : {"/usr/lib/oclgrind/liboclgrind-rt-icd.so", "/usr/lib/x86_64-linux-gnu/liboclgrind-rt-icd.so",
                        "/usr/local/lib/liboclgrind-rt-icd.so"})
    if (fs::exists(p)) return p;
  return "";
}

// An ICD vendor folder with the system's ICDs plus Oclgrind's.
std::string vendors_with_oclgrind(const std::string& icd) {
  const fs::path dir = fs::temp_directory_path() / ("anycl-bench-icd-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/etc/OpenCL/vendors", ec))
    fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing, ec);
  std::ofstream(dir / "oclgrind.icd") << icd << "\n";
  return dir.string();
}

// Options go before --worker: everything after it is the worker's.
json run_child(const std::string& env, const std::string& options, const std::string& worker_args) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  const std::string cmd = env + " '" + exe + "' multi " + options + " --worker " + worker_args;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0 || text.empty()) throw std::runtime_error("child failed (" + std::to_string(rc) + "): " + cmd);
  return json::parse(text);
}

double gflops(const json& r) { return r.value("gflops", 0.0); }

struct Config {
  std::string name, env, worker_args;
};

// Every configuration once per round, in an order rotated each round; then, per configuration,
// its devices and weights (from the last round) and each workload's median over all rounds.
json run_rounds(const std::vector<Config>& configs, const std::vector<Workload>& workloads, const std::string& options,
                int rounds) {
  json out;
  for (int round = 0; round < rounds; ++round)
    for (std::size_t i = 0; i < configs.size(); ++i) {
      const Config& c = configs[(i + round) % configs.size()];
      json child = run_child(c.env, options, c.worker_args);
      json& o = out[c.name];
      for (const Workload& w : workloads)
        for (double ms : child["runs_ms"][w.name]) o["runs_ms"][w.name].push_back(ms);
      child.erase("runs_ms");
      o.update(child);
    }
  for (const Config& c : configs) {
    json& o = out[c.name];
    for (const Workload& w : workloads) {
      Timing t = summarize(o["runs_ms"][w.name].get<std::vector<double>>(), flops(w), 0);
      t.note = "anycl, " + std::to_string(rounds) + " rounds";
      o["results"][w.name] = to_json(t);
    }
    o.erase("runs_ms");
  }
  return out;
}

// Per workload and configuration, the call times of one paired child per round.
json collect_paired(const std::string& env, const std::string& options, const std::string& worker,
                    const std::vector<Workload>& workloads, const std::vector<const char*>& configs, int rounds) {
  json runs;
  for (int round = 0; round < rounds; ++round) {
    const json child = run_child(env, options, worker);
    for (const Workload& w : workloads)
      for (const char* c : configs)
        for (double ms : child.at("runs_ms").at(w.name).at(c)) runs[w.name][c].push_back(ms);
  }
  return runs;
}

// The median over turns of times[slow][i] / times[fast][i]: how many times faster `fast` ran than
// `slow`, each call against the one next to it in time. A name the child did not time throws
// (json::at), where operator[] on a const json is undefined.
double paired_ratio(const json& times, const char* slow, const char* fast) {
  const auto a = times.at(slow).get<std::vector<double>>(), b = times.at(fast).get<std::vector<double>>();
  std::vector<double> r;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) r.push_back(a[i] / b[i]);
  return median(r);
}

// The paired configurations (paired_worker): per workload each configuration's median GFLOP/s, and
// the paired ratios over all rounds (cpu/2 against one core and against the whole device; and the
// whole device against one core, how far the device itself scales then).
json run_paired(const std::vector<Workload>& workloads, const std::string& options, int rounds, FILE* table) {
  const std::vector<const char*> configs(std::begin(kPairedConfigs), std::end(kPairedConfigs));
  const json runs = collect_paired("", options, "paired", workloads, configs, rounds);
  std::fprintf(table, "%-26s %10s %10s %10s | %9s %9s | %s\n", "paired (GFLOP/s)", "1 core", "whole", "cpu/2",
               "vs 1core", "vs whole", "whole vs 1core (one process, calls alternated)");
  json out;
  for (const Workload& w : workloads) {
    json& o = out[w.name];
    const json& times = runs.at(w.name);
    for (const char* c : configs) o[c] = to_json(summarize(times.at(c).get<std::vector<double>>(), flops(w), 0));
    const double r_one = paired_ratio(times, "one_core", "cpu_2");
    const double r_whole = paired_ratio(times, "whole_device", "cpu_2");
    const double r_scaling = paired_ratio(times, "one_core", "whole_device");
    o["ratios"] = {{"cpu_2_vs_one_core", r_one}, {"cpu_2_vs_whole", r_whole}, {"whole_vs_one_core", r_scaling}};
    std::fprintf(table, "%-26s %10.1f %10.1f %10.1f | %8.2fx %8.2fx | %8.2fx\n", w.name.c_str(), gflops(o["one_core"]),
                 gflops(o["whole_device"]), gflops(o["cpu_2"]), r_one, r_whole, r_scaling);
  }
  return out;
}

// POCL + Oclgrind against POCL alone: each in child processes taking turns (run_rounds), then both
// in one process, calls alternated (hetero_paired_worker); the target is judged on the paired ratio.
json run_heterogeneous(const std::string& icd, const std::string& options, int rounds, FILE* table) {
  const std::string dir = vendors_with_oclgrind(icd);
  const std::string vendors = "OCL_ICD_VENDORS='" + dir + "'";
  json het = run_rounds({{"pocl_alone", vendors, "cpu small"}, {"pocl_oclgrind", vendors, "cpu,oclgrind small"}},
                        small_workloads(), options, rounds);
  const json paired =
      collect_paired(vendors, options, "hetero-paired", small_workloads(), {"pocl_alone", "pocl_oclgrind"}, rounds);
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::fprintf(table, "%-26s %10s %10s %10s | %9s %9s (POCL+Oclgrind vs POCL alone)\n", "heterogeneous (GFLOP/s)",
               "POCL", "", "+Oclgrind", "processes", "paired");
  for (const Workload& w : small_workloads()) {
    const double alone = gflops(het["pocl_alone"]["results"][w.name]);
    const double both = gflops(het["pocl_oclgrind"]["results"][w.name]);
    const double r_paired = paired_ratio(paired.at(w.name), "pocl_alone", "pocl_oclgrind");
    het["ratios"][w.name] = {{"with_oclgrind_vs_alone", alone > 0 ? both / alone : 0},
                             {"with_oclgrind_vs_alone_paired", r_paired}};
    std::fprintf(table, "%-26s %10.1f %10s %10.1f | %8.2fx %8.2fx\n", w.name.c_str(), alone, "", both,
                 alone > 0 ? both / alone : 0, r_paired);
  }
  return het;
}

}  // namespace

int bench_multi(int argc, char** argv, const Options& opt, bool as_json, const std::string& out_file,
                const json& machine) {
  for (int i = 2; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--worker") {
      const std::string spec = argv[i + 1];
      if (spec == "paired") return paired_worker(opt.quick, opt.reps);
      if (spec == "hetero-paired") return hetero_paired_worker(opt.reps);
      const bool small = i + 2 < argc && std::string(argv[i + 2]) == "small";
      return worker(spec, small, opt.quick, opt.reps);
    }
  const std::string common = "--reps " + std::to_string(opt.reps) + (opt.quick ? " --quick" : "");
  json doc = {{"schema", "anycl-bench-multi/1"}, {"machine", machine}};
  doc["rounds"] = opt.rounds;
  json& big = doc["split"];
  big = run_rounds({{"one_core", "POCL_MAX_PTHREAD_COUNT=1", "cpu big"}, {"whole_device", "", "cpu big"},
                    {"cpu_2", "", "cpu/2 big"}},
                   big_workloads(opt.quick), common, opt.rounds);
  std::fprintf(opt.table, "%-26s %10s %10s %10s | %9s %9s\n", "multi (GFLOP/s)", "1 core", "whole", "cpu/2",
               "vs 1core", "vs whole");
  for (const auto& w : big_workloads(opt.quick)) {
    const double one = gflops(big["one_core"]["results"][w.name]), whole = gflops(big["whole_device"]["results"][w.name]),
                 split = gflops(big["cpu_2"]["results"][w.name]);
    big["ratios"][w.name] = {{"cpu_2_vs_one_core", one > 0 ? split / one : 0}, {"cpu_2_vs_whole", whole > 0 ? split / whole : 0}};
    std::fprintf(opt.table, "%-26s %10.1f %10.1f %10.1f | %8.2fx %8.2fx\n", w.name.c_str(), one, whole, split,
                 one > 0 ? split / one : 0, whole > 0 ? split / whole : 0);
  }
  doc["paired"] = run_paired(big_workloads(opt.quick), common, opt.rounds, opt.table);
  const std::string icd = oclgrind_icd();
  json& het = doc["heterogeneous"];
  if (icd.empty())
    het = {{"supported", false}, {"note", "Oclgrind's ICD library was not found (set ANYCL_OCLGRIND_ICD)"}};
  else
    het = run_heterogeneous(icd, common, opt.rounds, opt.table);
  std::fflush(opt.table);
  if (!out_file.empty()) std::ofstream(out_file) << doc.dump(2) << "\n";
  if (as_json) std::cout << doc.dump(2) << "\n";
  return 0;
}

}  // namespace anycl_bench
