#include "line_child.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace anycl_bench {
namespace {

// Both ends close on exec, so a later child does not hold this one's pipes open.
void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

}  // namespace

LineChild::LineChild(const std::vector<std::string>& argv) : program_(argv.at(0)) {
  int in[2], out[2];
  make_pipe(in);
  make_pipe(out);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, program_.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  to_child_ = in[1], from_child_ = out[0];
  if (rc != 0) {
    close(to_child_), close(from_child_);
    throw std::runtime_error("cannot start " + program_ + ": " + std::strerror(rc));
  }
  signal(SIGPIPE, SIG_IGN);  // a child that died shows as a failed write, not a killed bench
}

LineChild::~LineChild() {
  close(to_child_);
  close(from_child_);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string LineChild::ask(const std::string& line) {
  const std::string msg = line + "\n";
  for (std::size_t done = 0; done < msg.size();) {
    const ssize_t n = write(to_child_, msg.data() + done, msg.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(program_ + " is not reading its input: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  while (pending_.find('\n') == std::string::npos) {
    char buf[4096];
    const ssize_t n = read(from_child_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(program_ + " exited without answering");
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t end = pending_.find('\n');
  std::string answer = pending_.substr(0, end);
  pending_.erase(0, end + 1);
  return answer;
}

std::unique_ptr<LineChild> start_torch_script(const std::string& script, std::string& why_not) {
  if (script == "none") {
    why_not = "not run (--torch none)";
    return nullptr;
  }
  struct stat st {};
  if (stat(script.c_str(), &st) != 0) {
    why_not = "no PyTorch script at " + script + " (--torch SCRIPT)";
    return nullptr;
  }
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  try {
    return std::make_unique<LineChild>(
        std::vector<std::string>{"/usr/bin/python3", script, "--threads", std::to_string(threads)});
  } catch (const std::runtime_error& e) {
    why_not = e.what();
    return nullptr;
  }
}

}  // namespace anycl_bench
