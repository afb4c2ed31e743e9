#include "train/checkpoint.hpp"

#include <cstring>
#include <optional>

#include "runtime/error.hpp"
#include "runtime/hash.hpp"
#include "runtime/program_binary.hpp"

namespace anycl::detail {
namespace {

constexpr char kMagic[8] = {'A', 'N', 'Y', 'C', 'L', 'C', 'K', 'P'};
constexpr std::uint32_t kVersion = 2;

[[noreturn]] void bad_file(const std::string& path, const std::string& why) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, "checkpoint " + path + ": " + why);
}

// Bytes in a fixed little-endian order, whatever the host's.
class Writer {
 public:
  void bytes(const void* p, std::size_t n) { out_.insert(out_.end(), (const char*)p, (const char*)p + n); }
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) out_.push_back(char(v >> (8 * i))); }
  void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) out_.push_back(char(v >> (8 * i))); }
  void f32(float f) {
    std::uint32_t v;
    std::memcpy(&v, &f, 4);
    u32(v);
  }
  const std::string& data() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const std::string& data, const std::string& path) : data_(data), path_(path) {}
  const char* take(std::size_t n) {
    if (n > data_.size() - at_)
      bad_file(path_, "is truncated (" + std::to_string(data_.size()) + " bytes; the header or the tensors need more)");
    at_ += n;
    return data_.data() + at_ - n;
  }
  std::uint64_t uint(int size) {
    const unsigned char* p = (const unsigned char*)take(std::size_t(size));
    std::uint64_t v = 0;
    for (int i = size; i-- > 0;) v = v << 8 | p[i];
    return v;
  }
  float f32() {
    const std::uint32_t v = std::uint32_t(uint(4));
    float f;
    std::memcpy(&f, &v, 4);
    return f;
  }
  std::size_t left() const { return data_.size() - at_; }

 private:
  const std::string& data_;
  const std::string& path_;
  std::size_t at_ = 0;
};

}  // namespace

std::uint64_t float_bits(float f) {
  std::uint32_t v;
  std::memcpy(&v, &f, 4);
  return v;
}

std::uint64_t model_hash(const ModelPlan& plan) {
  std::vector<std::uint64_t> words;
  for (const LayerPlan& l : plan.layers)
    for (std::size_t v : {std::size_t(l.kind), l.in.c, l.in.h, l.in.w, l.out.c, l.out.h, l.out.w, l.kernel, l.pad,
                          std::size_t(l.relu), l.src, l.src2, l.kernel_w, l.stride, l.groups, float_bits(l.rate),
                          float_bits(l.momentum), float_bits(l.eps)})
      words.push_back(v);
  return fnv1a64(words.data(), words.size() * sizeof(words[0]));
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.u32(0);
  w.u64(c.model_hash);
  w.u64(c.steps);
  w.f32(c.lr);
  w.f32(c.momentum);
  w.u64(c.settings.size());
  for (std::uint64_t v : c.settings) w.u64(v);
  w.u64(c.tensors.size());
  for (const std::vector<float>& t : c.tensors) {
    w.u64(t.size());
    for (float f : t) w.f32(f);
  }
  w.u32(crc32(w.data().data(), w.data().size()));

  std::string why;
  if (!write_file_atomic(path, w.data(), &why)) bad_file(path, why);
}

Checkpoint read_checkpoint(const std::string& path) {
  const std::optional<std::string> file = read_file(path);
  if (!file) bad_file(path, "cannot be read");
  const std::string& data = *file;
  if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    bad_file(path, "is not an anycl checkpoint (no ANYCLCKP magic)");
  Reader r(data, path);
  r.take(sizeof kMagic);
  const std::uint64_t version = r.uint(4);
  if (version != kVersion)
    bad_file(path, "has format version " + std::to_string(version) + "; this build reads version " +
                       std::to_string(kVersion));
  r.uint(4);
  Checkpoint c;
  c.model_hash = r.uint(8);
  c.steps = r.uint(8);
  c.lr = r.f32();
  c.momentum = r.f32();
  const std::uint64_t settings = r.uint(8);
  if (settings > r.left() / 8) bad_file(path, "is truncated (the settings are cut off)");
  for (std::uint64_t i = 0; i < settings; ++i) c.settings.push_back(r.uint(8));
  const std::uint64_t tensors = r.uint(8);
  for (std::uint64_t t = 0; t < tensors; ++t) {
    const std::uint64_t n = r.uint(8);
    if (n > r.left() / 4) bad_file(path, "is truncated (tensor " + std::to_string(t) + " is cut off)");
    std::vector<float> v(n);
    for (float& f : v) f = r.f32();
    c.tensors.push_back(std::move(v));
  }
  const std::size_t body = data.size() - r.left();
  const std::uint32_t stored = std::uint32_t(r.uint(4));
  if (r.left() != 0) bad_file(path, "has " + std::to_string(r.left()) + " bytes after the checksum");
  if (crc32(data.data(), body) != stored) bad_file(path, "fails its CRC-32 check (the file is corrupt)");
  return c;
}

}  // namespace anycl::detail
