#!/usr/bin/env bash
# anycl-query (device discovery and queries on POCL) under valgrind memcheck; any error fails
# (docs/reliability.md, "Valgrind"). Suppressions cover only
# third-party frames (POCL, LLVM, the ICD loader), each documented in tests/sanitizers/valgrind.supp.
# Uses the Release build in ./build (scripts/setup.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_packages.sh valgrind
dir=${ANYCL_BUILD_DIR:-build}
[ -x "$dir/tools/anycl-query" ] || bash scripts/setup.sh
export POCL_AFFINITY=1
# --no-build: discovery, platform/device queries, spec matching and the output, without creating a
# runtime (docs/reliability.md says what this leaves to the sanitizer suite): POCL generating code
# under valgrind takes more than 15 minutes for one kernel family, beyond the CI budget.
for args in "--no-build" "--no-build --json --device cpu/2"; do
  echo "== valgrind anycl-query $args"
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-origins=yes --num-callers=40 \
    --suppressions=tests/sanitizers/valgrind.supp --gen-suppressions=all \
    "$dir/tools/anycl-query" $args >/dev/null
done
echo "valgrind: no errors"
