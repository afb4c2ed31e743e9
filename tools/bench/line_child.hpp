// A child process spoken to one line at a time over pipes: anycl-bench net asks
// tools/bench/net_torch.py for one PyTorch timing after another, between its own runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

// Where the PyTorch scripts live (the build sets it to this folder of the source tree).
#ifndef ANYCL_BENCH_SOURCE_DIR
#define ANYCL_BENCH_SOURCE_DIR "tools/bench"
#endif

namespace anycl_bench {

class LineChild {
 public:
  // Starts argv[0] (a path, not searched in PATH) with the other elements as its arguments;
  // its stderr is ours. Throws std::runtime_error naming the program when it cannot start.
  explicit LineChild(const std::vector<std::string>& argv);
  ~LineChild();  // closes its stdin (it should then exit) and waits for it
  LineChild(const LineChild&) = delete;
  LineChild& operator=(const LineChild&) = delete;

  // Writes `line` and a newline, returns the next line the child prints (without the newline).
  // Throws std::runtime_error when the child has exited or closed its stdout.
  std::string ask(const std::string& line);

 private:
  std::string program_;
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::string pending_;  // what the child printed after the last answered line
};

// A PyTorch timing script run by /usr/bin/python3 with --threads (the machine's cores), the
// bench's opponent child. `script` "none" runs nothing; a missing script or one that does not
// start gives nullptr too, with the reason in `why_not`.
std::unique_ptr<LineChild> start_torch_script(const std::string& script, std::string& why_not);

}  // namespace anycl_bench
