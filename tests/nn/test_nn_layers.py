"""Layer behaviour that needs no reference library: running statistics by hand, modes, shapes,
and the errors layers raise."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn


def test_batchnorm_running_statistics_follow_the_formula(float64):
    bn = nn.BatchNorm2d(3, momentum=0.2)
    mean, var = np.zeros(3), np.ones(3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(4, 3, 2, 2))
        bn(mg.tensor(x))
        mean = 0.8 * mean + 0.2 * x.mean(axis=(0, 2, 3))
        var = 0.8 * var + 0.2 * x.var(axis=(0, 2, 3), ddof=1)  # unbiased, as PyTorch
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 3


def test_batchnorm_cumulative_average_when_momentum_is_none(float64):
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).normal(i, 1.0, size=(5, 2)) for i in range(4)]
    for x in batches:
        bn(mg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-12)


def test_batchnorm_eval_uses_running_statistics_and_does_not_update(float64):
    bn = nn.BatchNorm1d(2)
    with mg.no_grad():
        bn.running_mean[...] = [1.0, -1.0]
        bn.running_var[...] = [4.0, 0.25]
        bn.weight[...] = [2.0, 3.0]
        bn.bias[...] = [0.5, 0.0]
    bn.eval()
    x = np.array([[3.0, 0.0], [1.0, -1.5]])
    out = bn(mg.tensor(x)).numpy()
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 3.0] + [0.5, 0.0]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.numpy(), [1.0, -1.0])
    assert int(bn.num_batches_tracked.item()) == 0


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval(float64):
    bn = nn.BatchNorm2d(2, track_running_stats=False).eval()
    assert bn.running_mean is None and "running_mean" not in bn.state_dict()
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(3, 2, 2, 2))
    out = bn(mg.tensor(x)).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)


@pytest.mark.parametrize("layer, shape, message", [
    (nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d: expected 4D input, got 3D input \(shape \(2, 3, 4\)\)"),
    (nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d: input has 4 channels .* built for num_features=3"),
    (nn.InstanceNorm2d(3), (2, 3), r"InstanceNorm2d: expected 3D or 4D input, got 2D input"),
    (nn.GroupNorm(2, 4), (2, 3, 1, 1), r"GroupNorm: expected input \(N, 4, \*\), got shape \(2, 3, 1, 1\)"),
])
def test_norm_input_errors(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(mg.randn(*shape))


def test_constructor_errors():
    with pytest.raises(ValueError, match="num_channels=5 must be divisible by num_groups=2"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match="groups=3 must be positive and divide in_channels=4"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="probability has to be between 0 and 1, got p=1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        nn.Upsample()


def test_dropout_training_and_eval():
    x = mg.ones(200, 100)
    out = nn.Dropout(0.3)(x).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
    assert (out == 0).mean() == pytest.approx(0.3, abs=0.02)
    dropout = nn.Dropout(0.3).eval()
    assert dropout(x) is x


def test_embedding_padding_row_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4
    out = emb(mg.tensor(np.array([[0, 4], [4, 2]])))
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy()[0, 1], 0)
    (out * mg.randn(2, 2, 3)).sum().backward()
    grad = emb.weight.grad.numpy()
    assert np.all(grad[4] == 0) and np.all(grad[[0, 2]] != 0) and np.all(grad[[1, 3]] == 0)


def test_shape_layers():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.Conv2d(3, 2, 4, padding="same")(x).shape == (2, 2, 4, 5)
    assert nn.Conv2d(3, 2, 3, padding="valid")(x).shape == (2, 2, 2, 3)
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    assert up(x).shape == (2, 2, 7, 9)
    assert up(x, output_size=(8, 10)).shape == (2, 2, 8, 10)
    with pytest.raises(ValueError, match=r"requested output size \(9, 10\) is not reachable"):
        up(x, output_size=(9, 10))
    assert nn.InstanceNorm2d(3)(x[0]).shape == (3, 4, 5)
