// anycl-bench conv: Winograd timed with both output tiles in one run (winograd_tile.cpp).
#pragma once

#include <memory>
#include <string>

#include "anycl/anycl.hpp"

namespace anycl_bench {

// WINO_M of device 0's conv_winograd build (2 or 4), 0 when the device does not build it.
int winograd_tile(const anycl::Runtime& rt);

// A runtime on the devices of `spec` whose conv_winograd has the other output tile than `rt`'s.
class OtherWinogradTile {
 public:
  OtherWinogradTile(const anycl::Runtime& rt, const std::string& spec);
  ~OtherWinogradTile();
  OtherWinogradTile(const OtherWinogradTile&) = delete;
  OtherWinogradTile& operator=(const OtherWinogradTile&) = delete;
  // Null when there is none (no conv_winograd, or parameter layers that leave the tuned files out).
  anycl::Runtime* runtime() const { return rt_.get(); }
  int tile() const { return m_; }

 private:
  int m_ = 0;
  std::string dir_;
  std::unique_ptr<anycl::Runtime> rt_;
};

}  // namespace anycl_bench
