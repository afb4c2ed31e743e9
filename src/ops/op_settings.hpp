// The ops' per-runtime settings, set through the public API (or the environment at creation) and
// read once per call: a call that races a setter sees either value, never half of one.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "anycl/conv2d.hpp"
#include "anycl/gemm.hpp"

namespace anycl::detail {

// The find step's winners by find key (conv2d_find.hpp), for this runtime's life.
struct ConvFindMemo {
  std::mutex mu;
  std::map<std::string, ConvFindResult> results;
};

struct OpSettings {
  std::atomic<GemmProvider> gemm_provider{GemmProvider::Anycl};           // ANYCL_GEMM=clblast
  std::atomic<std::size_t> conv_workspace_limit{std::size_t(256) << 20};  // ANYCL_CONV_WORKSPACE_MB
  std::atomic<bool> conv_find{false};  // ANYCL_CONV_FIND=1: Auto runs the find step's winner
  std::atomic<bool> check_numerics{false};  // ANYCL_CHECK_NUMERICS=1 (src/api/numerics_check.hpp)
  std::atomic<unsigned> conv_disabled{0};  // ANYCL_CONV_ALGOS=-winograd,...: a ConvAlgoMask
  ConvFindMemo find_memo;

  OpSettings();  // the defaults above, overridden by the environment
};

}  // namespace anycl::detail
