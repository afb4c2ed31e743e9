#include "runtime/program_binary.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/hash.hpp"

namespace anycl::detail {
namespace {

constexpr char kMagic[8] = {'A', 'N', 'Y', 'C', 'L', 'B', 'I', 'N'};
constexpr std::uint32_t kFormat = 1;
constexpr std::uint64_t kMaxField = 1u << 20;  // strings longer than 1 MiB mean a corrupt header

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

struct Reader {
  const std::string& bytes;
  std::size_t pos = 0;
  bool ok = true;

  std::uint64_t u64() {
    if (bytes.size() - pos < 8) return ok = false, 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
    pos += 8;
    return v;
  }
  std::string str(std::uint64_t limit = kMaxField) {
    const std::uint64_t n = u64();
    if (!ok || n > limit || bytes.size() - pos < n) return ok = false, std::string();
    std::string s = bytes.substr(pos, n);
    pos += n;
    return s;
  }
};

}  // namespace

std::string serialize(const ProgramBinary& b) {
  std::string body;
  put_str(body, b.device_name);
  put_str(body, b.driver_version);
  put_str(body, b.options);
  put_str(body, b.source_hash);
  put_str(body, b.anycl_version);
  put_str(body, std::string(b.payload.begin(), b.payload.end()));
  std::string out(kMagic, sizeof kMagic);
  put_u64(out, kFormat);
  put_u64(out, body.size());
  put_u64(out, fnv1a64(body.data(), body.size()));
  return out + body;
}

std::optional<ProgramBinary> parse_program_binary(const std::string& bytes, std::string* why) {
  auto bad = [&](const char* reason) {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (bytes.size() < 32 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return bad("not an anycl program binary (bad magic or too short)");
  Reader r{bytes, sizeof kMagic};
  if (r.u64() != kFormat) return bad("unsupported program binary format version");
  const std::uint64_t body_size = r.u64();
  const std::uint64_t checksum = r.u64();
  if (body_size != bytes.size() - r.pos) return bad("truncated program binary (size mismatch)");
  if (fnv1a64(bytes.data() + r.pos, body_size) != checksum) return bad("program binary checksum mismatch");
  ProgramBinary b;
  b.device_name = r.str();
  b.driver_version = r.str();
  b.options = r.str();
  b.source_hash = r.str();
  b.anycl_version = r.str();
  const std::string payload = r.str(bytes.size());
  if (!r.ok || payload.empty()) return bad("malformed program binary fields");
  b.payload.assign(payload.begin(), payload.end());
  return b;
}

std::optional<std::string> read_file(const std::string& path) {
  // A folder opens and reads as an empty file; only regular files (or links to them) count.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

bool write_file_atomic(const std::string& path, const std::string& bytes, std::string* why) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000) +
                          "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (why) *why = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = done == bytes.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (why) *why = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace anycl::detail
