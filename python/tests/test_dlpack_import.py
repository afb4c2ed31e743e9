"""anycl.from_dlpack: on a device that shares host memory a compact CPU tensor is imported
without a copy (writes through either side are seen by the other) and kept alive by the Array;
elsewhere, and for strided tensors, the data is copied once (writes are not shared)."""
import gc
import weakref

import numpy as np
import pytest
import torch

import anycl
from conftest import uniform


def shared(rt, arr):
    return rt.devices[arr.device].unified_memory


# NumPy arrays of several sizes (large ones sit 16 bytes past a page, small ones wherever the
# allocator put them) and offsets into them, PyTorch tensors (64-byte aligned).
PRODUCERS = {
    "numpy_small_f32": lambda rng: uniform(rng, (7,)),
    "numpy_large_f32": lambda rng: uniform(rng, (300, 301)),
    "numpy_offset_f32": lambda rng: uniform(rng, (4099,))[3:],
    "numpy_f64": lambda rng: uniform(rng, (5, 6, 7), np.float64),
    "numpy_offset_f64": lambda rng: uniform(rng, (1030,), np.float64)[1:],
    "torch_f32": lambda rng: torch.from_numpy(uniform(rng, (3, 4, 5))).clone(),
    "torch_f64": lambda rng: torch.from_numpy(uniform(rng, (64, 9), np.float64)).clone(),
}


@pytest.mark.parametrize("name", list(PRODUCERS))
def test_writes_are_shared_both_ways(rt, rng, name):
    host = PRODUCERS[name](rng)
    flat = host.reshape(-1) if isinstance(host, np.ndarray) else host.view(-1)
    before = np.array(flat, copy=True)
    arr = anycl.from_dlpack(host, runtime=rt)
    assert arr.shape == tuple(host.shape) and arr.is_view == shared(rt, arr)
    np.testing.assert_array_equal(arr.numpy().reshape(-1), before)
    # Producer -> Array: the producer's write is what the device holds (or, copied, is not).
    flat[-1] = 42.0
    assert (arr.numpy().reshape(-1)[-1] == 42.0) == arr.is_view
    # Array -> producer: a device write (a GEMM into the Array) lands in the producer's memory.
    n = int(np.prod(host.shape))
    ones = anycl.Array(np.ones((1, 1), arr.dtype), runtime=rt)
    src = anycl.Array(np.full((1, n), 3.0, arr.dtype), runtime=rt)
    target = anycl.from_dlpack(flat.reshape(1, n) if isinstance(flat, np.ndarray) else flat.view(1, n), runtime=rt)
    anycl.gemm(ones, src, target, runtime=rt)
    assert np.all(np.asarray(flat) == 3.0) == target.is_view
    assert target.is_view == shared(rt, target)


def test_the_array_keeps_the_producer_alive(rt):
    host = np.arange(1000, dtype=np.float32)
    alive = weakref.ref(host)
    arr = anycl.from_dlpack(host, runtime=rt)
    del host
    gc.collect()
    assert (alive() is not None) == arr.is_view, "a view holds the producer, a copy does not"
    np.testing.assert_array_equal(arr.numpy(), np.arange(1000, dtype=np.float32))
    exported = torch.from_dlpack(arr)  # an export of a view holds the producer too
    del arr
    gc.collect()
    np.testing.assert_array_equal(exported.numpy(), np.arange(1000, dtype=np.float32))
    del exported
    gc.collect()
    assert alive() is None, "the producer is released with the last Array or export"


def test_strided_tensors_are_copied_once(rt, rng):
    strided = uniform(rng, (8, 8))[::2, 1::3]
    arr = anycl.from_dlpack(strided, runtime=rt)
    assert not arr.is_view
    np.testing.assert_array_equal(arr.numpy(), strided)
    t = torch.rand(5, 4, dtype=torch.float64).t()
    np.testing.assert_array_equal(anycl.from_dlpack(t, runtime=rt).numpy(), t.numpy())


def test_bad_tensors(rt):
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'tensor'"):
        anycl.from_dlpack([1.0, 2.0], runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'tensor'.*float32 or float64"):
        anycl.from_dlpack(np.arange(4), runtime=rt)
    read_only = np.zeros(4, np.float32)
    read_only.flags.writeable = False
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'tensor'"):
        anycl.from_dlpack(read_only, runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'device'"):
        anycl.from_dlpack(np.zeros(4, np.float32), runtime=rt, device=99)
    closed = anycl.Runtime()
    closed.close()
    with pytest.raises(anycl.InvalidArgumentError, match="closed"):
        anycl.from_dlpack(np.zeros(4, np.float32), runtime=closed)
