// anycl-bench conv's second Winograd: the same device with conv_winograd built for the other
// output tile (WINO_M 2 <-> 4), so F(2x2, 3x3) and F(4x4, 3x3) are timed in one run beside
// oneDNN. Its runtime reads parameters from a private cache directory: the user's tuned file for
// the device, copied, and one entry setting WINO_M that outranks it (docs/tuning.md, "Layers").
#include "winograd_tile.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "anycl/tune.hpp"

namespace anycl_bench {

namespace fs = std::filesystem;

int winograd_tile(const anycl::Runtime& rt) {
  for (const anycl::BuildReport& b : rt.build_reports()) {
    const std::string key = "-DWINO_M=";
    const std::size_t at = b.options.find(key);
    if (b.device == 0 && b.family == "conv_winograd" && b.ok && at != std::string::npos)
      return std::atoi(b.options.c_str() + at + key.size());
  }
  return 0;
}

OtherWinogradTile::OtherWinogradTile(const anycl::Runtime& rt, const std::string& spec) {
  const int mine = winograd_tile(rt);
  if (mine == 0) return;  // no conv_winograd: a GPU-class device (F(2x2) in conv_winograd_tiled)
  m_ = mine == 2 ? 4 : 2;
  dir_ = (fs::temp_directory_path() / ("anycl-bench-winograd-" + std::to_string(::getpid()))).string();
  fs::create_directories(fs::path(dir_) / "params");
  const fs::path tuned = anycl::tuned_params_file(rt, 0);
  std::error_code ec;
  if (fs::exists(tuned, ec)) fs::copy_file(tuned, fs::path(dir_) / "params" / tuned.filename(), ec);
  // Tuned, named and four match keys: above any tuned file's entry (two keys).
  std::ofstream(fs::path(dir_) / "params" / "zz-winograd-tile.json")
      << R"({"entries": [{"name": "anycl-bench winograd tile", "match": {"device_name_prefix": "",
           "driver_version_prefix": "", "min_vector_width_float": 0, "min_local_mem_kb": 0},
           "params": {"conv_winograd": {"WINO_M": )"
      << m_ << "}}}]}\n";
  anycl::RuntimeOptions opt = anycl::RuntimeOptions::from_env(spec);
  opt.cache_dir = dir_;
  rt_ = std::make_unique<anycl::Runtime>(opt);
  if (winograd_tile(*rt_) != m_) rt_.reset();  // ANYCL_PARAMS without the tuned layer: no column
}

OtherWinogradTile::~OtherWinogradTile() {
  rt_.reset();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace anycl_bench
