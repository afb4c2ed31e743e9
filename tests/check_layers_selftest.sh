#!/usr/bin/env bash
# Self-test of scripts/check_layers.sh, so the layer check cannot pass by checking nothing: on a
# small tree with one upward include it must print that include and exit 1; on the same tree
# without it, print nothing and exit 0; a shim or tool including a src layer fails again.
#   tests/check_layers_selftest.sh [SCRIPT]   (SCRIPT defaults to scripts/check_layers.sh)
set -euo pipefail

script=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/check_layers.sh}
[[ -f $script ]] || { echo "selftest: no script at $script" >&2; exit 1; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/src/runtime" "$tree/src/sched" "$tree/src/capi" "$tree/src/blas" "$tree/tools"

fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

# Allowed: sched includes runtime (downward), its own layer and a public header; capi includes
# its own files and public headers; a tool includes a public header and its own local header.
cat >"$tree/src/sched/y.hpp" <<'EOF'
#pragma once
#include <vector>
#include "anycl/anycl.hpp"
#include "runtime/x.hpp"
#include "sched/z.hpp"
EOF
printf '#include "capi/guard.hpp"\n#include "anycl/anycl.h"\n' >"$tree/src/capi/c.cpp"
printf '#include "anycl/anycl.hpp"\n#include "report.hpp"\n' >"$tree/tools/t.cpp"
printf '#include "blas/blas_abi.h"\n#include "anycl/anycl.hpp"\n#include "x.hpp"\n' >"$tree/src/blas/b.cpp"
# The one upward include, on line 2.
printf '#include "runtime/x.hpp"\n#include "sched/y.hpp"\n' >"$tree/src/runtime/x.cpp"

set +e
out=$(bash "$script" "$tree" 2>/dev/null)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "upward include: exit $rc, expected 1 (output: $out)"
expected='src/runtime/x.cpp:2: layer runtime includes sched/y.hpp (upward)'
[[ $out == "$expected" ]] || fail "upward include: printed '$out', expected '$expected'"

# The same tree with the upward include removed is clean.
printf '#include "runtime/x.hpp"\n' >"$tree/src/runtime/x.cpp"
set +e
out=$(bash "$script" "$tree" 2>&1)
rc=$?
set -e
[[ $rc -eq 0 ]] || fail "clean tree: exit $rc, expected 0 (output: $out)"
[[ -z $out ]] || fail "clean tree: printed '$out', expected nothing"

# Shims and tools may not reach into a src layer, even downward.
printf '#include "capi/guard.hpp"\n#include "runtime/error.hpp"\n' >"$tree/src/capi/c.cpp"
printf '#include "report.hpp"\n#include "runtime/device.hpp"\n' >"$tree/tools/t.cpp"
printf '#include "blas/blas_abi.h"\n#include "api/x.hpp"\n' >"$tree/src/blas/b.cpp"
set +e
out=$(bash "$script" "$tree" 2>/dev/null)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "internal includes: exit $rc, expected 1 (output: $out)"
expected=$'src/blas/b.cpp:2: layer blas includes api/x.hpp (not public)\nsrc/capi/c.cpp:2: layer capi includes runtime/error.hpp (not public)\ntools/t.cpp:2: layer tools includes runtime/device.hpp (not public)'
[[ $out == "$expected" ]] || fail "internal includes: printed '$out', expected '$expected'"

echo "selftest: ok"
