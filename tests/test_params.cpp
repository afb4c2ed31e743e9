// src/runtime/params.cpp: tunable defaults from .cl files, the JSON parameter tables and their
// layering (generic < capability < device name), and every kind of bad input being logged and
// ignored without a crash.
#include <catch2/catch.hpp>

#include "runtime/params.hpp"
#include "support.hpp"

using anycl::detail::cl_defaults;
using anycl::detail::ParamSet;
using anycl::detail::ParamSources;
using anycl::detail::ParamTable;
using anycl_test::contains;
using anycl_test::ScopedEnv;

namespace {

anycl::DeviceInfo device(const std::string& name, const std::string& type = "cpu") {
  anycl::DeviceInfo d;
  d.name = name;
  d.type = type;
  d.driver_version = "3.1+debian";
  d.vector_width_float = 16;
  d.local_mem = 1 << 20;
  d.fp64 = true;
  return d;
}

const ParamSet kDefaults{{"MR", 4}, {"NR", 8}, {"VW", 4}, {"KU", 1}};

// Resolves `json` for family "fam" on `dev`, capturing what was logged with ANYCL_LOG=warn.
ParamSet resolve(const std::string& json, const anycl::DeviceInfo& dev, std::string* log = nullptr,
                 const std::string& variant = "fam_f32") {
  ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
  anycl_test::StderrCapture capture;
  ParamSet out;
  {
    ParamTable table(json, "test.json");
    out = table.resolve(dev, "fam", variant, kDefaults);
  }
  const std::string text = capture.text();
  if (log) *log = text;
  return out;
}

std::string entries(const std::string& body) { return R"({"entries": [)" + body + "]}"; }

}  // namespace

TEST_CASE("cl_defaults reads #ifndef X / #define X <integer> pairs only", "[params]") {
  const std::string src = R"(
#ifndef MR
#define MR 4 /* rows */
#endif
#ifndef REAL
#define REAL float
#endif
#define NOT_A_PARAM 7
#ifndef NR
#define NR 16
#endif
#ifndef A
#define B 3
#endif
#ifndef NEG
#define NEG -2
#endif
#ifndef EXPR
#define EXPR (2*4)
#endif
#ifndef GAP

#define GAP 5
#endif
)";
  const ParamSet p = cl_defaults(src);
  CHECK(p == ParamSet{{"MR", 4}, {"NR", 16}, {"NEG", -2}, {"GAP", 5}});
  CHECK(cl_defaults("").empty());
  CHECK(cl_defaults("#ifndef X").empty());
}

TEST_CASE("cl_defaults of the shipped kernels are usable", "[params]") {
  for (const char* file : {"gemm_packed.cl", "gemm_direct.cl"}) {
    INFO(file);
    const ParamSet p = cl_defaults(anycl_test::slurp(anycl_test::source_kernel_dir() + "/" + file));
    REQUIRE_FALSE(p.empty());
    CHECK(p.count("REAL") == 0);  // a type, not a tunable
    for (const auto& [k, v] : p) CHECK(v >= 1);
    if (p.count("NR") && p.count("VW")) CHECK(p.at("NR") % p.at("VW") == 0);
  }
}

TEST_CASE("layering: defaults < generic < capability < device name, whatever the file order", "[params]") {
  const std::string json = entries(R"(
    {"name": "named", "match": {"device_name_prefix": "pthread"}, "params": {"fam": {"MR": 5}}},
    {"name": "cpu-wide", "match": {"type": "cpu", "min_vector_width_float": 8}, "params": {"fam": {"MR": 3, "KU": 2}}},
    {"name": "generic", "params": {"fam": {"MR": 2, "KU": 3, "NR": 16}}}
  )");
  std::string log;
  CHECK(resolve(json, device("pthread-skylake"), &log) == ParamSet{{"MR", 5}, {"NR", 16}, {"VW", 4}, {"KU", 2}});
  CHECK(log.empty());
  CHECK(resolve(json, device("other-cpu")) == ParamSet{{"MR", 3}, {"NR", 16}, {"VW", 4}, {"KU", 2}});
  CHECK(resolve(json, device("pthread-gpu", "gpu")) == ParamSet{{"MR", 5}, {"NR", 16}, {"VW", 4}, {"KU", 3}});
  CHECK(resolve(json, device("Some GPU", "gpu")) == ParamSet{{"MR", 2}, {"NR", 16}, {"VW", 4}, {"KU", 3}});
  anycl::DeviceInfo narrow = device("narrow");
  narrow.vector_width_float = 4;
  CHECK(resolve(json, narrow) == ParamSet{{"MR", 2}, {"NR", 16}, {"VW", 4}, {"KU", 3}});

  ParamTable table(json, "t");
  CHECK(table.matching_entries(device("pthread-x")) == std::vector<std::string>{"generic", "cpu-wide", "named"});
  CHECK(table.matching_entries(device("x", "gpu")) == std::vector<std::string>{"generic"});
}

TEST_CASE("a variant entry overrides its family entry; other families are untouched", "[params]") {
  const std::string json = entries(R"(
    {"params": {"fam_f64": {"MR": 7}, "fam": {"MR": 6, "KU": 2}, "other": {"MR": 1}}}
  )");
  CHECK(resolve(json, device("d"), nullptr, "fam_f64") == ParamSet{{"MR", 7}, {"NR", 8}, {"VW", 4}, {"KU", 2}});
  CHECK(resolve(json, device("d"), nullptr, "fam_f32") == ParamSet{{"MR", 6}, {"NR", 8}, {"VW", 4}, {"KU", 2}});
}

TEST_CASE("capability keys: driver prefix, fp64, local memory, unknown keys never match", "[params]") {
  const std::string json = entries(R"(
    {"name": "drv", "match": {"driver_version_prefix": "3.1"}, "params": {"fam": {"MR": 2}}},
    {"name": "nofp64", "match": {"fp64": false}, "params": {"fam": {"KU": 4}}},
    {"name": "bigmem", "match": {"min_local_mem_kb": 2048}, "params": {"fam": {"NR": 32}}},
    {"name": "mystery", "match": {"flux_capacitor": "yes"}, "params": {"fam": {"MR": 9}}}
  )");
  anycl::DeviceInfo d = device("d");
  CHECK(resolve(json, d) == ParamSet{{"MR", 2}, {"NR", 8}, {"VW", 4}, {"KU", 1}});
  d.fp64 = false;
  d.local_mem = 4u << 20;
  d.driver_version = "2.0";
  CHECK(resolve(json, d) == ParamSet{{"MR", 4}, {"NR", 32}, {"VW", 4}, {"KU", 4}});
}

TEST_CASE("bad documents are logged and ignored: defaults survive", "[params]") {
  for (const std::string& bad : std::vector<std::string>{"", "{", "[]", "42", "null", R"({"entries": 3})", R"({"entries": {}})",
                                R"({"other": []})", "\xff\xfe garbage", std::string("{\"entries\": [\0]}", 16)}) {
    INFO("document: " << bad);
    std::string log;
    CHECK(resolve(bad, device("d"), &log) == kDefaults);
    CHECK(contains(log, "test.json"));
    CHECK(contains(log, "ignored"));
  }
}

TEST_CASE("bad entries are logged and skipped, good entries beside them still apply", "[params]") {
  const std::string good = R"({"name": "good", "params": {"fam": {"KU": 2}}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("not an object")", "not an object"},
      {R"({"name": "s", "params": {"fam": {"MR": "4"}}})", "not an integer"},
      {R"({"name": "f", "params": {"fam": {"MR": 4.5}}})", "not an integer"},
      {R"({"name": "b", "params": {"fam": {"MR": true}}})", "not an integer"},
      {R"({"name": "z", "params": {"fam": {"MR": 0}}})", "MR is 0, which only a switch"},
      {R"({"name": "n", "params": {"fam": {"MR": -3}}})", "outside"},
      {R"({"name": "h", "params": {"fam": {"MR": 5000}}})", "outside"},
      {R"({"name": "u", "params": {"fam": {"MR": 18446744073709551615}}})", "outside"},
      {R"({"name": "a", "params": {"fam": [1, 2]}})", "expected an object"},
      {R"({"name": "p", "params": []})", "params must be an object"},
      {R"({"name": "np"})", "params must be an object"},
      {R"({"name": "m", "match": [1], "params": {"fam": {"MR": 2}}})", "match must be an object"},
      {R"({"name": "mv", "match": {"type": 1.5}, "params": {"fam": {"MR": 2}}})", "match values"},
      {R"({"name": 12, "params": {"fam": {"MR": 2}}})", "entry ignored"},
  };
  for (const auto& [entry, why] : cases) {
    INFO("entry: " << entry);
    std::string log;
    const ParamSet p = resolve(entries(entry + "," + good), device("d"), &log);
    CHECK(p == ParamSet{{"MR", 4}, {"NR", 8}, {"VW", 4}, {"KU", 2}});
    CHECK(contains(log, why));
  }
}

TEST_CASE("0 sets a switch whose .cl default is 0 and is refused for every other tunable", "[params]") {
  ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
  const ParamSet defaults{{"MR", 4}, {"AHEAD", 0}};
  const auto resolve_with = [&](const std::string& params, std::string* log) {
    anycl_test::StderrCapture capture;
    ParamSet out = ParamTable(entries(R"({"name": "e", "params": {"fam": )" + params + "}}"), "test.json")
                       .resolve(device("d"), "fam", "fam_f32", defaults);
    *log = capture.text();
    return out;
  };
  std::string log;
  CHECK(resolve_with(R"({"AHEAD": 3})", &log) == ParamSet{{"MR", 4}, {"AHEAD", 3}});
  CHECK(log.empty());
  const ParamTable on(entries(R"({"name": "on", "params": {"fam": {"AHEAD": 3}}},
                                 {"name": "off", "match": {"type": "cpu"}, "params": {"fam": {"AHEAD": 0}}})"),
                      "test.json");
  CHECK(on.resolve(device("d"), "fam", "fam_f32", defaults) == ParamSet{{"MR", 4}, {"AHEAD", 0}});
  CHECK(resolve_with(R"({"MR": 0, "AHEAD": 2})", &log) == defaults);
  CHECK(contains(log, "MR is 0, which only a switch"));
  CHECK(contains(log, "'e'"));
}

TEST_CASE("combinations the kernels cannot honour are refused per entry", "[params]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"NR": 6, "VW": 4})", "NR must be a multiple of VW"},
      {R"({"VW": 16})", "NR must be a multiple of VW"},  // against the default NR 8
      {R"({"VW": 3})", "VW must be"},
      {R"({"VW": 32, "NR": 32})", "VW must be"},
      {R"({"FOO": 2})", "unknown parameter FOO"},
      {R"({"MR": 2, "FOO": 2})", "unknown parameter FOO"},
  };
  for (const auto& [params, why] : cases) {
    INFO("params: " << params);
    std::string log;
    const ParamSet p = resolve(entries(R"({"name": "e", "params": {"fam": )" + params + "}}"), device("d"), &log);
    CHECK(p == kDefaults);
    CHECK(contains(log, why));
    CHECK(contains(log, "'e'"));
  }
  // A later entry may not break what an earlier one set up: VW 8 after NR 12 is refused.
  std::string log;
  const ParamSet p = resolve(entries(R"({"name": "g", "params": {"fam": {"NR": 12}}},
                                       {"name": "cpu", "match": {"type": "cpu"}, "params": {"fam": {"VW": 8}}})"),
                             device("d"), &log);
  CHECK(p.at("NR") == 12);
  CHECK(p.at("VW") == 4);
  CHECK(contains(log, "NR must be a multiple of VW"));
}

TEST_CASE("mutated documents never crash the loader", "[params][fuzz]") {
  const std::string base = entries(R"(
    {"name": "named", "match": {"device_name_prefix": "d", "type": "cpu"}, "params": {"fam": {"MR": 5, "NR": 16, "VW": 8}}},
    {"name": "generic", "params": {"fam_f32": {"KU": 2}}}
  )");
  std::uint64_t x = 42;
  auto next = [&] { return x = x * 6364136223846793005ULL + 1442695040888963407ULL, x >> 33; };
  const std::string alphabet = "{}[]\",:0123456789-.etrufnl \\x";
  ScopedEnv quiet("ANYCL_LOG", std::nullopt);
  for (int i = 0; i < 3000; ++i) {
    std::string doc = base;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = next() % doc.size();
      switch (next() % 3) {
        case 0: doc[pos] = alphabet[next() % alphabet.size()]; break;
        case 1: doc.erase(pos, 1 + next() % 8); break;
        default: doc.insert(pos, 1, alphabet[next() % alphabet.size()]); break;
      }
    }
    ParamSet p;
    REQUIRE_NOTHROW(p = ParamTable(doc, "fuzz").resolve(device("d"), "fam", "fam_f32", kDefaults));
    // Whatever survived is within range and honours the kernels' constraints.
    for (const auto& [k, v] : p) {
      CHECK(kDefaults.count(k) == 1);
      CHECK(v >= 1);
    }
    CHECK(p.at("NR") % p.at("VW") == 0);
  }
}

TEST_CASE("ParamTable(kernel_dir) reads every params/*.json, sorted, skipping bad files", "[params][files]") {
  anycl_test::TempDir dir;
  anycl_test::fs::create_directories(dir / "params");
  anycl_test::spit(dir / "params/a.json", entries(R"({"name": "a", "params": {"fam": {"MR": 2}}})"));
  anycl_test::spit(dir / "params/b.json", "{ broken");
  anycl_test::spit(dir / "params/c.json", entries(R"({"name": "c", "params": {"fam": {"MR": 3}}})"));
  anycl_test::spit(dir / "params/notes.txt", entries(R"({"name": "txt", "params": {"fam": {"MR": 9}}})"));
  ScopedEnv verbose("ANYCL_LOG", std::string("warn"));
  anycl_test::StderrCapture capture;
  const ParamTable table(ParamSources{dir.path(), ""});
  const std::string log = capture.text();
  CHECK(contains(log, "b.json"));
  CHECK(table.matching_entries(device("d")) == std::vector<std::string>{"a", "c"});
  CHECK(table.resolve(device("d"), "fam", "fam_f32", kDefaults).at("MR") == 3);  // later file wins a tie

  const ParamTable none(ParamSources{dir / "does-not-exist", ""});
  CHECK(none.matching_entries(device("d")).empty());
  CHECK(none.resolve(device("d"), "fam", "fam_f32", kDefaults) == kDefaults);

  // The shipped tables (if any) load without a single warning.
  anycl_test::StderrCapture shipped_capture;
  const ParamTable shipped(ParamSources{anycl_test::source_kernel_dir(), ""});
  CHECK(shipped_capture.text().empty());
}

TEST_CASE("tuned files rank above every shipped entry and ANYCL_PARAMS picks the layers", "[params][files]") {
  anycl_test::TempDir dir;
  anycl_test::fs::create_directories(dir / "params");
  anycl_test::fs::create_directories(dir / "tuned");
  anycl_test::spit(dir / "params/devices.json",
                   entries(R"({"name": "named", "match": {"device_name_prefix": "d"}, "params": {"fam_f32": {"MR": 3}}})"));
  anycl_test::spit(dir / "tuned/d.json", entries(R"({"name": "tuned", "params": {"fam": {"MR": 5, "NR": 16}}})"));
  const ParamSources sources{dir.path(), dir / "tuned"};
  auto mr_with = [&](const std::optional<std::string>& mode) {
    ScopedEnv env("ANYCL_PARAMS", mode);
    return ParamTable(sources).resolve(device("d"), "fam", "fam_f32", kDefaults).at("MR");
  };
  CHECK(mr_with(std::nullopt) == 5);  // a family-wide tuned entry beats a named variant entry
  CHECK(mr_with(std::string("all")) == 5);
  CHECK(mr_with(std::string("shipped")) == 3);
  CHECK(mr_with(std::string("tuned")) == 5);
  CHECK(mr_with(std::string("generic")) == kDefaults.at("MR"));
  std::string message;
  CHECK(anycl_test::status_of([&] { mr_with(std::string("shiped")); }, &message) == ANYCL_ERROR_INVALID_ARGUMENT);
  CHECK(contains(message, "ANYCL_PARAMS"));
  CHECK(anycl::detail::tuned_params_path("/c", device("a b(c)")) == "/c/params/a_b_c_.json");
}
