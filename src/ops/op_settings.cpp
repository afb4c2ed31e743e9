#include "ops/op_settings.hpp"

#include <cerrno>
#include <cstdlib>

#include "runtime/env.hpp"
#include "runtime/log.hpp"

namespace anycl::detail {
namespace {

// A whole number of megabytes from 1 to 2^20 (1 TiB); anything else is reported and ignored.
void read_workspace_mb(std::atomic<std::size_t>& limit) {
  const char* text = std::getenv("ANYCL_CONV_WORKSPACE_MB");
  if (!text || !*text) return;
  char* end = nullptr;
  errno = 0;
  const unsigned long long mb = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || text[0] == '-' || mb < 1 || mb > (1ull << 20)) {
    log_warn(std::string("ANYCL_CONV_WORKSPACE_MB='") + text + "' is not a whole number from 1 to 1048576; ignored");
    return;
  }
  limit = std::size_t(mb) << 20;
}

}  // namespace

OpSettings::OpSettings() {
  if (env_is("ANYCL_GEMM", "clblast")) gemm_provider = GemmProvider::CLBlast;
  read_workspace_mb(conv_workspace_limit);
  conv_find = env_is("ANYCL_CONV_FIND", "1");
}

}  // namespace anycl::detail
