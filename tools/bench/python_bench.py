#!/usr/bin/python3
"""The Python package's speed against the C++ API in the same process (docs/performance.md,
"Python"), as JSON:

- overhead: microseconds a tiny GEMM (4x4x4, and 0x4x4, which the C++ API returns from without
  device work, so the binding's own cost) takes through anycl.gemm beyond the same call through
  the C++ API from C++ (anycl._anycl._cpp_gemm_loop), split into the GIL's release and retake
  around each call and the rest; the fastest of interleaved rounds, since on a shared machine
  other load only ever adds time;
- overhead_arrays: the same on anycl.Arrays against the C++ API on their device buffers;
- sgemm_2048: anycl.gemm on 2048 x 2048 float32 against the C++ API, and the ratio;
- digits_cnn: epochs per second of tests' digits CNN in pure PyTorch and anycl.torch.patch'ed.

Usage: PYTHONPATH=build/python /usr/bin/python3 tools/bench/python_bench.py [--out FILE]
       [--device SPEC] [--quick]      (or with the pip-installed package, no PYTHONPATH)
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before torch's OpenMP starts
os.environ.setdefault("POCL_AFFINITY", "1")

import numpy as np  # noqa: E402

import anycl  # noqa: E402
from anycl import _anycl  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "tests"))


def interleaved(rounds, *fns, pick=min):
    """`pick` (min or median) of each function's seconds over `rounds` alternating runs."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for t, fn in zip(times, fns):
            t.append(fn())
    return tuple(pick(t) for t in times)


def python_loop(rt, a, b, c, calls):
    gemm = anycl.gemm
    t0 = time.perf_counter()
    for _ in range(calls):
        gemm(a, b, c, runtime=rt)
    return time.perf_counter() - t0


def overhead(rt, m, calls, rounds):
    """anycl.gemm on NumPy arrays against the C++ API on their host pointers; the overhead splits
    into the GIL released and retaken around each call (the C++ loop doing that) and the rest
    (the Python call and its argument handling)."""
    rng = np.random.default_rng(1)
    a, b = rng.random((m, 4), np.float32), rng.random((4, 4), np.float32)
    c = np.zeros((m, 4), np.float32)
    python_loop(rt, a, b, c, calls // 10)  # warm: kernels, workspace
    py, cpp, cpp_gil = interleaved(rounds, lambda: python_loop(rt, a, b, c, calls),
                                   lambda: _anycl._cpp_gemm_loop(rt, a, b, c, calls),
                                   lambda: _anycl._cpp_gemm_loop(rt, a, b, c, calls, gil_per_call=True))
    us = 1e6 / calls
    return {"m": m, "n": 4, "k": 4, "calls": calls, "rounds": rounds, "python_us_per_call": us * py,
            "cpp_us_per_call": us * cpp, "overhead_us_per_call": us * (py - cpp),
            "cpp_gil_per_call_us_per_call": us * cpp_gil, "gil_us_per_call": us * (cpp_gil - cpp),
            "binding_us_per_call": us * (py - cpp_gil)}


def overhead_arrays(rt, calls, rounds):
    """anycl.gemm on anycl.Arrays (4x4x4) against the C++ API on their buffers (each call waited
    for in both)."""
    rng = np.random.default_rng(3)
    a, b, c = (anycl.Array(rng.random((4, 4), np.float32), runtime=rt) for _ in range(3))
    gemm = anycl.gemm

    def python_arrays():
        t0 = time.perf_counter()
        for _ in range(calls):
            gemm(a, b, c)
        return time.perf_counter() - t0

    python_arrays()
    py, cpp = interleaved(rounds, python_arrays, lambda: _anycl._cpp_gemm_arrays_loop(a, b, c, calls))
    us = 1e6 / calls
    return {"m": 4, "n": 4, "k": 4, "calls": calls, "rounds": rounds, "python_us_per_call": us * py,
            "cpp_us_per_call": us * cpp, "overhead_us_per_call": us * (py - cpp)}


def sgemm(rt, size, rounds):
    rng = np.random.default_rng(2)
    a, b = rng.random((size, size), np.float32), rng.random((size, size), np.float32)
    c = np.zeros((size, size), np.float32)
    python_loop(rt, a, b, c, 1)
    py, cpp = interleaved(rounds, lambda: python_loop(rt, a, b, c, 1), lambda: _anycl._cpp_gemm_loop(rt, a, b, c, 1),
                          pick=statistics.median)
    flops = 2.0 * size ** 3
    return {"size": size, "rounds": rounds, "python_s": py, "cpp_s": cpp, "python_gflops": flops / py / 1e9,
            "cpp_gflops": flops / cpp / 1e9, "python_over_cpp_speed": cpp / py}


def digits_cnn(rt, epochs):
    import torch
    import anycl.torch as at
    from digits_cnn import digits, model, train
    data = digits()
    result = {"epochs": epochs, "torch_threads": torch.get_num_threads()}
    for name, net in (("pytorch", model(seed=5)), ("anycl", at.patch(model(seed=5), runtime=rt))):
        train(net, data, 1, seed=6)  # warm-up epoch: kernel builds, allocator
        t0 = time.perf_counter()
        train(net, data, epochs, seed=7)
        result[f"{name}_epochs_per_s"] = epochs / (time.perf_counter() - t0)
    result["anycl_over_pytorch"] = result["anycl_epochs_per_s"] / result["pytorch_epochs_per_s"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the JSON here (default: stdout)")
    parser.add_argument("--device", default="", help="device spec (default: ANYCL_DEVICE or the best device)")
    parser.add_argument("--quick", action="store_true", help="fewer calls and epochs (a smoke run)")
    args = parser.parse_args()
    rt = anycl.Runtime(args.device)
    q = args.quick
    doc = {
        "schema": "anycl-python-bench/1",
        "devices": [d.name for d in rt.devices],
        "numpy": np.__version__,
        "overhead": overhead(rt, 4, calls=100 if q else 200, rounds=10 if q else 100),
        "overhead_no_device_work": overhead(rt, 0, calls=2000 if q else 20000, rounds=3 if q else 15),
        "overhead_arrays": overhead_arrays(rt, calls=100 if q else 200, rounds=10 if q else 100),
        "sgemm_2048": sgemm(rt, 512 if q else 2048, rounds=2 if q else 5),
        "digits_cnn": digits_cnn(rt, epochs=1 if q else 3),
    }
    text = json.dumps(doc, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
