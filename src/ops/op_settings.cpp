#include "ops/op_settings.hpp"

#include <cerrno>
#include <cstdlib>

#include "ops/conv2d_select.hpp"
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

// One `-<name>` word of ANYCL_CONV_ALGOS; Im2col is refused: it is the fallback that always applies.
bool disable_word(const std::string& word, ConvAlgoMask& mask) {
  for (ConvAlgo a : {ConvAlgo::Gemm1x1, ConvAlgo::Direct, ConvAlgo::Winograd, ConvAlgo::ImplicitGemm})
    if (word == std::string("-") + to_string(a)) return mask |= algo_bit(a), true;
  return false;
}

// A comma-separated list such as `-winograd,-direct`; a bad word discards the whole value.
void read_conv_algos(std::atomic<unsigned>& disabled) {
  const char* text = std::getenv("ANYCL_CONV_ALGOS");
  if (!text || !*text) return;
  ConvAlgoMask mask = 0;
  for (const std::string& word : comma_words(text))
    if (!disable_word(word, mask)) {
      log_warn(std::string("ANYCL_CONV_ALGOS='") + text + "': '" + word +
               "' is not one of -gemm1x1, -direct, -winograd, -implicit_gemm (im2col cannot be disabled); ignored");
      return;
    }
  disabled = mask;
}

}  // namespace

OpSettings::OpSettings() {
  if (env_is("ANYCL_GEMM", "clblast")) gemm_provider = GemmProvider::CLBlast;
  read_workspace_mb(conv_workspace_limit);
  conv_find = env_is("ANYCL_CONV_FIND", "1");
  read_conv_algos(conv_disabled);
  check_numerics = env_is("ANYCL_CHECK_NUMERICS", "1");
}

}  // namespace anycl::detail
