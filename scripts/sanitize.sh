#!/usr/bin/env bash
# The whole ctest suite built with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan),
# README "Reliability / Sanitizers". UBSan does not recover (-fno-sanitize-recover=all), so any
# finding fails its test; LeakSanitizer runs at every test process's exit, with suppressions only
# for third-party libraries (tests/sanitizers/lsan.supp). The Oclgrind entries are not run here:
# the `oclgrind` wrapper LD_PRELOADs its runtime ahead of ASan's, which ASan refuses. Nor is
# install_consumer: it builds an uninstrumented consumer against the installed (instrumented)
# library, which ASan refuses the same way ("runtime does not come first"). The Release suite
# (scripts/test.sh) runs all three.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_packages.sh build-essential cmake
dir=${ANYCL_ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYCL_SANITIZE=address,undefined -DANYCL_BUILD_BENCH=OFF \
  ${ANYCL_CMAKE_ARGS:-}
cmake --build "$dir" -j"$(nproc)"
supp="$PWD/tests/sanitizers"
# use_sigaltstack=0: at a thread's exit ASan unmaps whatever alternate signal stack the thread has,
# and on an AMD EPYC (Zen 5) blas_gemm_threads' threads end with one ASan did not map (its CHECK aborts).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:use_sigaltstack=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export POCL_AFFINITY=1
# LeakSanitizer's walk of the main thread's dynamic TLS crashes at exit (tracer signal 11 on a DTLS
# block at 0x1140) in the process whose runtime creation fails at an injected build failure; ASan
# alone is clean there. That test runs without the TLS scan, which can only report more leaks.
dtls_crash="clBuildProgram fails while a runtime is created"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -E "oclgrind|install_consumer|$dtls_crash" --timeout 900 \
  ${ANYCL_CTEST_ARGS:-}
LSAN_OPTIONS="$LSAN_OPTIONS:use_tls=0" ctest --test-dir "$dir" --output-on-failure -R "$dtls_crash" --timeout 900

# ThreadSanitizer: test_threads (every case, and the two-POCL-device one) in build-tsan. POCL and
# LLVM are not instrumented; no suppressions are needed (README "Sanitizers").
tdir=${ANYCL_TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$tdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYCL_SANITIZE=thread -DANYCL_BUILD_BENCH=OFF \
  ${ANYCL_CMAKE_ARGS:-}
cmake --build "$tdir" -j"$(nproc)" --target test_threads
export TSAN_OPTIONS="halt_on_error=1"
export ANYCL_CACHE_DIR="$PWD/$tdir/tests/test-cache"
"$tdir/tests/test_threads"
POCL_DEVICES="pthread pthread" "$tdir/tests/test_threads" "[two-pocl]"
