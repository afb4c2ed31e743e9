# The MPI benches' common setup (sourced): the digits file, a temporary directory, mpirun's root flag.
exe=$build/examples/train_cnn data=$build/digits.txt
[[ -f $data ]] || /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../../scripts/export_digits.py" "$data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as_root=()
if [[ $(id -u) == 0 ]]; then as_root=(--allow-run-as-root); fi
