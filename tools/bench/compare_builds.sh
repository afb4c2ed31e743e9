#!/usr/bin/env bash
# Old build against new build in the same session: runs two anycl-bench binaries in turns with the
# same arguments, ROUNDS times each, then prints per workload each build's median GFLOP/s over the
# rounds and the new/old ratio (compare_runs.py beside this script). The order flips every round
# (old-new, new-old, ...), so a slow spell of a shared machine falls on both builds alike.
#
# usage: tools/bench/compare_builds.sh OLD_BENCH NEW_BENCH [ROUNDS] [-- anycl-bench args]
#   ROUNDS defaults to 3, the anycl-bench arguments to `all`; --json --out FILE are added.
#   Each binary loads the libanycl of its own build tree (its RUNPATH) and that tree's kernels.
#   The JSON documents and each run's log stay in $ANYCL_COMPARE_DIR (default: a new folder
#   under /tmp), whose path is printed first.
# example: tools/bench/compare_builds.sh ../old/build/tools/anycl-bench build/tools/anycl-bench 5 -- gemm --reps 9
set -euo pipefail

usage() {
  sed -n 's/^# \{0,1\}//; 2,/^set -euo/{/^set -euo/d; p}' "$0" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
old_bench=$1 new_bench=$2
shift 2
rounds=3
if [[ $# -gt 0 && $1 != "--" ]]; then
  rounds=$1
  shift
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "compare_builds.sh: ROUNDS must be a positive integer, not '$rounds'" >&2; exit 2; }
if [[ $# -gt 0 ]]; then
  [[ $1 == "--" ]] || usage
  shift
fi
bench_args=("$@")
[[ ${#bench_args[@]} -gt 0 ]] || bench_args=(all)
for bin in "$old_bench" "$new_bench"; do
  [[ -x $bin ]] || { echo "compare_builds.sh: $bin is not an executable" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")" && pwd)
dir=${ANYCL_COMPARE_DIR:-$(mktemp -d /tmp/anycl-compare.XXXXXX)}
mkdir -p "$dir"
echo "compare_builds.sh: old $old_bench, new $new_bench, $rounds rounds of: anycl-bench ${bench_args[*]}" >&2
echo "compare_builds.sh: documents and logs in $dir" >&2

# One run of one build: the document to $dir/<which>-<round>.json, tables and messages to a log.
run() {
  local which=$1 bin=$2 round=$3 start=$SECONDS
  local out="$dir/$which-$round.json" log="$dir/$which-$round.log"
  if ! "$bin" "${bench_args[@]}" --json --out "$out" > /dev/null 2> "$log"; then
    echo "compare_builds.sh: the $which build failed in round $round ($bin); the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  echo "  round $round: $which $((SECONDS - start)) s" >&2
}

old_docs=() new_docs=()
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    run old "$old_bench" "$r"
    run new "$new_bench" "$r"
  else
    run new "$new_bench" "$r"
    run old "$old_bench" "$r"
  fi
  old_docs+=("$dir/old-$r.json")
  new_docs+=("$dir/new-$r.json")
done

/usr/bin/python3 "$here/compare_runs.py" --old "${old_docs[@]}" --new "${new_docs[@]}"
