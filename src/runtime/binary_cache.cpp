#include "runtime/binary_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "runtime/log.hpp"

namespace anycl::detail {

namespace fs = std::filesystem;

std::string BinaryCache::default_dir() {
  if (const char* d = std::getenv("ANYCL_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/anycl";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/anycl";
  return (fs::temp_directory_path() / "anycl-cache").string();
}

BinaryCache::BinaryCache(const std::string& dir, bool enabled)
    : dir_(dir.empty() ? default_dir() : dir), enabled_(enabled) {
  if (!enabled_) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    // An unwritable cache costs start-up time, never correctness.
    log_warn("binary cache disabled: cannot create " + dir_ + ": " + ec.message());
    enabled_ = false;
  }
}

std::string BinaryCache::path_for(const std::string& key) const { return dir_ + "/" + key + ".bin"; }

std::optional<ProgramBinary> BinaryCache::load(const std::string& key, const std::string& device_name) const {
  if (!enabled_) return std::nullopt;
  const std::string path = path_for(key);
  auto bytes = read_file(path);
  if (!bytes) return std::nullopt;
  std::string why;
  std::optional<ProgramBinary> bin = parse_program_binary(*bytes, &why);
  if (bin.has_value() && bin->device_name == device_name) return bin;
  if (bin.has_value()) why = "entry was built for '" + bin->device_name + "', not '" + device_name + "'";
  log_warn("binary cache: discarding " + path + ": " + why);
  std::error_code ec;
  fs::remove(path, ec);
  return std::nullopt;
}

void BinaryCache::store(const std::string& key, const ProgramBinary& binary) const {
  if (!enabled_) return;
  std::string why;
  if (!write_file_atomic(path_for(key), serialize(binary), &why)) log_warn("binary cache: " + why);
}

}  // namespace anycl::detail
