"""anycl.MpiProcessGroup: two MPI ranks (mpirun -np 2 on this file) train one model, each on
its half of every batch; both end with bitwise the same weights, equal to one process's on the
whole batches within 1e-5 (the same sums, added in another order)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import anycl

if not hasattr(anycl, "MpiProcessGroup"):
    pytest.skip("this anycl was built without MPI (ANYCL_WITH_MPI)", allow_module_level=True)

RANKS, PER_RANK, STEPS = 2, 8, 6


def spec():
    return anycl.ModelSpec(1, 8, 8, [anycl.ConvLayer(4, kernel=3, pad=1), anycl.MaxPoolLayer(2),
                                     anycl.DenseLayer(12, relu=True), anycl.DenseLayer(10)])


def data():
    rng = np.random.default_rng(11)
    n = RANKS * PER_RANK * STEPS
    return rng.uniform(-1, 1, (n, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, n).astype(np.int32)


def train(rt, batches, processes=None):
    options = dict(lr=0.1, momentum=0.5, seed=3)
    if processes is not None:
        options["processes"] = processes
    t = anycl.DataParallelTrainer(rt, spec(), batch=RANKS * PER_RANK, **options)
    for x, labels in batches:
        t.step(x, labels)
    return t


def rank_main(out_dir):
    """One rank: its half of every global batch of RANKS * PER_RANK samples."""
    group = anycl.MpiProcessGroup()
    rt = anycl.Runtime(os.environ.get("ANYCL_TEST_DEVICE", ""))
    x, labels = data()
    glob = RANKS * PER_RANK
    mine = [(x[s * glob + group.rank * PER_RANK:][:PER_RANK], labels[s * glob + group.rank * PER_RANK:][:PER_RANK])
            for s in range(STEPS)]
    t = train(rt, mine, processes=group)
    assert t.steps == STEPS and t.options["processes"] == RANKS
    np.save(os.path.join(out_dir, f"rank{group.rank}.npy"), t.weights())


def test_two_ranks_match_one_process(rt, tmp_path):
    mpirun = shutil.which("mpirun")
    assert mpirun, "mpirun (openmpi-bin) is needed beside libanycl_mpi"
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    subprocess.run([mpirun, *root, "--oversubscribe", "-np", str(RANKS), sys.executable, os.path.abspath(__file__),
                    str(tmp_path)], check=True, timeout=240)
    w0, w1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    np.testing.assert_array_equal(w0, w1)
    x, labels = data()
    glob = RANKS * PER_RANK
    one = train(rt, [(x[s * glob:][:glob], labels[s * glob:][:glob]) for s in range(STEPS)])
    np.testing.assert_allclose(w0, one.weights(), rtol=0, atol=1e-5)
    assert np.abs(w0 - train(rt, []).weights()).max() > 1e-3, "the steps moved the weights"


if __name__ == "__main__":
    rank_main(sys.argv[1])
