"""anycl.DataParallelTrainer: its loss and gradient equal PyTorch's (float64) for the same
weights (|error| <= 1e-4), a step is SGD with momentum, and bad input raises naming the argument."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import anycl
import conftest
from conftest import uniform


def spec():
    return anycl.ModelSpec(1, 8, 8, [anycl.ConvLayer(4, kernel=3, pad=1), anycl.MaxPoolLayer(2),
                                     anycl.DenseLayer(12, relu=True), anycl.DenseLayer(10)])


def torch_loss(params, x, labels):
    cw, cb, d1w, d1b, d2w, d2b = params
    h = F.max_pool2d(F.relu(F.conv2d(x, cw, cb, padding=1)), 2).flatten(1)
    return F.cross_entropy(F.linear(F.relu(F.linear(h, d1w, d1b)), d2w, d2b), labels)


def unflatten(flat):
    return conftest.unflatten(flat, [(4, 1, 3, 3), (4,), (12, 64), (12,), (10, 12), (10,)])


@pytest.fixture
def trainer(rt):
    return anycl.DataParallelTrainer(rt, spec(), batch=16, lr=0.1, momentum=0.5, seed=3)


def check_gradient(trainer, rng):
    """The trainer's loss and gradient on a random batch of 16 against PyTorch's (float64)."""
    x = uniform(rng, (16, 1, 8, 8))
    labels = rng.integers(0, 10, 16)
    loss, grad = trainer.gradient(x, labels)
    params = unflatten(trainer.weights())
    want = torch_loss(params, torch.from_numpy(x).double(), torch.from_numpy(labels))
    want.backward()
    assert abs(loss - want.item()) <= 1e-4
    np.testing.assert_allclose(grad, np.concatenate([p.grad.numpy().ravel() for p in params]), rtol=0, atol=1e-4)
    return grad


def test_gradient_matches_torch(trainer, rng):
    grad = check_gradient(trainer, rng)
    assert trainer.parameter_count == grad.size and trainer.classes == 10 and trainer.replicas >= 1


def test_step_is_sgd(trainer, rng):
    x = uniform(rng, (16, 1, 8, 8))
    labels = rng.integers(0, 10, 16).astype(np.int32)
    w0 = trainer.weights()
    _, grad = trainer.gradient(x, labels)
    trainer.step(x, labels)
    np.testing.assert_allclose(trainer.weights(), w0 - 0.1 * grad, rtol=0, atol=1e-5)
    trainer.set_weights(w0)
    np.testing.assert_array_equal(trainer.weights(), w0)
    assert trainer.logits(x).shape == (16, 10)
    np.testing.assert_array_equal(trainer.predict(x), trainer.logits(x).argmax(1))


def test_bad_input(rt, trainer, rng):
    x = uniform(rng, (4, 1, 8, 8))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'x'"):
        trainer.step(x[:, :, :7], np.zeros(4, np.int32))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'labels'"):
        trainer.step(x, np.array([0, 1, 2, 10]))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'labels'"):
        trainer.step(x, np.zeros(3, np.int32))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'weights'"):
        trainer.set_weights(np.zeros(5, np.float32))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'lr'"):
        anycl.DataParallelTrainer(rt, spec(), lr=float("nan"))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'allreduce'"):
        anycl.DataParallelTrainer(rt, spec(), allreduce="ring")
    with pytest.raises(anycl.InvalidArgumentError):
        anycl.DataParallelTrainer(rt, anycl.ModelSpec(1, 8, 8, [anycl.DenseLayer(10, relu=True)]))


def test_checkpoint_resumes_bitwise(rt, rng, tmp_path):
    x = uniform(rng, (16, 1, 8, 8))
    labels = rng.integers(0, 10, 16).astype(np.int32)
    a = anycl.DataParallelTrainer(rt, spec(), batch=16, lr=0.1, momentum=0.5, seed=3)
    a.step(x, labels)
    path = str(tmp_path / "ckpt.bin")
    a.save_checkpoint(path)
    a.step(x[::-1].copy(), labels[::-1].copy())
    b = anycl.DataParallelTrainer(rt, spec(), batch=16, lr=0.1, momentum=0.5, seed=9)
    b.load_checkpoint(path)
    assert b.steps == 1 and a.steps == 2
    b.step(x[::-1].copy(), labels[::-1].copy())  # momentum restored too: the same step as a's
    np.testing.assert_array_equal(b.weights(), a.weights())
    other_lr = anycl.DataParallelTrainer(rt, spec(), batch=16, lr=0.2, momentum=0.5, seed=3)
    w = other_lr.weights()
    with pytest.raises(anycl.InvalidArgumentError, match="ckpt.bin"):
        other_lr.load_checkpoint(path)
    np.testing.assert_array_equal(other_lr.weights(), w)
    with pytest.raises(anycl.InvalidArgumentError, match="missing"):
        a.load_checkpoint(str(tmp_path / "missing"))


def test_options(rt):
    defaults = anycl.DataParallelTrainer.defaults
    assert set(defaults) == {"batch", "lr", "momentum", "seed", "allreduce", "processes", "optimizer", "weight_decay",
                             "beta1", "beta2", "eps", "schedule", "step_size", "gamma", "total_steps", "min_lr",
                             "stages", "micro_batches", "bucket_bytes"}
    assert defaults["batch"] == 32 and defaults["processes"] is None
    t = anycl.DataParallelTrainer(rt, spec(), batch=8, seed=4)
    assert t.options == dict(defaults, batch=8, seed=4)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'batchsize': is not an option"):
        anycl.DataParallelTrainer(rt, spec(), batchsize=8)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'batch': expected an int"):
        anycl.DataParallelTrainer(rt, spec(), batch=8.0)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'momentum'"):
        anycl.DataParallelTrainer(rt, spec(), momentum=float("inf"))
    with pytest.raises(anycl.Error, match="argument 'processes'"):
        anycl.DataParallelTrainer(rt, spec(), processes=3)


def test_stages_match_torch(rng):
    """2 stages on cpu/2 in 2 micro-batches: the same loss and gradient as PyTorch (float64), each
    device holding only its stage's parameters."""
    rt2 = anycl.Runtime("cpu/2")
    t = anycl.Trainer(rt2, spec(), batch=16, seed=3, stages=2, micro_batches=2)
    check_gradient(t, rng)
    bounds = t.stage_bounds
    assert len(bounds) == 3 and bounds[0] == 0 and bounds[-1] == 4
    layer_params = [4 * 9 + 4, 0, 12 * 64 + 12, 10 * 12 + 10]
    for d in range(2):
        assert t.parameter_bytes(d) == 4 * sum(layer_params[bounds[d]:bounds[d + 1]])
    with pytest.raises(anycl.InvalidArgumentError, match="stages 3"):
        anycl.Trainer(rt2, spec(), stages=3)
    with pytest.raises(anycl.InvalidArgumentError, match="micro_batches is 0"):
        anycl.Trainer(rt2, spec(), stages=2, micro_batches=0)
