// src/runtime/program_binary.cpp (and hash.cpp): the binary file format shared by the cache and
// prebuilt binaries: round trip, every truncation, every flipped byte, hostile headers, and the
// atomic file writer.
#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "runtime/hash.hpp"
#include "runtime/program_binary.hpp"
#include "support.hpp"

using anycl::detail::parse_program_binary;
using anycl::detail::ProgramBinary;
using anycl::detail::serialize;
using anycl_test::contains;
using anycl_test::TempDir;

namespace {

ProgramBinary sample() {
  ProgramBinary b;
  b.device_name = "pthread-test-device";
  b.driver_version = "3.1+test";
  b.options = "-cl-std=CL1.2 -DREAL=float -DVW=4";
  b.source_hash = anycl::detail::hash128_hex("kernel source");
  b.anycl_version = "0.1.0";
  for (int i = 0; i < 300; ++i) b.payload.push_back(static_cast<unsigned char>(i * 7));
  return b;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A file with a valid magic, version, size and checksum around an arbitrary body.
std::string wrap(const std::string& body) {
  std::string out = "ANYCLBIN";
  put_u64(out, 1);
  put_u64(out, body.size());
  put_u64(out, anycl::detail::fnv1a64(body.data(), body.size()));
  return out + body;
}

}  // namespace

TEST_CASE("serialize / parse round trip keeps every field", "[program_binary]") {
  const ProgramBinary b = sample();
  std::string why = "untouched";
  const auto back = parse_program_binary(serialize(b), &why);
  REQUIRE(back.has_value());
  CHECK(back->device_name == b.device_name);
  CHECK(back->driver_version == b.driver_version);
  CHECK(back->options == b.options);
  CHECK(back->source_hash == b.source_hash);
  CHECK(back->anycl_version == b.anycl_version);
  CHECK(back->payload == b.payload);
  CHECK(serialize(*back) == serialize(b));
  CHECK(parse_program_binary(serialize(b), nullptr).has_value());  // why may be null
}

TEST_CASE("every truncation of a binary is rejected with a reason", "[program_binary]") {
  const std::string full = serialize(sample());
  for (std::size_t len = 0; len < full.size(); ++len) {
    std::string why;
    const auto r = parse_program_binary(full.substr(0, len), &why);
    INFO("length " << len);
    CHECK_FALSE(r.has_value());
    CHECK_FALSE(why.empty());
  }
  // Trailing garbage is as wrong as a missing tail.
  std::string why;
  CHECK_FALSE(parse_program_binary(full + "x", &why).has_value());
  CHECK(contains(why, "size mismatch"));
}

TEST_CASE("every single flipped byte is caught", "[program_binary]") {
  const std::string full = serialize(sample());
  for (std::size_t i = 0; i < full.size(); ++i) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    INFO("byte " << i);
    CHECK_FALSE(parse_program_binary(bad, nullptr).has_value());
  }
}

TEST_CASE("hostile headers: magic, version, field lengths, empty payload", "[program_binary]") {
  std::string why;
  CHECK_FALSE(parse_program_binary("", &why).has_value());
  CHECK(contains(why, "bad magic"));
  CHECK_FALSE(parse_program_binary(std::string(64, '\0'), &why).has_value());
  CHECK(contains(why, "bad magic"));

  std::string v2 = serialize(sample());
  v2[8] = 2;  // format version 2
  CHECK_FALSE(parse_program_binary(v2, &why).has_value());
  CHECK(contains(why, "format version"));

  // Checksum-valid bodies whose fields lie about their lengths.
  std::string huge;
  put_u64(huge, std::uint64_t(1) << 40);
  CHECK_FALSE(parse_program_binary(wrap(huge), &why).has_value());
  CHECK(contains(why, "malformed"));

  std::string max;
  put_u64(max, ~std::uint64_t(0));
  CHECK_FALSE(parse_program_binary(wrap(max + "abc"), &why).has_value());
  CHECK(contains(why, "malformed"));

  std::string short_body;
  put_u64(short_body, 3);
  short_body += "ab";  // says 3, holds 2
  CHECK_FALSE(parse_program_binary(wrap(short_body), &why).has_value());

  ProgramBinary empty = sample();
  empty.payload.clear();
  CHECK_FALSE(parse_program_binary(serialize(empty), &why).has_value());
  CHECK(contains(why, "malformed"));

  // Random junk of many sizes never crashes and never parses.
  std::uint64_t x = 12345;
  for (int n = 0; n < 200; ++n) {
    std::string junk = "ANYCLBIN";
    for (int i = 0; i < n * 3; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      junk.push_back(static_cast<char>(x >> 56));
    }
    CHECK_FALSE(parse_program_binary(junk, nullptr).has_value());
  }
}

TEST_CASE("hash128_hex: 32 hex digits, deterministic, sensitive", "[program_binary][hash]") {
  const std::string a = anycl::detail::hash128_hex("abc");
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(anycl::detail::hash128_hex("abc") == a);
  CHECK(anycl::detail::hash128_hex("abd") != a);
  CHECK(anycl::detail::hash128_hex(std::string("a\0c", 3)) != anycl::detail::hash128_hex("a"));
  CHECK(anycl::detail::hash128_hex("") != anycl::detail::hash128_hex(std::string(1, '\0')));
  // FNV-1a 64 reference value for "a".
  CHECK(anycl::detail::fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
}

TEST_CASE("read_file and write_file_atomic", "[program_binary][files]") {
  TempDir dir;
  const std::string path = dir / "entry.bin";
  CHECK_FALSE(anycl::detail::read_file(path).has_value());

  std::string why;
  const std::string bytes = serialize(sample()) + std::string("\0tail", 5);
  REQUIRE(anycl::detail::write_file_atomic(path, bytes, &why));
  CHECK(anycl::detail::read_file(path) == bytes);
  REQUIRE(anycl::detail::write_file_atomic(path, "replaced", &why));
  CHECK(anycl::detail::read_file(path) == std::string("replaced"));
  CHECK(anycl_test::list_dir(dir.path()) == std::vector<std::string>{"entry.bin"});  // no temp left

  CHECK_FALSE(anycl::detail::write_file_atomic(dir / "missing-folder/x.bin", "x", &why));
  CHECK(contains(why, "missing-folder"));
  CHECK(anycl::detail::write_file_atomic(dir / "empty.bin", "", &why));
  CHECK(anycl::detail::read_file(dir / "empty.bin") == std::string());

  // What is not a regular file is not read (a folder would read as an empty file).
  anycl_test::fs::create_directories(dir / "a-folder");
  CHECK_FALSE(anycl::detail::read_file(dir / "a-folder").has_value());
  anycl_test::fs::create_symlink(dir / "nowhere", dir / "dangling");
  CHECK_FALSE(anycl::detail::read_file(dir / "dangling").has_value());
  anycl_test::fs::create_symlink(path, dir / "link");
  CHECK(anycl::detail::read_file(dir / "link") == std::string("replaced"));
}

TEST_CASE("concurrent atomic writers: readers only ever see a whole file", "[program_binary][files]") {
  TempDir dir;
  const std::string path = dir / "shared.bin";
  std::vector<std::string> versions;
  for (int t = 0; t < 4; ++t) {
    ProgramBinary b = sample();
    b.device_name = "writer-" + std::to_string(t);
    b.payload.assign(100000 + t * 1000, static_cast<unsigned char>(t + 1));
    versions.push_back(serialize(b));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      if (auto bytes = anycl::detail::read_file(path)) {
        ++reads;
        if (!parse_program_binary(*bytes, nullptr)) ++bad_reads;
      }
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i)
        if (!anycl::detail::write_file_atomic(path, versions[t], nullptr)) ++failures;
    });
  for (auto& w : writers) w.join();
  stop = true;
  reader.join();
  CHECK(failures == 0);
  CHECK(bad_reads == 0);
  const auto final_bytes = anycl::detail::read_file(path);
  REQUIRE(final_bytes.has_value());
  CHECK(std::find(versions.begin(), versions.end(), *final_bytes) != versions.end());
  CHECK(anycl_test::list_dir(dir.path()) == std::vector<std::string>{"shared.bin"});
  INFO("reads during writes: " << reads.load());
}
