#!/usr/bin/python3
"""PyTorch training steps of the digits models timed for `anycl-bench train`.

anycl-bench starts this script once per run and asks for one timed run of training steps at a
time, between its own runs of the same model and batch, so both see the same machine load. One
request a line on stdin, one answer a line on stdout, both JSON:

  request: {"model": "resnet" | "cnn", "batch", "steps", "warmup"}
  answer:  {"images_per_second", "seconds", "steps", "final_loss", "note"}, or {"supported": false, "note"}

The models are examples/digits_training.hpp's (small_resnet, small_cnn) on 1 x 8 x 8 images:
every convolution has a bias, as anycl's; batch norm with momentum 0.1 and eps 1e-5. A step is
what anycl's Trainer::step does: forward, softmax cross-entropy, backward, SGD with momentum 0.9
and lr 0.05, and the loss read back as a float (loss.item()). Images are uniform in [0, 1),
labels uniform in 0..9, drawn once per (model, batch); the model keeps training across requests.
Threads: --threads (default 2, the machine's cores).

Usage: /usr/bin/python3 tools/bench/train_torch.py [--threads N]     (normally run by anycl-bench)
"""
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before torch's OpenMP starts

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_child import serve  # noqa: E402


class Block(nn.Module):
    """ResNet's basic block: conv-BN-ReLU-conv-BN plus the shortcut, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Identity() if stride == 1 and cin == cout
                         else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def small_resnet():
    return nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


MODELS = {"resnet": small_resnet, "cnn": small_cnn}


class Run:
    """One model in training on one batch of fixed random data."""

    def __init__(self, model, batch):
        torch.manual_seed(1)
        self.model = MODELS[model]()
        self.model.train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.x = torch.rand(batch, 1, 8, 8)
        self.y = torch.randint(0, 10, (batch,))

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss.item()


RUNS = {}


def time_request(req):
    model, batch = req["model"], int(req["batch"])
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (resnet, cnn)")
    run = RUNS.get((model, batch))
    if run is None:
        run = RUNS[(model, batch)] = Run(model, batch)
    for _ in range(int(req.get("warmup", 0))):
        run.step()
    steps = int(req["steps"])
    loss = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = run.step()
    seconds = time.perf_counter() - t0
    note = f"pytorch {torch.__version__}, {torch.get_num_threads()} threads"
    return {"images_per_second": steps * batch / seconds, "seconds": seconds, "steps": steps,
            "final_loss": loss, "note": note}


def main():
    serve(__doc__.split("\n\n")[0], time_request)


if __name__ == "__main__":
    main()
