"""Initialisation: each distribution's range and spread match its formula, and layers start as
PyTorch's do (kaiming_uniform_(a=sqrt(5)) weights, ±1/sqrt(fan_in) biases, fan_in of a
transposed conv from weight dim 1)."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn import init


@pytest.fixture(autouse=True)
def seeded():
    mg.manual_seed(0)


# Tolerances are five standard errors of the sample statistic, so a wrong formula (a factor of
# sqrt(2) or sqrt(3) off) fails while sampling noise does not.
def assert_uniform(values, bound):
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > (1 - 10 / n) * bound  # the whole range is used, not a narrower one
    assert abs(values.mean()) < 5 * bound / math.sqrt(3 * n)
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=5 * math.sqrt(0.2 / n))


def assert_normal(values, std, mean=0.0):
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    assert values.mean() == pytest.approx(mean, abs=5 * std / math.sqrt(n))
    assert values.std() == pytest.approx(std, rel=5 * math.sqrt(0.5 / n))
    assert np.abs(values - mean).max() > 3 * std  # tails, so not a uniform of the same std


@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("selu", None, 0.75)])
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_linear_default_init():
    layer = nn.Linear(500, 300)
    assert_uniform(layer.weight.numpy(), 1 / math.sqrt(500))
    bias = layer.bias.numpy()
    assert np.abs(bias).max() <= 1 / math.sqrt(500) and bias.std() > 0.4 / math.sqrt(500)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(16, 64, 3), 16 * 9),
    (lambda: nn.Conv2d(16, 64, 3, groups=4), 4 * 9),
    (lambda: nn.ConvTranspose2d(16, 64, 3), 64 * 9),  # weight (16, 64, 3, 3): fan_in from dim 1
    (lambda: nn.ConvTranspose2d(64, 16, 4, groups=2), 8 * 16)])
def test_conv_default_init(make, fan_in):
    layer = make()
    assert_uniform(layer.weight.numpy(), 1 / math.sqrt(fan_in))
    assert np.abs(layer.bias.numpy()).max() <= 1 / math.sqrt(fan_in)


def test_norm_and_embedding_default_init():
    bn = nn.BatchNorm2d(5)
    assert np.all(bn.weight.numpy() == 1) and np.all(bn.bias.numpy() == 0)
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert bn.num_batches_tracked.numpy() == 0 and bn.num_batches_tracked.dtype == np.int64
    assert nn.InstanceNorm2d(3).weight is None  # affine=False by default, as in PyTorch
    assert np.all(nn.LayerNorm(4).weight.numpy() == 1) and np.all(nn.GroupNorm(2, 4).bias.numpy() == 0)
    emb = nn.Embedding(1000, 200, padding_idx=3)
    assert np.all(emb.weight.numpy()[3] == 0)
    assert_normal(np.delete(emb.weight.numpy(), 3, axis=0), 1.0)


def test_kaiming_and_xavier_formulas():
    w = mg.zeros(256, 128, 3, 3)
    fan_in, fan_out = 128 * 9, 256 * 9
    assert_normal(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu").numpy(), math.sqrt(2 / fan_out))
    assert_uniform(init.kaiming_uniform_(w, a=0.2).numpy(), math.sqrt(3) * math.sqrt(2 / 1.04) / math.sqrt(fan_in))
    assert_uniform(init.xavier_uniform_(w, gain=2.0).numpy(), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    assert_normal(init.xavier_normal_(w).numpy(), math.sqrt(2 / (fan_in + fan_out)))
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(mg.zeros(5))
    with pytest.raises(ValueError, match="mode 'fan_avg' is not supported"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_simple_fills_keep_dtype():
    w = mg.zeros(200, 300)
    assert_normal(init.normal_(w, mean=0.5, std=0.02).numpy(), 0.02, mean=0.5)
    assert w.dtype == np.float32
    values = init.uniform_(w, -2.0, 3.0).numpy()
    assert values.min() >= -2 and values.max() <= 3 and values.mean() == pytest.approx(0.5, abs=0.02)
    assert np.all(init.constant_(w, 0.25).numpy() == 0.25)
    assert np.all(init.zeros_(w).numpy() == 0) and np.all(init.ones_(w).numpy() == 1)
    values = init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5).numpy()
    assert values.min() >= -1.0 and values.max() <= 1.5


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2, 2)])
def test_orthogonal(shape):
    w = init.orthogonal_(mg.zeros(*shape, dtype=mg.float64), gain=1.5).numpy().reshape(shape[0], -1)
    small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(small, 1.5 ** 2 * np.eye(len(small)), atol=1e-12)


def test_manual_seed_makes_layers_reproducible():
    mg.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 2, 3)).state_dict()
    mg.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 2, 3)).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["0.weight"].numpy(), nn.Linear(3, 4).weight.numpy())
