"""anycl.Array and DLPack: contents survive the round trip; on a device that shares host memory
the export is the device memory itself (writes through it are seen by the array)."""
import numpy as np
import pytest
import torch

import anycl
from conftest import uniform


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_numpy_and_torch(rt, rng, dtype):
    host = uniform(rng, (3, 4, 5), dtype)
    arr = anycl.Array(host, runtime=rt)
    assert arr.shape == (3, 4, 5) and arr.dtype == dtype and arr.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(arr.numpy(), host)
    np.testing.assert_array_equal(np.from_dlpack(arr), host)
    np.testing.assert_array_equal(torch.from_dlpack(arr).numpy(), host)


def test_zero_copy_export_shares_the_buffer(rt, rng):
    arr = anycl.Array(uniform(rng, (16,)), runtime=rt)
    assert arr.zero_copy == rt.devices[arr.device].unified_memory
    view = torch.from_dlpack(arr)  # NumPy imports DLPack read-only; PyTorch writable
    view[3] = 42.0
    del view  # unmaps
    assert (arr.numpy()[3] == 42.0) == arr.zero_copy, "a mapped export writes the device memory, a copy does not"


def test_export_outlives_array_and_runtime(rng):
    runtime = anycl.Runtime()
    host = uniform(rng, (64,))
    arr = anycl.Array(host, runtime=runtime)
    view = torch.from_dlpack(arr)
    del arr
    runtime.close()
    np.testing.assert_array_equal(view.numpy(), host)



def test_bad_arrays(rt):
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'data'"):
        anycl.Array(np.arange(4), runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'device'"):
        anycl.Array(np.zeros(4, np.float32), runtime=rt, device=99)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'tensor'"):
        anycl.from_dlpack([1.0, 2.0], runtime=rt)
    closed = anycl.Runtime()
    arr = anycl.Array(np.zeros(4, np.float32), runtime=closed)
    closed.close()
    with pytest.raises(anycl.InvalidArgumentError, match="closed"):
        arr.numpy()
