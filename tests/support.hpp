// Shared helpers for the anycl test suite: temp folders, environment guards, child processes,
// stderr capture. Header-only so any test file can include it with one line.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "anycl/runtime.hpp"

namespace anycl_test {

// A buffer on `device` holding v from element `offset` on (the elements before it unwritten).
template <typename T>
anycl::Buffer upload(anycl::Runtime& rt, const std::vector<T>& v, std::size_t offset = 0, std::size_t device = 0) {
  anycl::Buffer buf = rt.alloc((v.size() + offset) * sizeof(T), device);
  if (!v.empty()) rt.write(buf, v.data(), v.size() * sizeof(T), offset * sizeof(T));
  return buf;
}

// Host memory at a chosen alignment: page-aligned inputs are zero-copy views on POCL; inputs one
// float past a page boundary are copies for convolution, and views from the boundary for GEMM.
struct HostFloats {
  std::vector<float> storage;
  float* p;
  std::size_t n;
  HostFloats(const std::vector<float>& values, bool aligned) : storage(values.size() + 1024 + 1), n(values.size()) {
    const auto base = reinterpret_cast<std::uintptr_t>(storage.data());
    p = reinterpret_cast<float*>((base + 4095) / 4096 * 4096) + (aligned ? 0 : 1);
    std::copy(values.begin(), values.end(), p);
  }
  std::vector<float> values() const { return std::vector<float>(p, p + n); }
};

// The status an anycl call throws (ANYCL_SUCCESS when it returns), and its message.
inline anycl::Status status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const anycl::Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return ANYCL_SUCCESS;
}

// Uniform values in [-1, 1), reproducible from the seed.
template <typename T = float>
std::vector<T> random_values(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<T> dist(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

namespace fs = std::filesystem;

// The source tree's kernel folder (set by tests/CMakeLists.txt).
inline std::string source_kernel_dir() { return ANYCL_TEST_KERNEL_DIR; }

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "anycl-test") {
    std::string templ = (fs::temp_directory_path() / (tag + "-XXXXXX")).string();
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Sets (or, with nullopt, unsets) one environment variable for the guard's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const std::string& name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name.c_str())) old_ = std::string(old);
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << bytes;
}

// The build options of `variant` on device 0 of `rt` ("" when it was not built there).
inline std::string build_options(const anycl::Runtime& rt, const std::string& variant) {
  for (const anycl::BuildReport& r : rt.build_reports())
    if (r.device == 0 && r.family == variant) return r.options;
  return {};
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Files directly in `dir` (names only), sorted.
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Copies the kernel folder (sources, headers, params) so a test may damage its copy.
inline void copy_kernel_dir(const std::string& to) {
  fs::create_directories(to);
  fs::copy(source_kernel_dir(), to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

// A runtime on a copy of the kernel directory with one more parameter entry, `params` (the
// "params" object of a devices.json entry), that wins on any device: its match keys hold for every
// device and outnumber any shipped entry's.
inline std::unique_ptr<anycl::Runtime> runtime_with_params(const TempDir& dir, const std::string& params) {
  copy_kernel_dir(dir.path());
  spit(dir.path() + "/params/zz-test.json",
       R"({"entries": [{"name": "test", "match": {"device_name_prefix": "",
           "driver_version_prefix": "", "min_vector_width_float": 0, "min_local_mem_kb": 0},
           "params": )" + params + "}]}");
  anycl::RuntimeOptions opt = anycl::RuntimeOptions::from_env();
  opt.kernel_path = dir.path();
  opt.cache = false;
  return std::make_unique<anycl::Runtime>(opt);
}

struct ProcessResult {
  int exit_code = -1;   // -1 when the child did not exit normally
  int signal = 0;       // the terminating signal, if any
  std::string out, err;
};

// Environment changes for a child: name -> value, or nullopt to remove the variable.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

// A child started with fork/exec, its stdout/stderr going to files until wait().
class Process {
 public:
  Process(const std::vector<std::string>& argv, const EnvChanges& env = {}) : files_("anycl-proc") {
    const std::string out = files_ / "out", err = files_ / "err";
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      const std::string name = kv.substr(0, kv.find('='));
      if (!env.count(name)) envs.push_back(kv);
    }
    for (const auto& [name, value] : env)
      if (value) envs.push_back(name + "=" + *value);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) ::_exit(126);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execve(cargv[0], cargv.data(), cenv.data());
      ::_exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0 && !waited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  ProcessResult wait() {
    ProcessResult r;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = slurp(files_ / "out");
    r.err = slurp(files_ / "err");
    return r;
  }

 private:
  TempDir files_;
  pid_t pid_ = -1;
  bool waited_ = false;
};

inline ProcessResult run_process(const std::vector<std::string>& argv, const EnvChanges& env = {}) {
  return Process(argv, env).wait();
}

// Everything written to fd 2 between construction and text().
class StderrCapture {
 public:
  StderrCapture() : dir_("anycl-stderr") {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open((dir_ / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    return slurp(dir_ / "err");
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  TempDir dir_;
  int saved_ = -1;
};

}  // namespace anycl_test
