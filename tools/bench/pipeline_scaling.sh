#!/usr/bin/env bash
# Model-parallel training of examples/train_cnn's wide model (1.6M parameters): 2 pipeline stages
# on cpu/2 (two 1-core sub-devices) for each micro-batch count, against the same model on one
# 1-core device and data-parallel on cpu/2, the same global batch and epochs. Writes JSON with
# every run, the images/s ratios against one core and the bubble fractions (docs/performance.md,
# "Model-parallel").
#
#   tools/bench/pipeline_scaling.sh BUILD_DIR OUT.json [BATCH=16] [EPOCHS=3] [REPEATS=3] [MICRO="1 2 4 8"]
#
# The runs alternate, REPEATS times each; the fastest of each counts (other load only slows).
set -euo pipefail
build=$1 out=$2 batch=${3:-16} epochs=${4:-3} repeats=${5:-3} micro=${6:-"1 2 4 8"}
exe=$build/examples/train_cnn data=$build/digits.txt
[[ -f $data ]] || /usr/bin/python3 "$(dirname "$0")/../../scripts/export_digits.py" "$data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--data "$data" --model wide --batch "$batch" --epochs "$epochs")
one() { POCL_MAX_PTHREAD_COUNT=1 POCL_AFFINITY=1 "$exe" --device cpu "${common[@]}" --json "$1" >/dev/null; }
pipe() { POCL_AFFINITY=1 "$exe" --device cpu/2 --stages 2 --micro-batches "$1" "${common[@]}" --json "$2" >/dev/null; }
data_parallel() { POCL_AFFINITY=1 "$exe" --device cpu/2 "${common[@]}" --json "$1" >/dev/null; }
# Warm-up: the kernel builds (cached for later processes) stay out of the measured runs.
POCL_AFFINITY=1 "$exe" --device cpu/2 --stages 2 --data "$data" --model wide --batch "$batch" --epochs 1 --steps 2 >/dev/null
for ((i = 0; i < repeats; ++i)); do
  one "$tmp/one.$i.json"
  data_parallel "$tmp/dp.$i.json"
  for m in $micro; do pipe "$m" "$tmp/pipe$m.$i.json"; done
done
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$tmp" "$out" "$batch" "$micro" <<'PY'
import json, sys
from fastest_run import fastest
tmp, out, batch, micro = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(m) for m in sys.argv[4].split()]
one, dp = fastest(f"{tmp}/one.*.json"), fastest(f"{tmp}/dp.*.json")
stages = 2
result = {"benchmark": "pipeline_scaling", "model": "wide", "batch": batch, "one_core": one,
          "data_parallel_cpu2": dp, "data_parallel_speedup": dp["images_per_second"] / one["images_per_second"],
          "pipelines": []}
print(f"one core {one['images_per_second']:.0f} images/s; data-parallel cpu/2 {dp['images_per_second']:.0f} "
      f"({result['data_parallel_speedup']:.2f}x)")
for m in micro:
    run = fastest(f"{tmp}/pipe{m}.*.json")
    speedup = run["images_per_second"] / one["images_per_second"]
    # GPipe with balanced stages idles (M - 1) of every (m + M - 1) ticks; the measured idle
    # fraction is what 2 cores lose against twice one core (bubble, imbalance, transfers).
    entry = {"stages": stages, "micro_batches": m, "run": run, "speedup": speedup,
             "schedule_bubble": (stages - 1) / (m + stages - 1), "measured_idle": 1 - speedup / stages}
    result["pipelines"].append(entry)
    print(f"2 stages, {m} micro-batches: {run['images_per_second']:.0f} images/s, {speedup:.2f}x one core, "
          f"schedule bubble {entry['schedule_bubble']:.2f}, measured idle {entry['measured_idle']:.2f}")
json.dump(result, open(out, "w"), indent=1)
PY
