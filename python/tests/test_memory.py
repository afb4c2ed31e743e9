"""Reference counting and memory: many small calls, successful or failing, keep the process's
resident memory flat (growth <= 256 KiB after a warm-up, so a leak of 32 bytes a call fails) and leave their arguments' reference
counts as they were."""
import sys

import numpy as np
import pytest

import anycl
from conftest import uniform

PAGE = 4096
LIMIT = 256 << 10


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def growth(fn, calls=10_000, warmup=1_000):
    for _ in range(warmup):
        fn()
    before = rss_bytes()
    for _ in range(calls):
        fn()
    return rss_bytes() - before


def test_small_calls_do_not_grow_memory(rt, rng):
    a, b = uniform(rng, (4, 4)), uniform(rng, (4, 4))
    c = np.zeros((4, 4), np.float32)
    counts = [sys.getrefcount(x) for x in (a, b, c)]
    assert growth(lambda: anycl.gemm(a, b, c, runtime=rt)) <= LIMIT
    assert growth(lambda: anycl.gemm(a, b, runtime=rt)) <= LIMIT
    assert [sys.getrefcount(x) for x in (a, b, c)] == counts


def test_conv_calls_do_not_grow_memory(rt, rng):
    x, w = uniform(rng, (1, 2, 5, 5)), uniform(rng, (2, 2, 3, 3))
    assert growth(lambda: anycl.conv2d(x, w, padding=1, runtime=rt), calls=3_000, warmup=300) <= LIMIT


def failing_gemm(rt, a, b, c):
    with pytest.raises(anycl.InvalidArgumentError):
        anycl.gemm(a, b, c, runtime=rt)


def test_exception_path_leaks_nothing(rt, rng):
    a, b = uniform(rng, (4, 3)), uniform(rng, (4, 4))   # k mismatch
    c = np.zeros((4, 4), np.float32)
    counts = [sys.getrefcount(x) for x in (a, b, c)]
    assert growth(lambda: failing_gemm(rt, a, b, c)) <= LIMIT
    assert [sys.getrefcount(x) for x in (a, b, c)] == counts
    assert not c.any()


def test_dlpack_exports_are_released(rt, rng):
    arr = anycl.Array(uniform(rng, (256,)), runtime=rt)
    counts = sys.getrefcount(arr)
    assert growth(lambda: np.from_dlpack(arr), calls=3_000, warmup=300) <= LIMIT
    assert growth(lambda: arr.__dlpack__(), calls=3_000, warmup=300) <= LIMIT  # never consumed
    assert sys.getrefcount(arr) == counts


def test_dlpack_imports_release_their_producers(rt, rng):
    import torch
    host, t = uniform(rng, (256,)), torch.zeros(64, dtype=torch.float64)
    strided = host[::2]  # copied, not viewed
    counts = [sys.getrefcount(host), sys.getrefcount(t)]
    assert growth(lambda: anycl.from_dlpack(host, runtime=rt), calls=3_000, warmup=300) <= LIMIT
    assert growth(lambda: anycl.from_dlpack(t, runtime=rt), calls=3_000, warmup=300) <= LIMIT
    assert growth(lambda: anycl.from_dlpack(strided, runtime=rt), calls=3_000, warmup=300) <= LIMIT
    assert [sys.getrefcount(host), sys.getrefcount(t)] == counts


def test_array_calls_do_not_grow_memory(rt, rng):
    a, b = (anycl.Array(uniform(rng, (4, 4)), runtime=rt) for _ in range(2))
    c = anycl.Array(np.zeros((4, 4), np.float32), runtime=rt)
    assert growth(lambda: anycl.gemm(a, b, c), calls=3_000, warmup=300) <= LIMIT
    assert growth(lambda: anycl.gemm(a, b), calls=3_000, warmup=300) <= LIMIT
