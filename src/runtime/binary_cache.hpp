// The persistent on-disk cache of program binaries.
#pragma once

#include <optional>
#include <string>

#include "runtime/program_binary.hpp"

namespace anycl::detail {

class BinaryCache {
 public:
  // dir "" = ANYCL_CACHE_DIR, else $XDG_CACHE_HOME/anycl, else ~/.cache/anycl.
  BinaryCache(const std::string& dir, bool enabled);

  bool enabled() const noexcept { return enabled_; }
  const std::string& dir() const noexcept { return dir_; }

  // The entry for `key` when it is intact and was built for `device_name`; a damaged or foreign
  // entry is removed (logged) so the caller rebuilds and replaces it.
  std::optional<ProgramBinary> load(const std::string& key, const std::string& device_name) const;
  void store(const std::string& key, const ProgramBinary& binary) const;

  std::string path_for(const std::string& key) const;
  static std::string default_dir();

 private:
  std::string dir_;
  bool enabled_;
};

}  // namespace anycl::detail
