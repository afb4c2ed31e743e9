#include "oclgrind/oclgrind_runtime.hpp"

#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>

#include "oclgrind/deferred_release.hpp"
#include "runtime/search_space.hpp"
#include "sched/engine.hpp"
#include "support.hpp"

namespace anycl_test {
namespace {

struct Held {
  std::unique_ptr<anycl::Runtime> rt;
  OclgrindGemm gemm = OclgrindGemm::Cpu;
};

Held& held() {
  static Held h;
  return h;
}

struct ReleaseRuntimeAtRunEnd : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats&) override {
    held().rt.reset();
    release_deferred_buffers();
  }
};
CATCH_REGISTER_LISTENER(ReleaseRuntimeAtRunEnd)

}  // namespace

anycl::Runtime& oclgrind_runtime(OclgrindGemm gemm) {
  Held& h = held();
  if (h.rt) {
    REQUIRE(h.gemm == gemm);
    return *h.rt;
  }
  const char* spec = std::getenv("ANYCL_TEST_OCLGRIND_SPEC");
  const ScopedEnv forced("ANYCL_GEMM_FAMILY", std::string(gemm == OclgrindGemm::Tiled ? "tiled" : "cpu"));
  h.rt = std::make_unique<anycl::Runtime>(spec ? spec : "oclgrind");
  h.gemm = gemm;
  return *h.rt;
}

anycl::detail::ParamSet space_sample(anycl::Runtime& rt, const std::string& family,
                                     const anycl::detail::ParamSet& want) {
  const auto space = anycl::detail::load_search_space(rt.kernel_dir(), family);
  for (const anycl::detail::ParamSet& p : space.configurations(rt.device(0), sizeof(float))) {
    bool all = true;
    for (const auto& [k, v] : want) all = all && p.at(k) == v;
    if (all) return p;
  }
  FAIL("no configuration of the " << family << " space has the wanted values");
  return {};
}

void install(anycl::Runtime& rt, const std::string& variant, const anycl::detail::ParamSet& config) {
  anycl::detail::Engine& e = anycl::detail::engine(rt);
  anycl::detail::rebuild_program(e.devices.build_context(), e.slot(0), variant, config);
}

}  // namespace anycl_test
