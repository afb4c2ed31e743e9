"""Debian's NumPy, unchanged, under LD_PRELOAD=libanycl_blas.so: float32 and float64 `@` on plain,
transposed and sliced operands equal NumPy without the preload within a GEMM tolerance, and the
large products ran on anycl (ANYCL_LOG=info lines on stderr).

    /usr/bin/python3 test_blas_numpy.py /path/to/libanycl_blas.so

The parent runs the products in two child processes, without and with the preload, and compares
the saved results. Tolerance: |C - C_ref| <= 8 * (k + 2) * eps * (|A| @ |B|) element-wise."""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

# (name, m-side builder, n-side builder): operands are views of seeded random arrays.
CASES = [
    ("square 256", lambda r, t: t(r, 256, 256), lambda r, t: t(r, 256, 256)),
    ("a.T @ b", lambda r, t: t(r, 200, 300).T, lambda r, t: t(r, 200, 150)),
    ("a @ b.T", lambda r, t: t(r, 180, 220), lambda r, t: t(r, 130, 220).T),
    ("a[::2].T @ b", lambda r, t: t(r, 400, 190)[::2].T, lambda r, t: t(r, 200, 170)),
    ("a[:, 10:230] @ b[5:225, ::1]", lambda r, t: t(r, 160, 260)[:, 10:230], lambda r, t: t(r, 240, 140)[5:225]),
    ("rectangular 517x129x263", lambda r, t: t(r, 517, 263), lambda r, t: t(r, 263, 129)),
    ("small 8x8x8", lambda r, t: t(r, 8, 8), lambda r, t: t(r, 8, 8)),
]
LARGE = [name for name in (c[0] for c in CASES) if not name.startswith("small")]
DTYPES = ["float32", "float64"]


def operands(dtype):
    rng = np.random.default_rng(7)
    make = lambda r, m, n: r.standard_normal((m, n)).astype(dtype)
    for name, fa, fb in CASES:
        yield name, fa(rng, make), fb(rng, make)


def child(out_path):
    results = {}
    for dtype in DTYPES:
        for name, a, b in operands(dtype):
            results[f"{dtype} {name}"] = a @ b
    np.savez(out_path, **results)


def run_child(out_path, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env["ANYCL_LOG"] = "info"
    if preload:
        env["LD_PRELOAD"] = preload
        env["ANYCL_BLAS_MIN_FLOPS"] = str(2 * 64**3)  # the 8x8x8 product stays below it
    p = subprocess.run([sys.executable, __file__, "--child", out_path], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"child (preload={preload!r}) failed with {p.returncode}:\n{p.stderr}")
    return p.stderr


def main(lib):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        plain, pre = os.path.join(tmp, "plain.npz"), os.path.join(tmp, "preload.npz")
        log_plain = run_child(plain, None)
        log = run_child(pre, lib)
        if "anycl_blas:" in log_plain:
            failures.append("anycl_blas ran without the preload")
        ref, got = np.load(plain), np.load(pre)
        for dtype in DTYPES:
            eps = np.finfo(dtype).eps
            for name, a, b in operands(dtype):
                key = f"{dtype} {name}"
                bound = 8 * (a.shape[1] + 2) * eps * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))
                err = np.abs(got[key].astype(np.float64) - ref[key].astype(np.float64))
                if got[key].dtype != ref[key].dtype or not np.all(err <= bound):
                    failures.append(f"{key}: max error {err.max():.3g}, bound {bound.max():.3g}")
    on_anycl = re.findall(r"^anycl_blas: ([sd])gemm (\d+)x(\d+)x(\d+) on anycl$", log, re.M)
    forwarded = re.findall(r"^anycl_blas: ([sd])gemm 8x8x8 forwarded", log, re.M)
    counts = {"s": sum(1 for x in on_anycl if x[0] == "s"), "d": sum(1 for x in on_anycl if x[0] == "d")}
    for letter, dtype in (("s", "float32"), ("d", "float64")):
        if counts[letter] < len(LARGE):
            failures.append(f"{dtype}: {counts[letter]} products on anycl, expected {len(LARGE)}")
    if len(forwarded) != 2:
        failures.append(f"the 8x8x8 products: {len(forwarded)} forwarded lines, expected 2")
    print(json.dumps({"on_anycl": counts, "forwarded_small": len(forwarded), "failures": failures}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif len(sys.argv) == 2:
        sys.exit(main(sys.argv[1]))
    else:
        sys.exit(__doc__)
