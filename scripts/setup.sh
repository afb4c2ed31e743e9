#!/usr/bin/env bash
# Installs the Debian 12 packages anycl builds, tests and benchmarks with (only those missing),
# then configures and builds into ./build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd oclgrind clinfo
  libboost-dev nlohmann-json3-dev catch2
  libclblast-dev libopenblas-dev libdnnl-dev libblas3 libblas-dev
  python3 python3-numpy python3-torch python3-sklearn
  python3-dev pybind11-dev libdlpack-dev python3-pytest python3-setuptools python3-wheel python3-pip python3-venv
  libopenmpi-dev openmpi-bin
)
bash scripts/install_packages.sh "${packages[@]}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${ANYCL_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
