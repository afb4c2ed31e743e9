#!/usr/bin/env bash
# Set up, build and run the whole test suite (Catch2 through ctest, on POCL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export POCL_AFFINITY=1
ctest --test-dir build --output-on-failure -j"$(nproc)" ${ANYCL_CTEST_ARGS:-}
