#!/usr/bin/env bash
# The bucketed gradient exchange against one exchange after the backward pass: 2 ranks of
# examples/train_cnn, each bound to its own core with one POCL thread, the same model, batch and
# steps, --bucket-kb 0 against --bucket-kb KB. Writes JSON with both runs and the images/s ratio
# (docs/training.md, "Bucketed gradient exchange").
#
#   tools/bench/mpi_buckets.sh BUILD_DIR OUT.json [MODEL=wide] [KB=1024] [GLOBAL_BATCH=64] [STEPS=40] [REPEATS=3]
#
# The runs alternate, REPEATS times each; the fastest of each counts (other load only slows).
set -euo pipefail
build=$1 out=$2 model=${3:-wide} kb=${4:-1024} batch=${5:-64} steps=${6:-40} repeats=${7:-3}
source "$(dirname "$0")/mpi_setup.sh"
run() {  # bucket-kb steps json
  POCL_MAX_PTHREAD_COUNT=1 mpirun "${as_root[@]}" -x POCL_MAX_PTHREAD_COUNT \
    --bind-to core --map-by core -np 2 "$exe" --mpi --data "$data" --device cpu --model "$model" \
    --batch "$batch" --steps "$2" --epochs 1 --bucket-kb "$1" --json "$3" >/dev/null
}
run "$kb" 2 "$tmp/warm.json"  # the kernel builds (cached for later processes) stay out
for ((i = 0; i < repeats; ++i)); do
  run 0 "$steps" "$tmp/one.$i.json"
  run "$kb" "$steps" "$tmp/buckets.$i.json"
done
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$tmp" "$out" <<'PY'
import json, sys
from fastest_run import fastest
one, buckets = fastest(f"{sys.argv[1]}/one.*.json"), fastest(f"{sys.argv[1]}/buckets.*.json")
result = {"benchmark": "mpi_buckets", "one_exchange": one, "buckets": buckets,
          "speedup": buckets["images_per_second"] / one["images_per_second"]}
json.dump(result, open(sys.argv[2], "w"), indent=1)
print(f"one exchange {one['images_per_second']:.0f} images/s, buckets of {buckets['bucket_bytes'] // 1024} KB "
      f"{buckets['images_per_second']:.0f} images/s: {result['speedup']:.2f}x")
PY
