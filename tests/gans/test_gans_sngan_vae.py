"""SNGAN (spectrally normalised D, hinge loss) and the VAE baseline: losses against hand
computations, the normalisation of every D layer, and a few training steps on images and points."""
import numpy as np
import pytest

import minigan as mg
from minigan import gans, nn
from minigan.gans import sngan, vae
from minigan.gans.base import DataSpec

IMAGES, POINTS = DataSpec("mnist", (1, 28, 28)), DataSpec("ring8", (2,))


def batch(spec, seed=0, n=None):
    rng = np.random.default_rng(seed)
    shape = (n or 8, 1, 28, 28) if spec.is_image else (n or 16, 2)
    return mg.tensor(rng.uniform(-1, 1, size=shape).astype(mg.get_default_dtype()))


def train_steps(variant, spec, steps=3):
    logs = {}
    for step in range(steps):
        for _ in range(variant.n_critic):
            real = batch(spec, step)
            logs.update(variant.discriminator_step(real))
        logs.update(variant.generator_step(len(real)))
    return logs


# ------------------------------------------------------------------------------------- SNGAN
def test_hinge_losses_on_known_scores(float64):
    real, fake = mg.tensor([[2.0], [0.5], [-1.0]]), mg.tensor([[-2.0], [0.0], [0.5]])
    # real: max(0, 1 - s) = 0, 0.5, 2; fake: max(0, 1 + s) = 0, 1, 1.5
    assert sngan.hinge_discriminator_loss(real, fake).item() == pytest.approx(2.5 / 3 + 2.5 / 3)
    assert sngan.hinge_generator_loss(fake).item() == pytest.approx(0.5)


@pytest.mark.parametrize("spec", [IMAGES, POINTS], ids=["images", "points"])
def test_sngan_normalises_every_discriminator_layer(spec):
    mg.manual_seed(0)
    variant = gans.create("sngan", spec)
    layers = [m for m in variant.nets["D"].modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == (3 if spec.is_image else 4)
    assert all(hasattr(layer, "weight_orig") and hasattr(layer, "weight_u") for layer in layers)
    train_steps(variant, spec)
    # a few more power iterations (one per training-mode forward) with the weights held still
    with mg.no_grad():
        for _ in range(40):
            variant.nets["D"](batch(spec, n=2))
    for layer in layers:
        weight = layer.weight.numpy()
        largest = np.linalg.svd(weight.reshape(weight.shape[0], -1), compute_uv=False)[0]
        assert largest == pytest.approx(1.0, abs=0.02), layer
        raw = np.linalg.svd(layer.weight_orig.numpy().reshape(weight.shape[0], -1), compute_uv=False)[0]
        assert abs(raw - 1.0) > 0.05  # the raw weight is not already normalised: the division did it


def test_sngan_defaults_follow_the_hinge_recipe():
    variant = gans.create("sngan", POINTS)
    assert variant.n_critic == 5 and tuple(variant.config["betas"]) == (0.0, 0.9)
    assert variant.optimizers["D"].param_groups[0]["lr"] == 2e-4


# --------------------------------------------------------------------------------------- VAE
def numerical_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) by the trapezoid rule on a fine grid, per dimension."""
    std = np.exp(0.5 * log_var)
    z = np.linspace(mean - 12 * std, mean + 12 * std, 200001)
    log_q = -0.5 * ((z - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)
    log_p = -0.5 * z ** 2 - 0.5 * np.log(2 * np.pi)
    integrand = np.exp(log_q) * (log_q - log_p)
    return ((integrand[1:] + integrand[:-1]) / 2 * np.diff(z)).sum()


def test_vae_kl_matches_numerical_integration(float64):
    mean = np.array([[0.0, 1.5, -0.3], [2.0, -1.0, 0.1]])
    log_var = np.array([[0.0, -1.0, 0.7], [-2.0, 0.3, 1.2]])
    expected = [sum(numerical_kl(m, v) for m, v in zip(row_m, row_v)) for row_m, row_v in zip(mean, log_var)]
    got = vae.kl_divergence(mg.tensor(mean), mg.tensor(log_var)).numpy()
    assert got.shape == (2,)
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    assert vae.kl_divergence(mg.zeros(1, 4), mg.zeros(1, 4)).item() == 0.0  # q equal to the prior


def test_vae_image_reconstruction_is_bernoulli_on_the_generated_mean(float64):
    """G(z) = 2 p - 1 with p the Bernoulli means: the loss is BCE(p, (x + 1) / 2) summed over pixels."""
    mg.manual_seed(0)
    variant = gans.create("vae", IMAGES)
    z, x = mg.randn(3, variant.config["z_dim"]), batch(IMAGES, n=3)
    with mg.no_grad():
        p = (variant.nets["G"](z).numpy() + 1.0) / 2.0
        got = variant.reconstruction_loss(z, x).numpy()
    target = (x.numpy() + 1.0) / 2.0
    expected = -(target * np.log(p) + (1 - target) * np.log(1 - p)).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_vae_point_reconstruction_is_gaussian_with_the_decoder_std(float64):
    mg.manual_seed(0)
    variant = gans.create("vae", POINTS, decoder_std=0.5)
    z, x = mg.randn(4, variant.config["z_dim"]), batch(POINTS, n=4)
    with mg.no_grad():
        mean = variant.nets["G"](z).numpy()
        got = variant.reconstruction_loss(z, x).numpy()
    np.testing.assert_allclose(got, ((x.numpy() - mean) ** 2).sum(axis=1) / (2 * 0.5 ** 2), rtol=1e-12)


def test_vae_updates_encoder_and_decoder_in_the_data_step():
    mg.manual_seed(0)
    variant = gans.create("vae", IMAGES)
    assert list(variant.optimizers) == ["VAE"]
    nets = [variant.nets["E"], variant.nets["G"]]
    before = [[p.numpy().copy() for p in net.parameters()] for net in nets]
    logs = variant.discriminator_step(batch(IMAGES))
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + logs["kl"], rel=1e-6)
    for net, old in zip(nets, before):
        assert any(not np.array_equal(a, p.numpy()) for a, p in zip(old, net.parameters()))
    assert variant.generator_step(8) == {}


# ------------------------------------------------------------------------------ both, trained
@pytest.mark.parametrize("spec", [IMAGES, POINTS], ids=["images", "points"])
@pytest.mark.parametrize("name", ["sngan", "vae"])
def test_variant_trains_three_steps(name, spec):
    mg.manual_seed(0)
    variant = gans.create(name, spec)
    before = [p.numpy().copy() for p in variant.nets["G"].parameters()]
    logs = train_steps(variant, spec)
    assert logs and all(np.isfinite(v) for v in logs.values()), logs
    assert any(not np.array_equal(b, p.numpy()) for b, p in zip(before, variant.nets["G"].parameters()))
    samples = variant.generate(variant.sample_noise(5))
    assert samples.shape == (5, *spec.shape)
    if spec.is_image:
        assert float(samples.data.min()) >= -1.0 and float(samples.data.max()) <= 1.0
