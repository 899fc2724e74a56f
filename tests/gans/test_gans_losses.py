"""LSGAN, WGAN, WGAN-GP and DRAGAN: losses against their formulas on nets with known outputs, the
update schedule and optimisers of each paper, weight clipping, and a few steps on images and points."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.gans import create
from minigan.gans.base import DataSpec

MNIST, RING = DataSpec("mnist", (1, 28, 28)), DataSpec("ring8", (2,))
VARIANTS = ["lsgan", "wgan", "wgan-gp", "dragan"]


def softplus(x):
    return np.log1p(np.exp(x))


# loss_D from D's scores on real and fake points and the norm of its weight; loss_G from fake scores
LOSS_D = {
    "lsgan": lambda r, f, w: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2),
    "wgan": lambda r, f, w: np.mean(f) - np.mean(r),
    "wgan-gp": lambda r, f, w: np.mean(f) - np.mean(r) + 10.0 * (w - 1) ** 2,
    "dragan": lambda r, f, w: np.mean(softplus(-r)) + np.mean(softplus(f)) + 10.0 * (w - 1) ** 2,
}
LOSS_G = {
    "lsgan": lambda f: 0.5 * np.mean((f - 1) ** 2),
    "wgan": lambda f: -np.mean(f),
    "wgan-gp": lambda f: -np.mean(f),
    "dragan": lambda f: np.mean(softplus(-f)),
}


def with_linear_nets(name, z):
    """The variant on 2-D points with G(z) = z A^T + a and D(x) = x w^T + b, set by hand, and z fixed:
    a linear critic's input gradient is w everywhere, so any penalty is (||w|| - 1)^2."""
    options = {"penalty_weight": 10.0} if name in ("wgan-gp", "dragan") else {}
    variant = create(name, RING, z_dim=z.shape[1], **options)
    G, D = nn.Linear(z.shape[1], 2), nn.Linear(2, 1)
    with mg.no_grad():
        G.weight[...] = [[1.0, -0.5, 0.25], [0.5, 2.0, -1.0]]
        G.bias[...] = [0.1, -0.2]
        D.weight[...] = [[0.8, -1.5]]
        D.bias[...] = [0.3]
    variant.nets = {"G": G, "D": D}
    variant.optimizers = variant.build_optimizers()
    variant.sample_noise = lambda n: z[:n]
    return variant


def scores(variant, x):
    D = variant.nets["D"]
    return x @ D.weight.numpy().T + D.bias.numpy()


@pytest.mark.parametrize("name", VARIANTS)
def test_losses_equal_the_papers_formulas(name, float64):
    mg.manual_seed(0)
    z, real = mg.randn(5, 3), mg.randn(5, 2)
    variant = with_linear_nets(name, z)
    G = variant.nets["G"]
    fake = z.numpy() @ G.weight.numpy().T + G.bias.numpy()
    r, f = scores(variant, real.numpy()), scores(variant, fake)
    loss_D = LOSS_D[name](r, f, np.linalg.norm(variant.nets["D"].weight.numpy()))
    logs = variant.discriminator_step(real)
    assert logs["loss_D"] == pytest.approx(loss_D, rel=1e-10)
    if name in ("wgan", "wgan-gp"):
        assert logs["wasserstein_estimate"] == pytest.approx(np.mean(r) - np.mean(f), rel=1e-10)
    loss_G = LOSS_G[name](scores(variant, fake))  # D as the D step left it
    assert variant.generator_step(5)["loss_G"] == pytest.approx(loss_G, rel=1e-10)


@pytest.mark.parametrize("name", ["wgan-gp", "dragan"])
def test_penalty_is_logged_and_weighted(name, float64):
    z, real = mg.randn(4, 3), mg.randn(4, 2)
    weighted, unweighted = with_linear_nets(name, z), with_linear_nets(name, z)
    unweighted.config["penalty_weight"] = 0.0
    penalty = (np.sqrt(0.8 ** 2 + 1.5 ** 2) - 1) ** 2
    a, b = weighted.discriminator_step(real), unweighted.discriminator_step(real)
    assert a["gradient_penalty"] == pytest.approx(penalty, rel=1e-10)
    assert a["loss_D"] - b["loss_D"] == pytest.approx(10.0 * penalty, rel=1e-8)


class QuadraticCritic(nn.Module):
    """D(x) = 1/2 sum_j w_j x_j^2, whose input gradient w * x depends on where it is taken."""

    def __init__(self, w):
        super().__init__()
        self.weight = nn.Parameter(mg.tensor(w))

    def forward(self, x):
        return 0.5 * (self.weight * x * x).sum(1, keepdim=True)


@pytest.mark.parametrize("name, sampler", [("wgan-gp", "interpolate"), ("dragan", "perturb")])
def test_penalty_is_taken_at_the_points_the_variant_samples(name, sampler, float64):
    z, real, points = mg.randn(4, 3), mg.randn(4, 2), mg.randn(4, 2)
    variant = with_linear_nets(name, z)
    variant.nets["D"] = QuadraticCritic([0.5, 2.0])
    variant.optimizers = variant.build_optimizers()
    calls = []
    setattr(variant, sampler, lambda *batches: calls.append(batches) or points)
    logs = variant.discriminator_step(real)
    expected = np.mean((np.linalg.norm(points.numpy() * [0.5, 2.0], axis=1) - 1) ** 2)
    assert logs["gradient_penalty"] == pytest.approx(expected, rel=1e-10)
    assert calls[0][0] is real
    if name == "wgan-gp":  # between the real batch and this step's fakes
        G = variant.nets["G"]
        np.testing.assert_allclose(calls[0][1].numpy(), z.numpy() @ G.weight.numpy().T + G.bias.numpy())


@pytest.mark.parametrize("name", VARIANTS)
def test_each_step_updates_only_its_own_network(name, float64):
    variant = with_linear_nets(name, mg.randn(4, 3))
    G, D = variant.nets["G"], variant.nets["D"]
    g0, d0 = G.weight.numpy().copy(), D.weight.numpy().copy()
    variant.discriminator_step(mg.randn(4, 2))
    assert np.array_equal(G.weight.numpy(), g0) and not np.array_equal(D.weight.numpy(), d0)
    d1 = D.weight.numpy().copy()
    variant.generator_step(4)
    assert np.array_equal(D.weight.numpy(), d1) and not np.array_equal(G.weight.numpy(), g0)


@pytest.mark.parametrize("data", [RING, MNIST], ids=["points", "images"])
def test_wgan_clips_every_critic_weight_after_its_step(data):
    mg.manual_seed(0)
    variant = create("wgan", data)
    D = variant.nets["D"]
    assert max(np.abs(p.numpy()).max() for p in D.parameters()) > 0.01  # the init is wider than c
    variant.discriminator_step(mg.randn(8, *data.shape))
    largest = [np.abs(p.numpy()).max() for p in D.parameters()]
    assert max(largest) == pytest.approx(0.01) and all(m <= 0.01 for m in largest)


@pytest.mark.parametrize("name, optimizer, lr, betas, n_critic", [
    ("lsgan", optim.Adam, 2e-4, (0.5, 0.999), 1),
    ("wgan", optim.RMSprop, 5e-5, None, 5),
    ("wgan-gp", optim.Adam, 1e-4, (0.5, 0.9), 5),
    ("dragan", optim.Adam, 1e-4, (0.5, 0.9), 1),
])
def test_optimisers_and_schedule_follow_the_papers(name, optimizer, lr, betas, n_critic):
    variant = create(name, RING)
    assert variant.n_critic == n_critic
    for net in ("G", "D"):
        opt = variant.optimizers[net]
        assert type(opt) is optimizer and opt.param_groups[0]["lr"] == lr
        if betas:
            assert tuple(opt.param_groups[0]["betas"]) == betas


def test_wgan_gp_defaults_depend_on_the_data():
    assert create("wgan-gp", MNIST).config["penalty_weight"] == 10.0
    assert create("wgan-gp", MNIST).config["batch_size"] == 64
    toy = create("wgan-gp", RING)
    assert (toy.config["penalty_weight"], toy.config["batch_size"]) == (0.1, 256)   # gan_toy.py
    assert create("wgan-gp", RING, penalty_weight=10.0).config["penalty_weight"] == 10.0
    with pytest.raises(ValueError, match="wgan-gp: unknown option"):
        create("wgan-gp", RING, lambda_gp=1.0)


@pytest.mark.parametrize("name, has_batch_norm", [("wgan", True), ("wgan-gp", False), ("dragan", False)])
def test_critic_batch_norm_only_where_the_paper_has_it(name, has_batch_norm):
    critic = create(name, MNIST).nets["D"]
    assert any(isinstance(m, nn.BatchNorm2d) for m in critic.modules()) == has_batch_norm
    assert any(isinstance(m, nn.Conv2d) for m in critic.modules())


EXPECTED_KEYS = {"lsgan": {"loss_D", "loss_G"}, "wgan": {"loss_D", "loss_G", "wasserstein_estimate"},
                 "wgan-gp": {"loss_D", "loss_G", "gradient_penalty", "wasserstein_estimate"},
                 "dragan": {"loss_D", "loss_G", "gradient_penalty"}}


@pytest.mark.parametrize("data, batch", [(MNIST, 8), (RING, 16)], ids=["images", "points"])
@pytest.mark.parametrize("name", VARIANTS)
def test_three_steps_give_finite_losses(name, data, batch):
    mg.manual_seed(0)
    variant = create(name, data)
    real = mg.rand(batch, *data.shape) * 2 - 1
    for _ in range(3):
        logs = {**variant.discriminator_step(real), **variant.generator_step(batch)}
        assert set(logs) == EXPECTED_KEYS[name]
        assert all(isinstance(v, float) and np.isfinite(v) for v in logs.values()), logs
