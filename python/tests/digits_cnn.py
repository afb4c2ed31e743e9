"""A small CNN on scikit-learn's 8x8 digits, trained with plain SGD: shared by test_digits.py and
tools/bench/python_bench.py. The split is export_digits.py's (RandomState(0) permutation, 1500
training images)."""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits


def digits(n_train=1500):
    d = load_digits()
    order = np.random.RandomState(0).permutation(len(d.target))
    x = torch.from_numpy((d.images[order] / 16.0).astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(d.target[order].astype(np.int64))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


def train(net, data, epochs, seed, batch=32, lr=0.05):
    """Per-epoch mean training loss; the batch order comes from `seed` alone."""
    (x, y), _ = data
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    order = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=order)
        total = 0.0
        for i in range(0, len(y), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(y))
    return losses


def accuracy(net, data):
    _, (x, y) = data
    with torch.no_grad():
        return (net(x).argmax(1) == y).double().mean().item()
