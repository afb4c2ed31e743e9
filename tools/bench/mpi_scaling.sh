#!/usr/bin/env bash
# MPI weak scaling of examples/train_cnn: 1 rank on one core against 2 ranks each on its own
# core, the same batch per rank (so 2 ranks train a global batch twice as large), the same
# epochs. Writes JSON with both runs and the images/s ratio (docs/performance.md, "MPI").
#
#   tools/bench/mpi_scaling.sh BUILD_DIR OUT.json [PER_RANK_BATCH=64] [EPOCHS=20] [REPEATS=3]
#
# The runs alternate, REPEATS times each; the fastest of each counts (other load only slows).
set -euo pipefail
build=$1 out=$2 batch=${3:-64} epochs=${4:-20} repeats=${5:-3}
source "$(dirname "$0")/mpi_setup.sh"
run() {  # ranks json
  # One POCL thread per rank, each rank bound to its own core (by mpirun: POCL_AFFINITY would pin
  # every rank's thread to core 0).
  local e=${epochs}
  POCL_MAX_PTHREAD_COUNT=1 mpirun "${as_root[@]}" -x POCL_MAX_PTHREAD_COUNT \
    --bind-to core --map-by core -np "$1" "$exe" --mpi --data "$data" --device cpu \
    --batch $((batch * $1)) --epochs "$e" --json "$2" >/dev/null
}
# Warm-up: the kernel builds (cached for later processes) stay out of the measured runs.
epochs=1 run 1 "$tmp/warm.json"
for ((i = 0; i < repeats; ++i)); do
  run 1 "$tmp/one.$i.json"
  run 2 "$tmp/two.$i.json"
done
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$tmp" "$out" "$batch" <<'PY'
import json, sys
from fastest_run import fastest
one, two = fastest(f"{sys.argv[1]}/one.*.json"), fastest(f"{sys.argv[1]}/two.*.json")
sys.argv[3:5] = [sys.argv[2], sys.argv[3]]
result = {"benchmark": "mpi_weak_scaling", "per_rank_batch": int(sys.argv[4]), "one_rank": one, "two_ranks": two,
          "speedup": two["images_per_second"] / one["images_per_second"]}
json.dump(result, open(sys.argv[3], "w"), indent=1)
print(f"1 rank {one['images_per_second']:.0f} images/s, 2 ranks {two['images_per_second']:.0f} images/s: "
      f"{result['speedup']:.2f}x")
PY
