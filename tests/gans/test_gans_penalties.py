"""Gradient penalties: their values, and their gradient w.r.t. the critic's weights (the path the
training step takes: backward through a double backward) against central finite differences."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.gans import create, get
from minigan.gans.base import DataSpec
from minigan.gans.penalties import gradient_penalty, input_gradient

MNIST, RING = DataSpec("mnist", (1, 28, 28)), DataSpec("ring8", (2,))


def tiny_conv_critic(activation):
    """1x6x6 -> 2x3x3 -> score, in the default dtype."""
    return nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), activation, nn.Flatten(), nn.Linear(18, 1))


def test_penalty_of_a_linear_critic_is_its_weight_norm_error(float64):
    D = nn.Linear(3, 1)
    with mg.no_grad():
        D.weight[...] = [[0.5, -1.0, 2.0]]
    points = mg.randn(5, 3)
    expected = (np.sqrt(0.25 + 1.0 + 4.0) - 1.0) ** 2
    assert gradient_penalty(D, points).item() == pytest.approx(expected, rel=1e-10)
    assert gradient_penalty(D, points, target_norm=2.0).item() == pytest.approx((np.sqrt(5.25) - 2) ** 2, rel=1e-10)


def test_penalty_norm_runs_over_all_of_a_samples_dims(float64):
    # D(x) = 1/2 sum x^2 has gradient x: each sample's norm is over C, H and W, not over dim 1 only
    x = mg.randn(4, 2, 3, 3)
    flat = x.numpy().reshape(4, -1)
    expected = np.mean((np.linalg.norm(flat, axis=1) - 1.0) ** 2)
    assert gradient_penalty(lambda y: 0.5 * (y * y).flatten(1).sum(1), x).item() == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(input_gradient(lambda y: 0.5 * (y * y).sum(), x).numpy(), x.numpy())


def test_penalty_trains_the_critic_not_the_points(float64):
    D = nn.Linear(2, 1)
    points = mg.randn(4, 2, requires_grad=True)
    gradient_penalty(D, points * 2.0).backward()
    assert points.grad is None
    assert D.weight.grad is not None and np.abs(D.weight.grad.numpy()).max() > 0


def finite_difference_gradients(loss_of_critic, D, eps=1e-6):
    """d loss / d every weight entry of D by central differences, perturbing the weights in place."""
    numerical = {}
    for name, p in D.named_parameters():
        grad = np.zeros(p.shape)
        for index in np.ndindex(*p.shape):
            saved = float(p.data[index])
            p.data[index] = saved + eps
            plus = loss_of_critic().item()
            p.data[index] = saved - eps
            minus = loss_of_critic().item()
            p.data[index] = saved
            grad[index] = (plus - minus) / (2 * eps)
        numerical[name] = grad
    return numerical


def assert_backward_matches_finite_differences(loss_of_critic, D):
    for p in D.parameters():
        p.grad = None
    loss_of_critic().backward()
    numerical = finite_difference_gradients(loss_of_critic, D)
    for name, p in D.named_parameters():
        analytical = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
        np.testing.assert_allclose(analytical, numerical[name], rtol=1e-5, atol=1e-7, err_msg=name)
        if name.endswith("weight"):  # the penalty must reach the critic's weights
            assert np.abs(analytical).max() > 1e-3, f"no penalty gradient reaches {name}"


@pytest.mark.parametrize("activation", [nn.LeakyReLU(0.2), nn.Tanh()], ids=["leaky_relu", "tanh"])
def test_wgan_gp_penalty_gradient_matches_finite_differences(activation, float64):
    mg.manual_seed(0)
    D = tiny_conv_critic(activation)
    real, fake = mg.randn(3, 1, 6, 6), mg.randn(3, 1, 6, 6)
    points = get("wgan-gp").interpolate(real, fake)
    assert_backward_matches_finite_differences(lambda: gradient_penalty(D, points), D)


def test_dragan_penalty_gradient_matches_finite_differences(float64):
    mg.manual_seed(1)
    D = tiny_conv_critic(nn.LeakyReLU(0.2))
    real = mg.randn(3, 1, 6, 6)
    perturbed = create("dragan", RING).perturb(real)  # drawn once: the penalty is then a function of D
    assert_backward_matches_finite_differences(lambda: gradient_penalty(D, perturbed), D)


def test_the_second_order_gradient_check_agrees(float64):
    mg.manual_seed(2)
    D = tiny_conv_critic(nn.Tanh())
    names = [name for name, _ in D.named_parameters()]
    weights = [p.detach().requires_grad_() for p in D.parameters()]
    points = mg.randn(2, 1, 6, 6)

    def penalty(*ws):
        return gradient_penalty(lambda x: nn.functional_call(D, dict(zip(names, ws)), (x,)), points)

    assert mg.gradcheck(penalty, weights)


def test_interpolates_lie_on_each_samples_segment_with_one_coefficient(float64):
    real, fake = mg.randn(6, 1, 4, 4), mg.randn(6, 1, 4, 4)
    x_hat = get("wgan-gp").interpolate(real, fake).numpy()
    r, f = real.numpy().reshape(6, -1), fake.numpy().reshape(6, -1)
    a = (x_hat.reshape(6, -1) - f) / (r - f)
    np.testing.assert_allclose(a, a[:, :1].repeat(16, axis=1), rtol=1e-8)  # one a per sample
    assert np.all((a[:, 0] >= 0) & (a[:, 0] < 1)) and np.ptp(a[:, 0]) > 0  # U[0, 1), not shared


def test_dragan_perturbation_is_half_the_per_pixel_batch_std_times_uniform(float64):
    real = mg.randn(64, 1, 3, 3)
    real.data[:, 0, 0, 0] = 0.5  # a pixel constant over the batch is left where it is
    delta = create("dragan", MNIST).perturb(real).numpy() - real.numpy()
    std = real.numpy().std(axis=0)
    u = delta / (0.5 * np.where(std > 0, std, 1.0))
    assert np.all(delta[:, 0, 0, 0] == 0)
    assert np.all((u >= 0) & (u < 1)) and 0.4 < u.mean() < 0.6
