// The file format shared by the binary cache and shipped prebuilt binaries: a program binary
// plus what it was built for, with a checksum so a damaged file is never trusted.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace anycl::detail {

struct ProgramBinary {
  std::string device_name;     // CL_DEVICE_NAME of the device it was built for
  std::string driver_version;  // CL_DRIVER_VERSION at build time
  std::string options;         // build options without -I (paths differ between trees)
  std::string source_hash;     // hash of the kernel source with its includes
  std::string anycl_version;
  std::vector<unsigned char> payload;  // what clGetProgramInfo(CL_PROGRAM_BINARIES) gave
};

std::string serialize(const ProgramBinary& b);

// nullopt, with the reason in *why, for a truncated, corrupt or foreign-format file.
std::optional<ProgramBinary> parse_program_binary(const std::string& bytes, std::string* why);

std::optional<std::string> read_file(const std::string& path);

// Temp file in the same folder, fsync, rename: readers see the old file or the whole new one.
bool write_file_atomic(const std::string& path, const std::string& bytes, std::string* why);

}  // namespace anycl::detail
