"""anycl.conv2d and its backward passes against PyTorch in float64 (the float32 inputs widened).
Tolerance: |error| <= 16 * n * eps(float32) with n the length of each output's sum (operands in
[-1, 1])."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

import anycl
from conftest import uniform

CASES = [  # x shape, w shape, stride, padding (as given to anycl), dilation, groups
    ((2, 3, 9, 11), (4, 3, 3, 3), 1, 1, 1, 1),
    ((1, 4, 12, 10), (6, 2, 3, 3), (2, 1), (1, 2), 1, 2),
    ((2, 2, 13, 13), (3, 2, 3, 2), 2, 0, (2, 1), 1),
    ((1, 8, 7, 7), (5, 8, 1, 1), 1, 0, 1, 1),
    ((3, 6, 10, 10), (6, 1, 5, 5), 1, 2, 1, 6),
]


def torch_padding(x, padding):
    """x padded as anycl reads `padding` (int, (h, w) or (left, right, top, bottom)), and the
    padding left for F.conv2d."""
    if isinstance(padding, tuple) and len(padding) == 4:
        return F.pad(x, padding), 0
    return x, padding


def tol(reduction):
    return 16 * reduction * np.finfo(np.float32).eps


def as64(a):
    return torch.from_numpy(np.asarray(a, np.float64))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("relu", [False, True])
def test_forward(rt, rng, case, relu):
    xs, ws, stride, padding, dilation, groups = case
    x, w, bias = uniform(rng, xs), uniform(rng, ws), uniform(rng, ws[:1])
    y = anycl.conv2d(x, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups, relu=relu,
                     runtime=rt)
    xp, pad = torch_padding(as64(x), padding)
    want = F.conv2d(xp, as64(w), as64(bias), stride, pad, dilation, groups)
    if relu:
        want = want.clamp_min(0)
    np.testing.assert_allclose(y, want.numpy(), rtol=0, atol=tol(ws[1] * ws[2] * ws[3]))


def test_four_value_padding_is_left_right_top_bottom(rt, rng):
    x, w = uniform(rng, (1, 2, 6, 7)), uniform(rng, (3, 2, 3, 3))
    padding = (0, 2, 1, 3)
    y = anycl.conv2d(x, w, padding=padding, runtime=rt)
    want = F.conv2d(F.pad(as64(x), padding), as64(w))
    assert y.shape == tuple(want.shape)
    np.testing.assert_allclose(y, want.numpy(), rtol=0, atol=tol(18))


@pytest.mark.parametrize("algo,ws", [("im2col", (4, 3, 3, 3)), ("direct", (4, 3, 3, 3)),
                                     ("winograd", (4, 3, 3, 3)), ("gemm1x1", (4, 3, 1, 1)),
                                     ("implicit_gemm", (4, 3, 7, 7))])
def test_forced_algorithms(rt, rng, algo, ws):
    x, w = uniform(rng, (2, 3, 10, 10)), uniform(rng, ws)
    pad = ws[2] // 2
    y = anycl.conv2d(x, w, padding=pad, algo=algo, runtime=rt)
    want = F.conv2d(as64(x), as64(w), padding=pad)
    # Winograd's transforms round more; 7x7 sums 147 terms.
    np.testing.assert_allclose(y, want.numpy(), rtol=0, atol=tol(max(27, 3 * ws[2] * ws[3])) * 4)


def output_gradient(rng, case):
    """A random dy of the shape the convolution `case` produces."""
    xs, ws, stride, padding, dilation, groups = case
    y_shape = F.conv2d(torch.zeros(xs), torch.zeros(ws), None, stride, padding, dilation, groups).shape
    return uniform(rng, tuple(y_shape))


@pytest.mark.parametrize("case", CASES)
def test_backward_data(rt, rng, case):
    xs, ws, stride, padding, dilation, groups = case
    w, dy = uniform(rng, ws), output_gradient(rng, case)
    dx = anycl.conv2d_backward_data(dy, w, xs, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                    runtime=rt)
    want = conv2d_input(xs, as64(w), as64(dy), stride, padding, dilation, groups)
    np.testing.assert_allclose(dx, want.numpy(), rtol=0, atol=tol(ws[0] * ws[2] * ws[3]))


@pytest.mark.parametrize("case", CASES)
def test_backward_weights(rt, rng, case):
    xs, ws, stride, padding, dilation, groups = case
    x, dy = uniform(rng, xs), output_gradient(rng, case)
    dw, db = anycl.conv2d_backward_weights(x, dy, ws, bias_grad=True, stride=stride, padding=padding,
                                           dilation=dilation, groups=groups, runtime=rt)
    want = conv2d_weight(as64(x), ws, as64(dy), stride, padding, dilation, groups)
    reduction = dy.shape[0] * dy.shape[2] * dy.shape[3]
    np.testing.assert_allclose(dw, want.numpy(), rtol=0, atol=tol(reduction))
    np.testing.assert_allclose(db, as64(dy).sum((0, 2, 3)).numpy(), rtol=0, atol=tol(reduction))
    only_dw = anycl.conv2d_backward_weights(x, dy, ws, stride=stride, padding=padding, dilation=dilation,
                                            groups=groups, runtime=rt)
    np.testing.assert_allclose(only_dw, dw, rtol=0, atol=tol(reduction))


def test_non_contiguous_input_is_copied(rt, rng):
    x = uniform(rng, (2, 3, 8, 16))[:, :, :, ::2]
    w = np.asfortranarray(uniform(rng, (4, 3, 3, 3)))
    y = anycl.conv2d(x, w, padding=1, runtime=rt)
    np.testing.assert_allclose(y, F.conv2d(as64(x), as64(w), padding=1).numpy(), rtol=0, atol=tol(27))
