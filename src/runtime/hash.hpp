// Non-cryptographic hashes for cache keys and entry checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace anycl::detail {

// CRC-32 with the IEEE polynomial (zlib's crc32), for files other tools may check.
std::uint32_t crc32(const void* data, std::size_t size);

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t seed = 0xcbf29ce484222325ULL);

// 32 hex digits from two independently seeded 64-bit hashes: collisions across cache keys would
// load the wrong program, so one 64-bit hash is not enough margin.
std::string hash128_hex(const std::string& text);

}  // namespace anycl::detail
