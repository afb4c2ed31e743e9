#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) in build-fuzz and runs each for
# ANYCL_FUZZ_SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/<target> (plus, for the
# params and kernel-source targets, the real files in cl_kernels/, read recursively). New inputs
# go to build-fuzz/corpus/<target>, crashes to build-fuzz/crashes/<target>; any crash, leak,
# sanitizer report, timeout (>10 s per input) or out-of-memory (>2 GiB) fails the script.
# README "Reliability / Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_packages.sh clang-14 libclang-rt-14-dev cmake
dir=${ANYCL_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${ANYCL_FUZZ_SECONDS:-60}
CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYCL_BUILD_FUZZERS=ON \
  -DANYCL_SANITIZE=address,undefined -DANYCL_BUILD_TOOLS=OFF -DANYCL_BUILD_TESTS=OFF -DANYCL_BUILD_BENCH=OFF \
  -DANYCL_WITH_CLBLAST=OFF ${ANYCL_CMAKE_ARGS:-}
targets=(fuzz_params fuzz_program_binary fuzz_kernel_source fuzz_spec)
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
  echo "== $t: ${seconds} s"
  seeds=("tests/fuzz/corpus/$t")
  [[ $t == fuzz_params || $t == fuzz_kernel_source ]] && seeds+=(cl_kernels)
  log="$dir/crashes/$t/last-run.log"
  if ! "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/$t/" "$dir/corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $t failed; reproducer in $dir/crashes/$t/, log $log"
    exit 1
  fi
  grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
done
