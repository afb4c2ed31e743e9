"""The digits CNN trained twice from the same seed, in pure PyTorch and with anycl.torch.patch:
both reach >= 95% test accuracy, and their per-epoch mean losses differ by at most 1e-4 (the two
float32 paths sum in different orders; measured differences are near 1e-7)."""
import torch

import anycl.torch as at
from digits_cnn import accuracy, digits, model, train

EPOCHS = 12


def test_patched_cnn_trains_like_pytorch(rt):
    data = digits()
    plain = model(seed=5)
    patched = at.patch(model(seed=5), runtime=rt)
    assert sum(isinstance(m, (at.Conv2d, at.Linear)) for m in patched.modules()) == 3
    plain_losses = train(plain, data, EPOCHS, seed=6)
    patched_losses = train(patched, data, EPOCHS, seed=6)
    assert plain_losses[-1] < 0.5 * plain_losses[0], "training made progress"
    for epoch, (p, q) in enumerate(zip(plain_losses, patched_losses)):
        assert abs(p - q) <= 1e-4, f"epoch {epoch}: pure PyTorch {p}, anycl {q}"
    acc_plain, acc_patched = accuracy(plain, data), accuracy(patched, data)
    assert acc_plain >= 0.95 and acc_patched >= 0.95
    assert abs(acc_plain - acc_patched) <= 0.01
