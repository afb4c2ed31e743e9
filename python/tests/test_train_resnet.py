"""anycl.DataParallelTrainer on a residual model with batch norm, dropout, strided and grouped
convolutions, Adam and a cosine schedule, against a PyTorch float64 re-implementation started
from the trainer's own weights: after three steps the losses within 1e-4, every weight within
2e-6 (1e-4 for the conv biases before batch norm, whose gradient is float32 noise), the running
statistics within 1e-5, the evaluation-mode logits within 1e-4. The dropout masks are the ones
include/anycl/train.hpp documents (a hash of seed, step, layer node, sample and element),
recomputed here in NumPy. Also: learning_rate follows the schedules' formulas (relative 1e-6),
layer reprs, and bad layer specs raise anycl.InvalidArgumentError naming the layer."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import anycl
import conftest
from conftest import uniform

SEED, RATE, BATCH = 5, 0.25, 8
# Adam's eps is raised from 1e-8: a conv bias before batch norm has a zero gradient, which float32
# leaves as ~1e-9 noise that Adam with eps 1e-8 would turn into a full-size step.
ADAM = dict(optimizer="adam", lr=0.01, beta1=0.9, beta2=0.99, eps=1e-4, weight_decay=0.01,
            schedule="cosine", total_steps=4, min_lr=0.001)


def layers():
    inner = anycl.ResidualBlock(body=[anycl.ConvLayer(8, groups=2, relu=False), anycl.BatchNormLayer()])
    block = anycl.ResidualBlock(
        body=[anycl.ConvLayer(8, stride=2, relu=False), anycl.BatchNormLayer(relu=True), inner],
        shortcut=[anycl.ConvLayer(8, kernel=1, pad=0, stride=2, relu=False), anycl.BatchNormLayer()])
    return [anycl.ConvLayer(4, relu=False), anycl.BatchNormLayer(relu=True), block, anycl.DropoutLayer(RATE),
            anycl.AvgPoolLayer(2), anycl.GlobalAvgPoolLayer(), anycl.DenseLayer(10)]


DROPOUT_NODE = 10  # conv, bn, [conv, bn, [conv, bn, add], conv, bn, add], dropout: its node index
# (out, in/groups, k) of the convolutions in weights() order, then batch norms' channels, dense.
CONVS = [(4, 2, 3), (8, 4, 3), (8, 4, 3), (8, 4, 1)]


def unflatten(flat):
    shapes = []
    for (o, i, k), bn in zip(CONVS, [4, 8, 8, 8]):
        shapes += [(o, i, k, k), (o,), (bn,), (bn,)]
    return conftest.unflatten(flat, shapes + [(10, 8), (10,)])


M32 = np.uint64(0xFFFFFFFF)


def mix32(h):
    """The trainer's 32-bit finaliser (cl_kernels/nn_layers.cl), on uint64 arrays holding uint32s."""
    h = np.asarray(h, np.uint64) & M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x7FEB352D)) & M32
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x846CA68B)) & M32
    h ^= h >> np.uint64(16)
    return h


def dropout_scale(step, shape):
    """The trainer's inverted-dropout factor (0 or 1 / (1 - rate)) per element of a (n, ...) batch."""
    step_seed = mix32(mix32(SEED) ^ mix32((step + 0x9E3779B9) & 0xFFFFFFFF))
    layer_seed = mix32(step_seed ^ mix32(DROPOUT_NODE))
    n, per_sample = shape[0], int(np.prod(shape[1:]))
    samples = mix32(layer_seed ^ np.arange(n, dtype=np.uint64))[:, None]
    keep = mix32(samples ^ np.arange(per_sample, dtype=np.uint64)[None, :]) >= np.uint64(RATE * 2**32)
    return torch.from_numpy(keep.reshape(shape) / (1 - RATE))


class TorchModel:
    """The same model in float64 PyTorch; `stats` are the four batch norms' running mean and var."""

    def __init__(self, flat):
        self.p = unflatten(flat)
        self.stats = [torch.zeros(c, dtype=torch.float64) if j == 0 else torch.ones(c, dtype=torch.float64)
                      for c in [4, 8, 8, 8] for j in range(2)]

    def bn(self, x, k, training):
        g, b = self.p[4 * k + 2], self.p[4 * k + 3]
        return F.batch_norm(x, self.stats[2 * k], self.stats[2 * k + 1], g, b, training, 0.1, 1e-5)

    def conv(self, x, k, stride=1, groups=1):
        w, b = self.p[4 * k], self.p[4 * k + 1]
        return F.conv2d(x, w, b, stride=stride, padding=w.shape[-1] // 2, groups=groups)

    def __call__(self, x, training, step=0):
        h = F.relu(self.bn(self.conv(x, 0), 0, training))
        body = F.relu(self.bn(self.conv(h, 1, stride=2), 1, training))
        body = F.relu(self.bn(self.conv(body, 2, groups=2), 2, training) + body)
        h = F.relu(body + self.bn(self.conv(h, 3, stride=2), 3, training))
        if training:
            h = h * dropout_scale(step, h.shape)
        h = F.adaptive_avg_pool2d(F.avg_pool2d(h, 2), 1).flatten(1)
        return F.linear(h, self.p[-2], self.p[-1])


def test_residual_model_trains_like_pytorch(rt, rng):
    model = anycl.ModelSpec(2, 8, 8, layers())
    trainer = anycl.DataParallelTrainer(rt, model, batch=BATCH, seed=SEED, **ADAM)
    w0 = trainer.weights()
    ref = TorchModel(w0)
    opt = torch.optim.Adam(ref.p, lr=ADAM["lr"], betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["eps"],
                           weight_decay=ADAM["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=ADAM["total_steps"], eta_min=ADAM["min_lr"])
    for step in range(3):
        x = uniform(rng, (BATCH, 2, 8, 8))
        labels = rng.integers(0, 10, BATCH).astype(np.int32)
        loss = trainer.step(x, labels)
        opt.zero_grad()
        want = F.cross_entropy(ref(torch.from_numpy(x).double(), True, step), torch.from_numpy(labels).long())
        want.backward()
        opt.step()
        sched.step()
        assert abs(loss - want.item()) <= 1e-4
    got = trainer.weights()
    for k, (g, want_p) in enumerate(zip(unflatten(got), ref.p)):
        # A conv bias before batch norm has a zero gradient: only float32 noise, which Adam scales
        # by 1 / eps (measured 1.6e-5 after three steps; every other tensor within 6e-7).
        tol = 1e-4 if k < 4 * len(CONVS) and k % 4 == 1 else 2e-6
        np.testing.assert_allclose(g.detach().numpy(), want_p.detach().numpy(), rtol=0, atol=tol, err_msg=f"tensor {k}")
    assert np.abs(got - w0).max() > 1e-3  # the steps moved the weights
    np.testing.assert_allclose(trainer.running_stats(), np.concatenate([s.numpy() for s in ref.stats]),
                               rtol=0, atol=1e-5)
    x = uniform(rng, (5, 2, 8, 8))
    with torch.no_grad():
        want_logits = ref(torch.from_numpy(x).double(), False).numpy()
    np.testing.assert_allclose(trainer.logits(x), want_logits, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(trainer.predict(x), trainer.logits(x).argmax(1))
    assert trainer.steps == 3 and trainer.options["optimizer"] == "adam" and trainer.options["schedule"] == "cosine"


def dense_spec():
    return anycl.ModelSpec(1, 2, 2, [anycl.DenseLayer(3)])


@pytest.mark.parametrize("options,formula", [
    (dict(schedule="constant", lr=0.2), lambda t: 0.2),
    (dict(schedule="step", lr=0.2, step_size=2, gamma=0.5), lambda t: 0.2 * 0.5 ** (t // 2)),
    (dict(schedule="cosine", lr=0.2, total_steps=4, min_lr=0.02),
     lambda t: 0.02 + (0.2 - 0.02) * (1 + math.cos(math.pi * min(t, 4) / 4)) / 2),
])
def test_learning_rate_follows_schedule(rt, rng, options, formula):
    trainer = anycl.DataParallelTrainer(rt, dense_spec(), batch=2, optimizer="adamw", **options)
    x = uniform(rng, (2, 1, 2, 2))
    labels = np.array([0, 2], np.int32)
    for t in range(7):
        assert trainer.learning_rate == pytest.approx(formula(t), rel=1e-6, abs=1e-9), t
        trainer.step(x, labels)


def test_layer_reprs_and_fields():
    block = anycl.ResidualBlock(body=[anycl.ConvLayer(8, stride=2, groups=4, relu=False), anycl.BatchNormLayer()],
                                shortcut=[anycl.AvgPoolLayer(2)], relu=False)
    assert repr(block) == ("ResidualBlock(body=[ConvLayer(channels=8, kernel=3, pad=1, stride=2, groups=4, "
                           "relu=False), BatchNormLayer(momentum=0.1, eps=1e-05, relu=False)], "
                           "shortcut=[AvgPoolLayer(size=2)], relu=False)")
    for layer in [anycl.DropoutLayer(0.25), anycl.GlobalAvgPoolLayer(), anycl.MaxPoolLayer(3),
                  anycl.DenseLayer(4, relu=True), block]:
        again = eval(repr(layer), vars(anycl))
        assert type(again) is type(layer) and repr(again) == repr(layer)
    assert anycl.DropoutLayer(0.1).rate == 0.1 and anycl.BatchNormLayer(eps=1e-3).eps == 1e-3
    assert isinstance(block.body[0], anycl.ConvLayer) and block.body[0].stride == 2 and block.shortcut[0].size == 2
    spec = anycl.ModelSpec(3, 8, 8, [block, anycl.DenseLayer(2)])
    assert isinstance(spec.layers[0], anycl.ResidualBlock) and spec.layers[0].body[1].momentum == 0.1


def bad(rt, layer_list, match):
    with pytest.raises(anycl.InvalidArgumentError, match=match):
        anycl.DataParallelTrainer(rt, anycl.ModelSpec(4, 8, 8, layer_list))


def test_bad_layer_specs_name_the_layer(rt):
    dense = anycl.DenseLayer(2)
    bad(rt, [anycl.ResidualBlock(body=[anycl.ConvLayer(6, groups=4)]), dense],
        r"layer 0 \(residual block\) body layer 0 \(conv\): groups 4 must divide")
    bad(rt, [anycl.ConvLayer(4), anycl.DropoutLayer(1.0), dense], r"layer 1 \(dropout\) needs a rate")
    bad(rt, [anycl.BatchNormLayer(eps=0.0), dense], r"layer 0 \(batch norm\) needs momentum")
    bad(rt, [anycl.ResidualBlock(body=[anycl.ConvLayer(4, stride=2)]), dense],
        r"layer 0 \(residual block\): the body ends in 4x4x4, the shortcut in 4x8x8")
    bad(rt, [anycl.ResidualBlock(body=[]), dense], r"layer 0 \(residual block\) has an empty body")
    bad(rt, [anycl.AvgPoolLayer(9), dense], r"layer 0 \(avg-pool\): window 9")
    bad(rt, [anycl.ResidualBlock(body=[anycl.ResidualBlock(body=[anycl.ConvLayer(4, stride=0)])]), dense],
        r"layer 0 \(residual block\) body layer 0 \(residual block\) body layer 0 \(conv\) needs")
    with pytest.raises(anycl.InvalidArgumentError, match=r"argument 'body': body\[1\]: got str, expected a ConvLayer"):
        anycl.ResidualBlock(body=[anycl.ConvLayer(4), "relu"])
    with pytest.raises(anycl.InvalidArgumentError, match=r"argument 'layers': layers\[0\]: got int"):
        anycl.ModelSpec(4, 8, 8, [3, dense])
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'stride'"):
        anycl.ConvLayer(4, stride=-1)
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'rate'"):
        anycl.DropoutLayer(float("nan"))


def test_optimizer_options(rt):
    defaults = anycl.DataParallelTrainer.defaults
    assert defaults["optimizer"] == "sgd" and defaults["schedule"] == "constant" and defaults["total_steps"] == 1
    assert defaults["beta2"] == 0.999 and defaults["eps"] == 1e-8 and defaults["lr"] == 0.05
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'optimizer': 'rmsprop' is none of sgd, adam, adamw"):
        anycl.DataParallelTrainer(rt, dense_spec(), optimizer="rmsprop")
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'schedule'"):
        anycl.DataParallelTrainer(rt, dense_spec(), schedule="linear")
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'weight_decay'"):
        anycl.DataParallelTrainer(rt, dense_spec(), weight_decay=float("nan"))
    with pytest.raises(anycl.InvalidArgumentError, match="argument 'total_steps': expected an int"):
        anycl.DataParallelTrainer(rt, dense_spec(), total_steps=2.5)
