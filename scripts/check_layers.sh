#!/usr/bin/env bash
# Fails when a source file includes a header it may not: one from a layer above its own, or,
# from the C API, the BLAS shim, tools and examples, any internal header.
#
#   scripts/check_layers.sh [ROOT]      (ROOT defaults to the repository root)
#
# Layers, top to bottom: src/api -> src/train -> src/sched -> src/ops -> src/runtime. A file may
# include its own layer, any layer below it and the public headers (anycl/...). Shims and
# consumers may not reach into the internals:
#   src/capi          anycl/..., capi/..., api/... and its own files only
#   src/mpi           anycl/... and its own files only (libanycl_mpi: over the public API)
#   src/blas          anycl/..., blas/... and its own files only (libanycl_blas: a shim over
#                     the public C++ API)
#   tools/, examples/ anycl/... and their own local headers (no src layer prefix) only
# Scanned: #include "..." lines, and #include <...> lines whose first component names a src
# layer, in src/, tools/ and examples/. Includes without a directory ("x.hpp") are the file's
# own folder. A src/ folder that is not a known layer is reported on stderr and not checked.
# Prints one line per violation, file:line: layer X includes Y (upward|not public), and exits 1
# if there is any, 0 otherwise. Needs only bash, coreutils, grep and sed.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [[ ! -d $root ]]; then
  echo "check_layers: $root is not a directory" >&2
  exit 2
fi
cd "$root"

# Rank of a src layer (higher = further up); empty when the name is not a layer.
rank() {
  case $1 in
    runtime) echo 1 ;;
    ops) echo 2 ;;
    sched) echo 3 ;;
    train) echo 4 ;;
    api) echo 5 ;;
    capi) echo 6 ;;
    blas) echo 7 ;;
    mpi) echo 8 ;;
    *) echo "" ;;
  esac
}

# The layer an include names: the first component of its path, a leading "src/" and any
# "./" or "../" resolved against the including file's folder.
target_layer() {
  local file=$1 inc=$2 path
  case $inc in
    ./* | ../*) path=$(realpath -m --relative-to=. "$(dirname "$file")/$inc") ;;
    *) path=$inc ;;
  esac
  path=${path#src/}
  case $path in
    */*) echo "${path%%/*}" ;;
    *) echo "" ;;  # no folder: the including file's own
  esac
}

violations=0
report() {  # file line layer include why
  echo "$1:$2: layer $3 includes $4 ($5)"
  violations=$((violations + 1))
}

dirs=()
for d in src tools examples; do
  if [[ -d $d ]]; then dirs+=("$d"); fi
done
if [[ ${#dirs[@]} -eq 0 ]]; then
  echo "check_layers: no src/, tools/ or examples/ under $root" >&2
  exit 2
fi

mapfile -t files < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.cc' -o -name '*.cpp' \
  -o -name '*.cxx' -o -name '*.h' -o -name '*.hh' -o -name '*.hpp' -o -name '*.hxx' -o -name '*.inl' \) |
  LC_ALL=C sort)
declare -A unknown=()

for file in "${files[@]}"; do
  case $file in
    src/*/*)
      layer=${file#src/}
      layer=${layer%%/*}
      ;;
    src/*) layer="." ;;  # directly under src/: no layer
    tools/*) layer=tools ;;
    examples/*) layer=examples ;;
  esac
  if [[ $layer != tools && $layer != examples && -z $(rank "$layer") ]]; then
    unknown[$layer]=1
    continue
  fi
  # "line:q:include" for #include "x", "line:a:include" for #include <x>.
  hits=$(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*("[^"]+"|<[^>]+>)' "$file" |
    sed -E -e 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1:q:\2/' \
           -e 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*<([^>]+)>.*/\1:a:\2/' || true)
  if [[ -z $hits ]]; then continue; fi
  while IFS= read -r hit; do
    line=${hit%%:*}
    rest=${hit#*:}
    kind=${rest%%:*}
    inc=${rest#*:}
    target=$(target_layer "$file" "$inc")
    trank=$(rank "$target")
    # Angle includes are system and third-party headers unless they name a src layer.
    if [[ $target == anycl || ($kind == a && -z $trank) ]]; then continue; fi
    case $layer in
      tools | examples)
        if [[ -n $trank ]]; then report "$file" "$line" "$layer" "$inc" "not public"; fi
        ;;
      capi)
        if [[ -n $target && $target != capi && $target != api ]]; then
          report "$file" "$line" "$layer" "$inc" "not public"
        fi
        ;;
      blas | mpi)
        if [[ -n $target && $target != "$layer" ]]; then
          report "$file" "$line" "$layer" "$inc" "not public"
        fi
        ;;
      *)
        if [[ -n $trank && $trank -gt $(rank "$layer") ]]; then
          report "$file" "$line" "$layer" "$inc" "upward"
        fi
        ;;
    esac
  done <<<"$hits"
done

for layer in "${!unknown[@]}"; do
  echo "check_layers: src/$layer is not a known layer; its files' includes were not checked" >&2
done

if ((violations > 0)); then
  echo "check_layers: $violations violation(s)" >&2
  exit 1
fi
exit 0
