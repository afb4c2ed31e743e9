#include "oclgrind/oclgrind_runtime.hpp"

#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <optional>

#include "oclgrind/deferred_release.hpp"
#include "support.hpp"

namespace anycl_test {
namespace {

struct Held {
  std::unique_ptr<anycl::Runtime> rt;
  OclgrindGemm gemm = OclgrindGemm::Auto;
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
  std::optional<ScopedEnv> forced;
  if (gemm == OclgrindGemm::Tiled) forced.emplace("ANYCL_GEMM_FAMILY", std::string("tiled"));
  h.rt = std::make_unique<anycl::Runtime>(spec ? spec : "oclgrind");
  h.gemm = gemm;
  return *h.rt;
}

}  // namespace anycl_test
