"""PyTorch integration: convolution and linear layers whose forward and backward run on anycl.

    import anycl.torch
    model = anycl.torch.patch(model)    # nn.Conv2d -> anycl.torch.Conv2d, nn.Linear -> anycl.torch.Linear

Tensors must be on the CPU (anycl reads them in place through NumPy, no copy for contiguous
tensors). Convolution is float32; linear layers are float32 or float64. Each layer runs on its
`runtime` (None: anycl.default_runtime()).
"""
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import anycl

__all__ = ["conv2d", "linear", "Conv2d", "Linear", "patch"]


def _host(t: torch.Tensor, name: str) -> np.ndarray:
    if t.device.type != "cpu":
        raise anycl.InvalidArgumentError(1, f"anycl.torch: argument '{name}': tensor on {t.device}, expected a CPU tensor")
    return t.detach().numpy()


class _Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, stride, padding, dilation, groups, runtime):
        geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, runtime=runtime)
        y = anycl.conv2d(_host(x, "x"), _host(w, "w"), None if bias is None else _host(bias, "bias"), **geometry)
        ctx.save_for_backward(x, w)
        ctx.geometry, ctx.has_bias = geometry, bias is not None
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dy_host = _host(dy, "dy")
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = torch.from_numpy(anycl.conv2d_backward_data(dy_host, _host(w, "w"), tuple(x.shape), **ctx.geometry))
        if ctx.needs_input_grad[1] or (ctx.has_bias and ctx.needs_input_grad[2]):
            dw_host, db_host = anycl.conv2d_backward_weights(_host(x, "x"), dy_host, tuple(w.shape), bias_grad=True,
                                                             **ctx.geometry)
            dw = torch.from_numpy(dw_host) if ctx.needs_input_grad[1] else None
            db = torch.from_numpy(db_host) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None, None, None


class _LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, runtime):
        x2 = _host(x, "x").reshape(-1, x.shape[-1])
        if bias is None:
            y = anycl.gemm(x2, _host(w, "w"), trans_b=True, runtime=runtime)
        else:  # y = x w^T + bias, the bias broadcast into C and added with beta = 1
            y = np.broadcast_to(_host(bias, "bias"), (x2.shape[0], w.shape[0])).copy()
            anycl.gemm(x2, _host(w, "w"), y, beta=1.0, trans_b=True, runtime=runtime)
        ctx.save_for_backward(x, w)
        ctx.runtime, ctx.has_bias = runtime, bias is not None
        return torch.from_numpy(y).reshape(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dy2 = _host(dy, "dy").reshape(-1, w.shape[0])
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = torch.from_numpy(anycl.gemm(dy2, _host(w, "w"), runtime=ctx.runtime)).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            x2 = _host(x, "x").reshape(-1, x.shape[-1])
            dw = torch.from_numpy(anycl.gemm(dy2, x2, trans_a=True, runtime=ctx.runtime))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            db = torch.from_numpy(dy2.sum(axis=0))
        return dx, dw, db, None


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, stride=1, padding=0,
           dilation=1, groups: int = 1, runtime: Optional[anycl.Runtime] = None) -> torch.Tensor:
    """torch.nn.functional.conv2d on anycl (float32, CPU tensors), differentiable in x, weight and bias."""
    return _Conv2dFunction.apply(x, weight, bias, stride, padding, dilation, groups, runtime)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           runtime: Optional[anycl.Runtime] = None) -> torch.Tensor:
    """torch.nn.functional.linear on anycl (float32 or float64), differentiable in x, weight and bias."""
    return _LinearFunction.apply(x, weight, bias, runtime)


class Conv2d(nn.Conv2d):
    """nn.Conv2d whose forward and backward run on anycl (zero padding mode only)."""

    def __init__(self, *args, runtime: Optional[anycl.Runtime] = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.padding_mode != "zeros":
            raise anycl.InvalidArgumentError(1, f"anycl.torch.Conv2d: argument 'padding_mode': '{self.padding_mode}', only 'zeros'")
        self.runtime = runtime

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padding = self.padding
        if isinstance(padding, str):  # 'valid' or 'same' (stride 1): what PyTorch pads
            padding = self._reversed_padding_repeated_twice if padding == "same" else (0, 0)
        return conv2d(x, self.weight, self.bias, self.stride, tuple(padding), self.dilation, self.groups, self.runtime)


class Linear(nn.Linear):
    """nn.Linear whose forward and backward run on anycl."""

    def __init__(self, *args, runtime: Optional[anycl.Runtime] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.runtime = runtime

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias, self.runtime)


def _swap(old: nn.Module, runtime) -> nn.Module:
    if isinstance(old, (Conv2d, Linear)):
        return old
    if type(old) is nn.Conv2d and old.padding_mode == "zeros":
        new = Conv2d(old.in_channels, old.out_channels, old.kernel_size, stride=old.stride, padding=old.padding,
                     dilation=old.dilation, groups=old.groups, bias=old.bias is not None, runtime=runtime,
                     device="meta")
    elif type(old) is nn.Linear:
        new = Linear(old.in_features, old.out_features, bias=old.bias is not None, runtime=runtime, device="meta")
    else:
        return old
    new.weight, new.bias = old.weight, old.bias  # the same Parameters: optimizers keep working
    new.train(old.training)
    return new


def patch(model: nn.Module, runtime: Optional[anycl.Runtime] = None) -> nn.Module:
    """Replaces, in place, every nn.Conv2d (zero padding) and nn.Linear of `model` (and `model`
    itself if it is one) by the anycl layer sharing its parameters; returns the model."""
    for name, child in list(model.named_children()):
        swapped = _swap(child, runtime)
        if swapped is not child:
            setattr(model, name, swapped)
        else:
            patch(child, runtime)
    return _swap(model, runtime)
