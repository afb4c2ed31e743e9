"""Bad arguments to anycl.gemm: an anycl.InvalidArgumentError naming the argument, with the
status, and the output left as it was."""
import numpy as np
import pytest

import anycl
from conftest import uniform


@pytest.fixture
def operands(rng):
    return uniform(rng, (6, 4)), uniform(rng, (4, 5)), uniform(rng, (6, 5))


def expect_invalid(rt, c, argument, *args, **kwargs):
    before = None if c is None else c.copy()
    with pytest.raises(anycl.InvalidArgumentError) as info:
        anycl.gemm(*args, runtime=rt, **kwargs)
    assert info.value.status == 1 and info.value.message == str(info.value)
    assert f"argument '{argument}'" in str(info.value), str(info.value)
    if c is not None:
        assert np.array_equal(c, before, equal_nan=True), "nothing written"
    return str(info.value)


def test_wrong_dtype(rt, operands):
    a, b, c = operands
    assert "int64" in expect_invalid(rt, c, "a", a.astype(np.int64), b, c)
    assert "float16" in expect_invalid(rt, c, "b", a, b.astype(np.float16), c)
    expect_invalid(rt, c, "b", a, b.astype(np.float64), c)
    expect_invalid(rt, c, "c", a, b, c.astype(np.float64))
    expect_invalid(rt, c, "a", a.astype(">f4" if np.little_endian else "<f4"), b, c)  # byte-swapped


def test_not_an_array(rt, operands):
    a, b, c = operands
    assert "list" in expect_invalid(rt, c, "a", a.tolist(), b, c)


def test_wrong_rank(rt, operands):
    a, b, c = operands
    expect_invalid(rt, c, "a", a.ravel(), b, c)
    expect_invalid(rt, c, "b", a, b[None, None], c)


def test_mismatched_shapes(rt, operands):
    a, b, c = operands
    expect_invalid(rt, c, "b", a, b[:3], c)
    expect_invalid(rt, c, "c", a, b, c[:, :4])
    expect_invalid(rt, None, "b", np.zeros((2, 3, 4), np.float32), np.zeros((3, 4, 5), np.float32))


def test_read_only_output(rt, operands):
    a, b, c = operands
    c.flags.writeable = False
    expect_invalid(rt, c, "c", a, b, c)


@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_scalars(rt, operands, name, value):
    a, b, c = operands
    expect_invalid(rt, c, name, a, b, c, **{name: value})


def test_beta_without_c(rt, operands):
    a, b, _ = operands
    expect_invalid(rt, None, "beta", a, b, beta=1.0)


def test_closed_runtime(operands):
    a, b, c = operands
    closed = anycl.Runtime()
    closed.close()
    assert closed.closed
    expect_invalid(closed, c, "runtime", a, b, c)


def test_runtime_of_wrong_type(operands):
    a, b, c = operands
    expect_invalid("cpu", c, "runtime", a, b, c)


def test_no_device():
    with pytest.raises(anycl.NoDeviceError) as info:
        anycl.Runtime("no-such-device-anywhere")
    assert info.value.status == 2 and "no-such-device-anywhere" in str(info.value)
