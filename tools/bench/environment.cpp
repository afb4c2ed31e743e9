// Process environment the opponents are measured under (see prepare_bench_environment).
#include "opponents.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace anycl_bench {

namespace {
const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}
}  // namespace

std::string prepare_bench_environment(char** argv) {
  // POCL reads this when the platform is initialised, so setting it here is early enough.
  setenv("POCL_AFFINITY", "1", /*overwrite=*/0);

  // libgomp (used by oneDNN) and OpenBLAS read these in their load-time constructors, so they
  // must be right when the process starts: fix them and re-execute once if needed.
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  const bool wait_ok = wait && strcasecmp(wait, "passive") == 0;
  const bool coretype_ok = std::getenv("OPENBLAS_CORETYPE") == nullptr;
  if ((!wait_ok || !coretype_ok) && argv && !std::getenv("ANYCL_BENCH_REEXECED")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    unsetenv("OPENBLAS_CORETYPE");
    setenv("ANYCL_BENCH_REEXECED", "1", 1);
    execv("/proc/self/exe", argv);  // only returns on failure; carry on with what we have
  }

  std::string s = "POCL_AFFINITY=";
  s += env_or("POCL_AFFINITY", "(unset)");
  s += " OMP_WAIT_POLICY=";
  s += env_or("OMP_WAIT_POLICY", "(unset)");
  s += " OPENBLAS_CORETYPE=";
  s += env_or("OPENBLAS_CORETYPE", "(unset)");
  return s;
}

}  // namespace anycl_bench
