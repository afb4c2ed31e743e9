"""anycl.gemm against NumPy float64 products. Tolerance: |error| <= 8 * k * eps(dtype) for
operands in [-1, 1] (a sum of k products, each rounding once, plus alpha/beta scaling)."""
import itertools

import numpy as np
import pytest

import anycl
from conftest import uniform


def reference(a, b, c, alpha, beta, trans_a, trans_b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    op_a = np.swapaxes(a64, -1, -2) if trans_a else a64
    op_b = np.swapaxes(b64, -1, -2) if trans_b else b64
    out = alpha * np.matmul(op_a, op_b)
    return out if c is None else out + beta * c.astype(np.float64)


def assert_close(got, want, k, dtype):
    tol = 8 * max(k, 1) * np.finfo(dtype).eps
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=0, atol=tol)


def matrix(rng, rows, cols, dtype, order):
    return np.asarray(uniform(rng, (rows, cols), dtype), order=order)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("orders", ["CCC", "FFF", "CFC", "FCF"])
def test_layouts_and_transposes(rt, rng, dtype, trans_a, trans_b, orders):
    m, n, k = 37, 29, 45
    a = matrix(rng, *((k, m) if trans_a else (m, k)), dtype, orders[0])
    b = matrix(rng, *((n, k) if trans_b else (k, n)), dtype, orders[1])
    c = matrix(rng, m, n, dtype, orders[2])
    want = reference(a, b, c, 0.5, -1.5, trans_a, trans_b)
    out = anycl.gemm(a, b, c, alpha=0.5, beta=-1.5, trans_a=trans_a, trans_b=trans_b, runtime=rt)
    assert out is c, "c is written in place and returned"
    assert_close(c, want, k, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_output_is_c_ordered(rt, rng, dtype):
    a, b = uniform(rng, (64, 33), dtype), uniform(rng, (33, 70), dtype)
    c = anycl.gemm(a, b, runtime=rt)
    assert c.dtype == dtype and c.shape == (64, 70) and c.flags.c_contiguous
    assert_close(c, reference(a, b, None, 1, 0, False, False), 33, dtype)


def test_padded_and_strided_views(rt, rng):
    big = uniform(rng, (80, 50))
    a = big[3:23, 5:35]           # unit inner stride, leading dimension 50: used in place
    b = big[::2, ::3][:30, :9]     # no unit stride: copied once
    c_big = np.zeros((30, 40), np.float32)
    c = c_big[5:25, 2:11]          # written in place through its leading dimension 40
    anycl.gemm(a, b, c, runtime=rt)
    assert_close(c, reference(a, b, None, 1, 0, False, False), 30, np.float32)
    untouched = c_big.copy()
    untouched[5:25, 2:11] = 0
    assert not untouched.any(), "memory around the view of c is not written"


def test_c_with_other_strides_is_written_back(rt, rng):
    a, b = uniform(rng, (12, 7)), uniform(rng, (7, 10))
    c_big = uniform(rng, (24, 30))
    big_before = c_big.copy()
    c = c_big[::2, ::3]
    before = c.copy()
    anycl.gemm(a, b, c, alpha=2.0, beta=0.25, runtime=rt)
    assert_close(c, reference(a, b, before, 2.0, 0.25, False, False), 7, np.float32)
    c_big[::2, ::3] = before
    assert np.array_equal(c_big, big_before), "only the elements of the view are written"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched(rt, rng, dtype):
    a, b = uniform(rng, (5, 9, 13), dtype), uniform(rng, (5, 11, 13), dtype)
    c = anycl.gemm(a, b, trans_b=True, runtime=rt)
    assert c.shape == (5, 9, 11)
    assert_close(c, reference(a, b, None, 1, 0, False, True), 13, dtype)


def test_batched_with_shared_operand_and_fortran_items(rt, rng):
    a = np.asfortranarray(uniform(rng, (4, 8, 6)))  # batch stride 1: copied, items still right
    w = uniform(rng, (6, 3))                         # one matrix for every item
    c = np.zeros((4, 8, 3), np.float32)
    anycl.gemm(a, w, c, runtime=rt)
    assert_close(c, reference(a, w, None, 1, 0, False, False), 6, np.float32)


def test_beta_zero_ignores_nan_in_c(rt, rng):
    a, b = uniform(rng, (8, 8)), uniform(rng, (8, 8))
    c = np.full((8, 8), np.nan, np.float32)
    anycl.gemm(a, b, c, runtime=rt)
    assert np.isfinite(c).all()


def test_empty_k_scales_c(rt, rng):
    a, b = np.zeros((6, 0), np.float64), np.zeros((0, 5), np.float64)
    c = uniform(rng, (6, 5), np.float64)
    want = 3.0 * c
    anycl.gemm(a, b, c, beta=3.0, runtime=rt)
    np.testing.assert_allclose(c, want, rtol=1e-15)


def test_default_runtime(rng):
    a, b = uniform(rng, (4, 4)), uniform(rng, (4, 4))
    assert_close(anycl.gemm(a, b), reference(a, b, None, 1, 0, False, False), 4, np.float32)
    assert isinstance(anycl.default_runtime(), anycl.Runtime)


def test_output_overlapping_an_input(rt, rng):
    a = uniform(rng, (16, 16), np.float64)
    want = reference(a, a, a, 1.0, 0.5, False, False)
    anycl.gemm(a, a, a, beta=0.5, runtime=rt)  # C is A and B: read from copies
    assert_close(a, want, 16, np.float64)


def test_threads_share_a_runtime(rt, rng):
    import concurrent.futures
    pairs = [(uniform(rng, (96, 80)), uniform(rng, (80, 72))) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda ab: anycl.gemm(*ab, runtime=rt), pairs))
    for (a, b), c in zip(pairs, results):
        assert_close(c, reference(a, b, None, 1, 0, False, False), 80, np.float32)


def test_gil_is_released_during_the_call(rt, rng):
    """While another thread is inside a long GEMM, this thread keeps running Python: the longest
    pause between its loop iterations stays under half the call's duration (holding the GIL
    would pause it for the whole call)."""
    import threading
    import time
    a, b = uniform(rng, (1536, 1536)), uniform(rng, (1536, 1536))
    anycl.gemm(a, b, runtime=rt)  # warm
    span = {}

    def call():
        span["start"] = time.perf_counter()
        anycl.gemm(a, b, runtime=rt)
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=call)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    inside = [t for t in ticks if span["start"] <= t <= span["end"]]
    duration = span["end"] - span["start"]
    edges = [span["start"]] + inside + [span["end"]]
    longest_pause = max(b - a for a, b in zip(edges, edges[1:]))
    assert longest_pause < 0.5 * duration, f"longest pause {longest_pause:.3f} s in a {duration:.3f} s call"
