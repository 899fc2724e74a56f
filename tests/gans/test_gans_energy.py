"""BEGAN and EBGAN: the k_t controller, the convergence measure, the margin and the pull-away term
against hand computations, and a few training steps on images and points."""
import numpy as np
import pytest

import minigan as mg
from minigan import gans
from minigan.gans import began, ebgan
from minigan.gans.autoencoders import AutoEncoder
from minigan.gans.base import DataSpec

IMAGES, POINTS = DataSpec("mnist", (1, 28, 28)), DataSpec("ring8", (2,))


def batch(spec, seed=0):
    rng = np.random.default_rng(seed)
    shape = (8, 1, 28, 28) if spec.is_image else (16, 2)
    return mg.tensor(rng.uniform(-1, 1, size=shape).astype(mg.get_default_dtype()))


# ------------------------------------------------------------------------------------- BEGAN
@pytest.mark.parametrize("k, loss_real, loss_fake, expected", [
    (0.2, 0.4, 0.1, 0.2 + 0.001 * (0.5 * 0.4 - 0.1)),   # gamma L(x) above L(G(z)): k grows
    (0.2, 0.4, 0.3, 0.2 + 0.001 * (0.5 * 0.4 - 0.3)),   # below: k shrinks
    (0.9996, 2.0, 0.0, 1.0),                              # clipped at 1
    (0.0002, 0.1, 1.0, 0.0),                              # clipped at 0
])
def test_began_k_update_is_the_clipped_proportional_controller(k, loss_real, loss_fake, expected):
    assert began.update_k(k, loss_real, loss_fake, gamma=0.5, lambda_k=0.001) == pytest.approx(expected, abs=1e-15)


def test_began_convergence_measure():
    assert began.convergence_measure(0.4, 0.1, gamma=0.5) == pytest.approx(0.4 + 0.1)
    assert began.convergence_measure(0.4, 0.5, gamma=0.5) == pytest.approx(0.4 + 0.3)
    assert began.convergence_measure(0.4, 0.3, gamma=0.75) == pytest.approx(0.4)  # at equilibrium


def test_began_discriminator_step_uses_its_losses_for_loss_and_k(float64):
    mg.manual_seed(1)
    variant = gans.create("began", POINTS, k_0=0.3, lambda_k=0.1)
    real, D = batch(POINTS), variant.nets["D"]
    with mg.no_grad():
        reconstruction = D(real).numpy()
    logs = variant.discriminator_step(real)
    # L(x) is measured before the update: mean |x - D(x)| with D as it was
    assert logs["loss_real"] == pytest.approx(np.abs(real.numpy() - reconstruction).mean(), rel=1e-12)
    assert logs["loss_D"] == pytest.approx(logs["loss_real"] - 0.3 * logs["loss_fake"], rel=1e-12)
    expected_k = min(max(0.3 + 0.1 * (0.5 * logs["loss_real"] - logs["loss_fake"]), 0.0), 1.0)
    assert variant.k_t == logs["k_t"] == pytest.approx(expected_k, rel=1e-12)
    assert expected_k != 0.3
    assert logs["convergence"] == pytest.approx(
        logs["loss_real"] + abs(0.5 * logs["loss_real"] - logs["loss_fake"]), rel=1e-12)


def test_began_k_t_round_trips_through_state_dict_and_a_file(tmp_path):
    mg.manual_seed(2)
    variant = gans.create("began", POINTS, lambda_k=0.05)
    for step in range(3):
        variant.discriminator_step(batch(POINTS, step))
        variant.generator_step(16)
    assert variant.k_t > 0.0
    mg.save(variant.state_dict(), str(tmp_path / "state.npz"))

    restored = gans.create("began", POINTS, lambda_k=0.05)
    assert restored.k_t == 0.0
    restored.load_state_dict(mg.load(str(tmp_path / "state.npz")))
    assert restored.k_t == variant.k_t
    # and the next steps are the same: k_t, nets and Adam moments all came back
    logs = []
    for model in (variant, restored):
        mg.manual_seed(9)
        logs.append({**model.discriminator_step(batch(POINTS, 7)), **model.generator_step(16)})
    assert logs[0] == logs[1]


# ------------------------------------------------------------------------------------- EBGAN
def numpy_pull_away(codes):
    n = len(codes)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                cosine = codes[i] @ codes[j] / (np.linalg.norm(codes[i]) * np.linalg.norm(codes[j]))
                total += cosine ** 2
    return total / (n * (n - 1))


def test_ebgan_pull_away_term_matches_numpy(float64):
    codes = np.random.default_rng(0).normal(size=(6, 4))
    assert ebgan.pull_away_term(mg.tensor(codes)).item() == pytest.approx(numpy_pull_away(codes), rel=1e-12)
    # codes along one direction are maximally penalised, orthogonal ones not at all
    assert ebgan.pull_away_term(mg.tensor(np.outer([1.0, 2.0, -3.0], [1.0, 1.0]))).item() == pytest.approx(1.0)
    assert ebgan.pull_away_term(mg.tensor(np.eye(3) * [1.0, 5.0, 0.1])).item() == pytest.approx(0.0, abs=1e-15)


def test_ebgan_margin_is_a_hinge_per_sample(float64):
    energy_real, energy_fake = mg.tensor([0.2, 0.4]), mg.tensor([0.5, 1.5])
    # 0.3 + mean(max(0, 1 - 0.5), max(0, 1 - 1.5)) = 0.3 + 0.25; a hinge on the batch mean would give 0.3
    assert ebgan.discriminator_loss(energy_real, energy_fake, margin=1.0).item() == pytest.approx(0.55)


def test_ebgan_steps_match_numpy_energies(float64):
    mg.manual_seed(3)
    variant = gans.create("ebgan", POINTS)
    G, D, real = variant.nets["G"], variant.nets["D"], batch(POINTS)
    mg.manual_seed(4)
    with mg.no_grad():
        fake = G(variant.sample_noise(len(real)))
        energy_real = ((D(real).numpy() - real.numpy()) ** 2).mean(axis=1)
        energy_fake = ((D(fake).numpy() - fake.numpy()) ** 2).mean(axis=1)
    margin = float(np.median(energy_fake))  # half the fakes inside the margin, half outside
    variant.config["margin"] = margin
    mg.manual_seed(4)
    logs = variant.discriminator_step(real)
    expected = energy_real.mean() + np.maximum(margin - energy_fake, 0.0).mean()
    assert logs["loss_D"] == pytest.approx(expected, rel=1e-12)

    mg.manual_seed(5)
    with mg.no_grad():
        fake = G(variant.sample_noise(16))
        codes = D.encoder(fake).numpy()
        energy_fake = ((D(fake).numpy() - fake.numpy()) ** 2).mean(axis=1)
    mg.manual_seed(5)
    logs = variant.generator_step(16)
    assert logs["pull_away"] == pytest.approx(numpy_pull_away(codes), rel=1e-10)
    assert logs["loss_G"] == pytest.approx(energy_fake.mean() + 0.1 * numpy_pull_away(codes), rel=1e-10)


def test_ebgan_energy_is_per_sample_mean_squared_error(float64):
    x = np.random.default_rng(1).normal(size=(3, 1, 2, 2))
    y = np.random.default_rng(2).normal(size=(3, 1, 2, 2))
    expected = ((x - y) ** 2).reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(ebgan.energy(mg.tensor(x), mg.tensor(y)).numpy(), expected, rtol=1e-12)


# ------------------------------------------------------------------------------- both, trained
@pytest.mark.parametrize("spec", [IMAGES, POINTS], ids=["images", "points"])
@pytest.mark.parametrize("name", ["began", "ebgan"])
def test_energy_variants_train_three_steps(name, spec):
    mg.manual_seed(0)
    variant = gans.create(name, spec)
    D = variant.nets["D"]
    assert isinstance(D, AutoEncoder)
    before = [p.numpy().copy() for p in variant.nets["G"].parameters()]
    for step in range(3):
        real = batch(spec, step)
        logs = {**variant.discriminator_step(real), **variant.generator_step(len(real))}
        assert logs and all(np.isfinite(v) for v in logs.values()), logs
    assert {"loss_D", "loss_G"} <= set(logs)
    if name == "began":
        assert {"k_t", "convergence"} <= set(logs) and 0.0 <= logs["k_t"] <= 1.0
    assert any(not np.array_equal(b, p.numpy()) for b, p in zip(before, variant.nets["G"].parameters()))
    samples = variant.generate(variant.sample_noise(5))
    assert samples.shape == (5, *spec.shape)
    assert D(batch(spec)).shape == batch(spec).shape  # the auto-encoder reconstructs the input's shape
    if spec.is_image:
        assert float(samples.data.min()) >= -1.0 and float(samples.data.max()) <= 1.0


def test_began_generator_norm_option():
    """Batch norm in G by default on images (G collapses without it, see the docstring); 'none' is the
    paper's G; anything else is named in the error."""
    norms = lambda variant: [m for m in variant.nets["G"].modules() if isinstance(m, mg.nn.BatchNorm2d)]
    assert norms(gans.create("began", IMAGES))
    assert not norms(gans.create("began", IMAGES, generator_norm="none"))
    with pytest.raises(ValueError, match="generator_norm must be 'batch' or 'none', got 'layer'"):
        gans.create("began", IMAGES, generator_norm="layer")
    with pytest.raises(ValueError, match="on 2-D toys G is an MLP without norm .*generator_norm='none'"):
        gans.create("began", POINTS, generator_norm="none")     # named, not silently ignored
    assert gans.create("began", POINTS).config["generator_norm"] == "batch"   # the default alone is fine
