#!/usr/bin/python3
"""PyTorch's CPU convolutions timed the way anycl-bench times its opponents, for `anycl-bench net`.

anycl-bench starts this script once per run and asks for one layer and pass at a time, so PyTorch
is timed between anycl's and oneDNN's runs of the same layer, under the same machine load. One
request a line on stdin, one answer a line on stdout, both JSON:

  request: {"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "pass", "reps", "warmup"}
           pass: "forward" | "backward_data" | "backward_weights"
  answer:  {"median_ms", "first_call_ms", "runs", "note"}, or {"supported": false, "note"}

forward is torch.nn.functional.conv2d; backward_data and backward_weights are
torch.nn.grad.conv2d_input and conv2d_weight, the aten::convolution_backward calls autograd makes.
Tensors are float32 NCHW, uniform in [-1, 1); first_call_ms is the first call, then `warmup`
untimed calls, then the median of `reps` timed ones (wall clock; PyTorch's CPU ops are
synchronous). Threads: --threads (default 2, the machine's cores).

Usage: /usr/bin/python3 tools/bench/net_torch.py [--threads N]     (normally run by anycl-bench)
"""
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before torch's OpenMP starts

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_child import serve  # noqa: E402
from torch.nn import grad  # noqa: E402


def uniform(shape, generator):
    return torch.rand(shape, generator=generator) * 2 - 1


def pass_call(req):
    """The call of one pass on random tensors, and the implementation it runs."""
    n, c, h, w, k, r, s = (req[key] for key in ("n", "c", "h", "w", "k", "r", "s"))
    stride, pad = req["stride"], req["pad"]
    oh, ow = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    gen = torch.Generator().manual_seed(1)
    x, wei, dy = uniform((n, c, h, w), gen), uniform((k, c, r, s), gen), uniform((n, k, oh, ow), gen)
    if req["pass"] == "forward":
        return lambda: F.conv2d(x, wei, None, stride, pad), "torch.nn.functional.conv2d"
    if req["pass"] == "backward_data":
        return lambda: grad.conv2d_input(x.shape, wei, dy, stride, pad), "torch.nn.grad.conv2d_input"
    if req["pass"] == "backward_weights":
        return lambda: grad.conv2d_weight(x, wei.shape, dy, stride, pad), "torch.nn.grad.conv2d_weight"
    raise ValueError(f"unknown pass {req['pass']!r}")


def time_request(req):
    call, what = pass_call(req)
    t0 = time.perf_counter()
    call()
    first_ms = 1e3 * (time.perf_counter() - t0)
    for _ in range(req["warmup"]):
        call()
    runs = []
    for _ in range(req["reps"]):
        t0 = time.perf_counter()
        call()
        runs.append(1e3 * (time.perf_counter() - t0))
    note = f"pytorch {torch.__version__} {what}, {torch.get_num_threads()} threads"
    return {"median_ms": statistics.median(runs), "first_call_ms": first_ms, "runs": len(runs), "note": note}


def main():
    serve(__doc__.split("\n\n")[0], time_request)


if __name__ == "__main__":
    main()
