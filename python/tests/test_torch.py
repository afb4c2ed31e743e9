"""anycl.torch: autograd through anycl against PyTorch. GEMM has float64, so linear is checked
with torch.autograd.gradcheck in float64; convolution is float32, so its gradients are compared
with PyTorch's float64 gradients of the same float32 values (|error| <= 1e-4, sums of <= 300
products of values in [-1, 1])."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import anycl
import anycl.torch as at


def test_linear_gradcheck_float64(rt):
    torch.manual_seed(0)
    x = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 7, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: at.linear(x, w, b, runtime=rt), (x, w, b))
    assert torch.autograd.gradcheck(lambda x, w: at.linear(x, w, runtime=rt), (x, w))


def test_linear_batched_input_matches_torch(rt):
    torch.manual_seed(1)
    x = torch.randn(3, 2, 6, dtype=torch.float64, requires_grad=True)
    layer = at.Linear(6, 5, dtype=torch.float64, runtime=rt)
    ref = nn.Linear(6, 5, dtype=torch.float64)
    ref.load_state_dict(layer.state_dict())
    y, y_ref = layer(x), ref(x)
    assert y.shape == (3, 2, 5)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-12)
    (y * y).sum().backward()
    g = x.grad.clone()
    x.grad = None
    (y_ref * y_ref).sum().backward()
    torch.testing.assert_close(g, x.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 1, 1, 1), (2, (1, 0), 1, 2), (1, 2, 2, 1)])
def test_conv2d_gradients_float32(rt, stride, padding, dilation, groups):
    torch.manual_seed(2)
    x = torch.rand(2, 4, 9, 9) * 2 - 1
    w = torch.rand(6, 4 // groups, 3, 3) * 2 - 1
    b = torch.rand(6) * 2 - 1
    leaves = [t.clone().requires_grad_() for t in (x, w, b)]
    y = at.conv2d(*leaves, stride=stride, padding=padding, dilation=dilation, groups=groups, runtime=rt)
    dy = torch.rand(y.shape) * 2 - 1
    y.backward(dy)
    ref_leaves = [t.double().requires_grad_() for t in (x, w, b)]
    y_ref = F.conv2d(*ref_leaves, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y_ref.backward(dy.double())
    torch.testing.assert_close(y.double(), y_ref, rtol=0, atol=1e-4)
    for got, want in zip(leaves, ref_leaves):
        torch.testing.assert_close(got.grad.double(), want.grad, rtol=0, atol=1e-4)


def test_conv2d_module_same_padding(rt):
    torch.manual_seed(3)
    layer = at.Conv2d(3, 5, 3, padding="same", runtime=rt)
    ref = nn.Conv2d(3, 5, 3, padding="same")
    ref.load_state_dict(layer.state_dict())
    x = torch.randn(2, 3, 7, 7)
    torch.testing.assert_close(layer(x), ref(x), rtol=0, atol=1e-4)


def test_patch_swaps_in_place_and_keeps_parameters(rt):
    torch.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                          nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 10)))
    params = [id(p) for p in model.parameters()]
    x = torch.randn(3, 1, 6, 6)
    want = model(x)
    assert at.patch(model, runtime=rt) is model
    assert isinstance(model[0], at.Conv2d) and isinstance(model[2][1], at.Linear)
    assert [id(p) for p in model.parameters()] == params, "the optimizer's parameters stay the same objects"
    torch.testing.assert_close(model(x), want, rtol=0, atol=1e-4)
    assert isinstance(at.patch(nn.Linear(2, 2), runtime=rt), at.Linear)


def test_bad_tensors(rt):
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'x'"):
        at.conv2d(torch.randn(1, 2, 5, 5, dtype=torch.float64), torch.randn(3, 2, 3, 3, dtype=torch.float64),
                  runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'b'"):
        at.linear(torch.randn(4, 3), torch.randn(2, 5), runtime=rt)
    with pytest.raises(anycl.InvalidArgumentError, match="padding_mode"):
        at.Conv2d(2, 2, 3, padding_mode="reflect")
