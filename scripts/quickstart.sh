#!/usr/bin/env bash
# The main job: set up, list the devices and kernel builds, then run a GEMM and a convolution on
# the default device and check them against a plain CPU loop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/tools/anycl-query
./build/examples/anycl-demo
