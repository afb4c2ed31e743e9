"""Bad arguments to the convolution functions: anycl.InvalidArgumentError naming the argument."""
import numpy as np
import pytest

import anycl
from conftest import uniform


@pytest.fixture
def xw(rng):
    return uniform(rng, (2, 4, 8, 8)), uniform(rng, (6, 4, 3, 3))


def expect(argument, fn, *args, **kwargs):
    with pytest.raises(anycl.InvalidArgumentError) as info:
        fn(*args, **kwargs)
    assert f"argument '{argument}'" in str(info.value), str(info.value)
    assert info.value.status == 1


def test_forward_bad_arguments(rt, xw):
    x, w = xw
    expect("x", anycl.conv2d, x.astype(np.float64), w, runtime=rt)
    expect("w", anycl.conv2d, x, w.astype(np.int32), runtime=rt)
    expect("x", anycl.conv2d, x[0], w, runtime=rt)
    expect("w", anycl.conv2d, x, w[:, :3], runtime=rt)
    expect("bias", anycl.conv2d, x, w, np.zeros(5, np.float32), runtime=rt)
    expect("stride", anycl.conv2d, x, w, stride=0, runtime=rt)
    expect("stride", anycl.conv2d, x, w, stride=(1, 2, 3), runtime=rt)
    expect("padding", anycl.conv2d, x, w, padding=(1, 1, 1), runtime=rt)
    expect("padding", anycl.conv2d, x, w, padding=-1, runtime=rt)
    expect("dilation", anycl.conv2d, x, w, dilation=1.5, runtime=rt)
    expect("groups", anycl.conv2d, x, w, groups=3, runtime=rt)
    expect("algo", anycl.conv2d, x, w, algo="fft", runtime=rt)


def test_kernel_larger_than_input(rt, rng):
    with pytest.raises(anycl.InvalidArgumentError) as info:
        anycl.conv2d(uniform(rng, (1, 1, 2, 2)), uniform(rng, (1, 1, 5, 5)), runtime=rt)
    assert "anycl.conv2d" in str(info.value)


def test_backward_bad_arguments(rt, xw):
    x, w = xw
    dy = np.zeros((2, 6, 6, 6), np.float32)
    expect("dy", anycl.conv2d_backward_data, dy[:, :5], w, x.shape, runtime=rt)
    expect("x_shape", anycl.conv2d_backward_data, dy, w, (2, 4, 8), runtime=rt)
    expect("dy", anycl.conv2d_backward_weights, x, dy[..., :5], w.shape, runtime=rt)
    expect("w_shape", anycl.conv2d_backward_weights, x, dy, (6, 4, -3, 3), runtime=rt)


def test_closed_runtime(xw):
    x, w = xw
    closed = anycl.Runtime()
    closed.close()
    expect("runtime", anycl.conv2d, x, w, runtime=closed)
