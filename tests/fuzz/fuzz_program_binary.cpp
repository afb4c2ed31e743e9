// libFuzzer target: an ANYCLBIN program binary (shipped prebuilt binaries and binary-cache
// entries), through parse_program_binary and BinaryCache::load as the runtime reads them
// (README, "Fuzzing"). Half the inputs get a valid header and checksum wrapped around them, so
// the fuzzer reaches the field parsing behind the checksum.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "runtime/binary_cache.hpp"
#include "runtime/hash.hpp"
#include "runtime/program_binary.hpp"

namespace {

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Magic, format 1, body size and checksum: the header serialize() writes.
std::string with_valid_header(const std::string& body) {
  std::string out("ANYCLBIN", 8);
  put_u64(out, 1);
  put_u64(out, body.size());
  put_u64(out, anycl::detail::fnv1a64(body.data(), body.size()));
  return out + body;
}

const anycl::detail::BinaryCache& fuzz_cache() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/anycl-fuzz-cache-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    return std::string(made ? made : "/tmp");
  }();
  static const anycl::detail::BinaryCache cache(dir, true);
  return cache;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) bytes = with_valid_header(bytes);
  std::string why;
  const auto parsed = anycl::detail::parse_program_binary(bytes, &why);
  if (parsed.has_value()) {
    // What parses must survive a round trip unchanged.
    const auto again = anycl::detail::parse_program_binary(anycl::detail::serialize(*parsed), nullptr);
    if (!again || again->device_name != parsed->device_name || again->payload != parsed->payload) __builtin_trap();
  } else if (why.empty()) {
    __builtin_trap();  // every rejection says why
  }
  // The same bytes as a cache entry on disk, for the device the fuzzer's header names or another.
  const auto& cache = fuzz_cache();
  std::string ignored;
  anycl::detail::write_file_atomic(cache.path_for("entry"), bytes, &ignored);
  cache.load("entry", parsed ? parsed->device_name : "some device");
  return 0;
}
