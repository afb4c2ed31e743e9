#!/usr/bin/python3
"""Times Debian's NumPy float32 `a @ b` (square n x n) with and without libanycl_blas LD_PRELOADed,
in child processes of this script, and prints one JSON document (docs/blas.md, "Measured").

    /usr/bin/python3 tools/bench/blas_numpy.py [--lib build/libanycl_blas.so]
        [--sizes 32,64,1024,2048] [--configs numpy,preload,anycl] [--reps 7] [--out FILE]

Configurations, each in its own process:
  numpy    NumPy as installed (its BLAS: OpenBLAS on Debian by default)
  preload  LD_PRELOAD=libanycl_blas.so with the default ANYCL_BLAS_MIN_FLOPS (what a user gets)
  anycl    LD_PRELOAD=libanycl_blas.so with ANYCL_BLAS_MIN_FLOPS=0 (every product on anycl)
Children run with OMP_WAIT_POLICY=passive and POCL_AFFINITY=1 unless already set; other
variables (OPENBLAS_CORETYPE, ANYCL_DEVICE, ...) pass through. Each size is warmed up once (the
first anycl call creates the runtime and loads its kernels), then timed `--reps` times; a rep
repeats the product until it has run for at least 50 ms. Figures are the median, min and max
milliseconds per product, and GFLOP/s of the median. Needs only the standard library and NumPy."""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LIB = os.path.normpath(os.path.join(HERE, "..", "..", "build", "libanycl_blas.so"))
CONFIGS = ("numpy", "preload", "anycl")


def child(sizes, reps):
    import numpy as np

    rng = np.random.default_rng(1)
    out = []
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        a @ b  # warm-up
        times = []
        for _ in range(reps):
            count, start = 0, time.perf_counter()
            while True:
                a @ b
                count += 1
                elapsed = time.perf_counter() - start
                if elapsed >= 0.05:
                    break
            times.append(elapsed / count * 1e3)
        med = statistics.median(times)
        out.append({"n": n, "ms_median": med, "ms_min": min(times), "ms_max": max(times),
                    "gflops": 2.0 * n**3 / (med * 1e-3) / 1e9})
    json.dump(out, sys.stdout)


def run_config(config, lib, sizes, reps):
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env.setdefault("POCL_AFFINITY", "1")
    env.pop("LD_PRELOAD", None)
    env.pop("ANYCL_BLAS_MIN_FLOPS", None)
    if config != "numpy":
        env["LD_PRELOAD"] = lib
    if config == "anycl":
        env["ANYCL_BLAS_MIN_FLOPS"] = "0"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", ",".join(map(str, sizes)), str(reps)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"blas_numpy: the {config} child failed ({p.returncode}):\n{p.stderr}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", default=DEFAULT_LIB)
    ap.add_argument("--sizes", default="32,64,1024,2048")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--out")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    configs = args.configs.split(",")
    if any(c not in CONFIGS for c in configs):
        sys.exit(f"blas_numpy: --configs takes {', '.join(CONFIGS)}")
    if configs != ["numpy"] and not os.path.exists(args.lib):
        sys.exit(f"blas_numpy: {args.lib} does not exist (build anycl_blas, or pass --lib)")
    results = {c: run_config(c, args.lib, sizes, args.reps) for c in configs}
    doc = {
        "schema": "anycl-blas-numpy/1",
        "lib": args.lib,
        "reps": args.reps,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "loadavg_after": os.getloadavg(),
                    "environment": {k: os.environ.get(k) for k in
                                    ("OMP_WAIT_POLICY", "POCL_AFFINITY", "OPENBLAS_CORETYPE", "ANYCL_DEVICE")}},
        "results": results,
    }
    if "numpy" in results:
        doc["speedup_vs_numpy"] = {
            c: {str(r["n"]): results["numpy"][i]["ms_median"] / r["ms_median"] for i, r in enumerate(results[c])}
            for c in configs if c != "numpy"}
    text = json.dumps(doc, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child([int(s) for s in sys.argv[2].split(",")], int(sys.argv[3]))
    else:
        main()
