"""Shared fixtures: one runtime for the session (ANYCL_TEST_DEVICE, else the default device) and
PyTorch kept to two threads beside POCL's."""
import os

import numpy as np
import pytest

import anycl

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # the torch tests import it themselves and fail loudly
    pass


@pytest.fixture(scope="session")
def rt():
    runtime = anycl.Runtime(os.environ.get("ANYCL_TEST_DEVICE", ""))
    yield runtime
    runtime.close()


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def uniform(rng, shape, dtype=np.float32):
    """Values in [-1, 1), so a sum of k products is at most k in magnitude."""
    return rng.uniform(-1, 1, size=shape).astype(dtype)


def unflatten(flat, shapes):
    """The trainer's flat parameter vector as float64 torch tensors of `shapes` requiring grad."""
    import torch
    out, at = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(torch.tensor(flat[at:at + n], dtype=torch.float64).reshape(s).requires_grad_())
        at += n
    assert at == len(flat)
    return out
