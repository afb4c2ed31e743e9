"""gemm and conv2d* on anycl.Arrays (device memory, no host round trip; the results Arrays),
against NumPy / PyTorch float64 with the tolerances of test_gemm.py (8 * k * eps(dtype)) and
test_conv.py (16 * n * eps(float32)); operands copied in (Array) and imported in place
(from_dlpack, also at element offsets into their first page)."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

import anycl
from conftest import uniform
from test_conv import as64, tol
from test_gemm import assert_close, reference

MAKERS = {"copy": lambda h, rt: anycl.Array(h, runtime=rt), "import": lambda h, rt: anycl.from_dlpack(h, runtime=rt)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("make", list(MAKERS))
def test_gemm(rt, rng, dtype, trans_a, trans_b, make):
    m, n, k = 37, 29, 45
    a = uniform(rng, (k, m) if trans_a else (m, k), dtype)
    b = uniform(rng, (n, k) if trans_b else (k, n), dtype)
    c = uniform(rng, (m, n), dtype)
    want = reference(a, b, c, 0.5, -1.5, trans_a, trans_b)
    A, B, C = (MAKERS[make](x, rt) for x in (a, b, c))
    out = anycl.gemm(A, B, C, alpha=0.5, beta=-1.5, trans_a=trans_a, trans_b=trans_b, runtime=rt)
    assert out is C, "c is written in place and returned"
    assert_close(C.numpy(), want, k, dtype)
    fresh = anycl.gemm(A, B, trans_a=trans_a, trans_b=trans_b)  # the arrays' runtime; c allocated
    assert isinstance(fresh, anycl.Array) and fresh.shape == (m, n) and fresh.dtype == dtype
    assert_close(fresh.numpy(), reference(a, b, None, 1.0, 0.0, trans_a, trans_b), k, dtype)


def test_gemm_batched_and_offset_views(rt, rng):
    a = uniform(rng, (4, 9, 6))
    big = uniform(rng, (6 * 5 + 3,))  # b starts 3 floats into its allocation
    b = big[3:].reshape(6, 5)
    A, B = anycl.Array(a, runtime=rt), anycl.from_dlpack(b, runtime=rt)
    out = anycl.gemm(A, B)
    assert out.shape == (4, 9, 5)
    assert_close(out.numpy(), reference(a, b, None, 1.0, 0.0, False, False), 6, np.float32)


def test_conv_passes(rt, rng):
    xs, ws, stride, padding, dilation, groups = (2, 4, 9, 11), (6, 2, 3, 3), (2, 1), (1, 2), 1, 2
    x, w, bias = uniform(rng, xs), uniform(rng, ws), uniform(rng, ws[:1])
    X, W = anycl.Array(x, runtime=rt), anycl.from_dlpack(w, runtime=rt)
    Bias = anycl.from_dlpack(uniform(rng, (ws[0] + 1,))[1:], runtime=rt)  # at an element offset
    bias = Bias.numpy()
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = anycl.conv2d(X, W, Bias, relu=True, **kw)
    want = F.conv2d(as64(x), as64(w), as64(bias), stride, padding, dilation, groups).clamp_min(0)
    assert isinstance(y, anycl.Array)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=0, atol=tol(ws[1] * ws[2] * ws[3]))
    dy = uniform(rng, tuple(want.shape))
    DY = anycl.Array(dy, runtime=rt)
    dx = anycl.conv2d_backward_data(DY, W, xs, **kw)
    want_dx = conv2d_input(xs, as64(w), as64(dy), stride, padding, dilation, groups)
    np.testing.assert_allclose(dx.numpy(), want_dx.numpy(), rtol=0, atol=tol(ws[0] * ws[2] * ws[3]))
    dw, db = anycl.conv2d_backward_weights(X, DY, ws, bias_grad=True, **kw)
    want_dw = conv2d_weight(as64(x), ws, as64(dy), stride, padding, dilation, groups)
    n_sum = xs[0] * dy.shape[2] * dy.shape[3]
    np.testing.assert_allclose(dw.numpy(), want_dw.numpy(), rtol=0, atol=tol(n_sum))
    np.testing.assert_allclose(db.numpy(), dy.astype(np.float64).sum((0, 2, 3)), rtol=0, atol=tol(n_sum))


def test_bad_operands(rt, rng):
    A = anycl.Array(uniform(rng, (3, 4)), runtime=rt)
    B = anycl.Array(uniform(rng, (4, 5)), runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'b': expected an anycl.Array"):
        anycl.gemm(A, uniform(rng, (4, 5)))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'b': dtype float64"):
        anycl.gemm(A, anycl.Array(uniform(rng, (4, 5), np.float64), runtime=rt))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'b': shape"):
        anycl.gemm(A, anycl.Array(uniform(rng, (5, 5)), runtime=rt))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'c': shape"):
        anycl.gemm(A, B, anycl.Array(np.zeros((3, 4), np.float32), runtime=rt))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'c': is the same memory as 'a'"):
        anycl.gemm(A, anycl.Array(uniform(rng, (4, 4)), runtime=rt), A)
    square = uniform(rng, (4, 4))
    b_view, c_view = anycl.from_dlpack(square, runtime=rt), anycl.from_dlpack(square[1:], runtime=rt)
    if b_view.is_view:  # two imports of one tensor's memory (copies elsewhere: no overlap)
        with pytest.raises(anycl.InvalidArgumentError, match="argument 'c': is the same memory as 'b'"):
            anycl.gemm(A, b_view, c_view)
        np.testing.assert_array_equal(square, b_view.numpy())
    else:
        anycl.gemm(A, b_view, c_view)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'alpha'"):
        anycl.gemm(A, B, alpha=float("inf"))
    other = anycl.Runtime()
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'b': is on another runtime"):
        anycl.gemm(A, anycl.Array(uniform(rng, (4, 5)), runtime=other))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'runtime'"):
        anycl.gemm(A, B, runtime=other)
    X = anycl.Array(uniform(rng, (1, 2, 5, 5)), runtime=other)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'w': dtype float64"):
        anycl.conv2d(X, anycl.Array(uniform(rng, (3, 2, 3, 3), np.float64), runtime=other))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'w': rank 2"):
        anycl.conv2d(X, anycl.Array(uniform(rng, (3, 2)), runtime=other))
    W = anycl.Array(uniform(rng, (3, 2, 3, 3)), runtime=other)
    other.close()
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'runtime': the runtime is closed"):
        anycl.conv2d(X, W)
    C = anycl.Array(np.full((3, 5), 7.0, np.float32), runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'beta'"):
        anycl.gemm(A, B, C, beta=float("nan"))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'x'"):
        anycl.conv2d(np.zeros((1, 2, 5, 5), np.float32), W)
    np.testing.assert_array_equal(C.numpy(), np.full((3, 5), 7.0, np.float32))
