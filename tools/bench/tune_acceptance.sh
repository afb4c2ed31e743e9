#!/usr/bin/env bash
# Issue 27's tuner acceptance: from the generic defaults (a fresh parameter cache, the shipped
# table switched off), anycl-tune spends BUDGET seconds in all on the families behind SGEMM,
# DGEMM and the 3x3 convolution layers, then ONE anycl-bench run (`params`) times SGEMM
# 1024/2048, DGEMM 1024 and the 3x3 layers with ANYCL_PARAMS=shipped and =tuned taking turns, and
# the ratios tuned/shipped are printed as JSON on stdout (>= 0.95 is the goal).
#
# usage: tools/bench/tune_acceptance.sh [--budget SECONDS] [--build DIR] [--device SPEC] [--quick]
#   --budget  the tuner's total budget (default 900), shared: gemm_packed_f32 35%, gemm_packed_f64
#             25%, conv_winograd 15%, the dispatch thresholds (GEMM f32/f64, convolution) 25%
#   --build   the build tree holding tools/anycl-tune and tools/anycl-bench (default: build)
#   --device  the device (default pocl)
#   --quick   the benchmark's small shapes (a smoke test of the script, not a measurement)
#   The tuned file, the tuner's log and the benchmark JSON stay in $ANYCL_ACCEPT_DIR (default: a
#   new folder under /tmp), printed on stderr; a tuned file left there by an earlier run is removed.
# Run it on a quiet machine: other load skews both the search and the ratios.
set -euo pipefail

usage() {
  sed -n 's/^# \{0,1\}//; 2,/^set -euo/{/^set -euo/d; p}' "$0" >&2
  exit 2
}

budget=900 build=build device=pocl quick=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --budget) budget=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --device) device=${2:?}; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    *) usage ;;
  esac
done
[[ $budget =~ ^[0-9]+$ ]] || { echo "tune_acceptance.sh: --budget must be whole seconds, not '$budget'" >&2; exit 2; }
tune=$build/tools/anycl-tune bench=$build/tools/anycl-bench
for bin in "$tune" "$bench"; do
  [[ -x $bin ]] || { echo "tune_acceptance.sh: $bin is not an executable (--build DIR)" >&2; exit 2; }
done

dir=${ANYCL_ACCEPT_DIR:-$(mktemp -d /tmp/anycl-accept.XXXXXX)}
mkdir -p "$dir"
rm -rf "$dir/cache/params" "$dir/tune.log" "$dir/tune.err"  # generic start; compiled programs may stay
echo "tune_acceptance.sh: files in $dir" >&2
export ANYCL_CACHE_DIR=$dir/cache POCL_AFFINITY=${POCL_AFFINITY:-1}
unset ANYCL_KERNEL_PATH ANYCL_BINARY_ONLY

# ANYCL_PARAMS=tuned: the shipped table off, the tuned file (empty at first) on, so each family
# is tuned on top of those tuned before it (the Winograd products use the tuned GEMM layout).
tune_share() {  # PERCENT FAMILY...
  local seconds=$((budget * $1 / 100))
  shift
  local families=()
  for f in "$@"; do families+=(--family "$f"); done
  ANYCL_PARAMS=tuned "$tune" --device "$device" --budget "$seconds" --shape 1024x1024x1024 "${families[@]}" \
    >>"$dir/tune.log" 2>>"$dir/tune.err"
}
start=$(date +%s)
tune_share 35 gemm_packed_f32
tune_share 25 gemm_packed_f64
tune_share 15 conv_winograd
tune_share 25 dispatch_gemm_f32 dispatch_gemm_f64 dispatch_conv
tuned_seconds=$(($(date +%s) - start))
cat "$dir/tune.log" >&2
ANYCL_PARAMS=tuned "$tune" --device "$device" --emit-entry >"$dir/entry.json"

"$bench" params --device "$device" --layers shipped,tuned "${quick[@]}" --json --out "$dir/params.json" \
  >/dev/null 2>"$dir/bench.err"
cat "$dir/bench.err" >&2
/usr/bin/python3 - "$dir" "$budget" "$tuned_seconds" <<'PY'
import json, sys
folder, budget, wall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
params = json.load(open(folder + "/params.json"))["params"]
print(json.dumps({
    "budget_seconds": budget,
    "tuner_wall_seconds": wall,
    "ratio_is": params["ratio_is"],
    "ratios": {w["workload"]: round(w["ratio"], 3) for w in params["workloads"]},
    "min_ratio": round(params["min_ratio"], 3),
    "geomean_ratio": round(params["geomean_ratio"], 3),
    "meets_0_95": params["min_ratio"] >= 0.95,
    "tuned_entry": json.load(open(folder + "/entry.json")),
    "files": folder,
}, indent=2))
PY
