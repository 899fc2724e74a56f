"""2-D toy mixtures: the modes where the papers put them, samples near their modes, seeding."""
import itertools

import numpy as np
import pytest

from minigan.data import TOYS, grid25, load_dataset, ring8, spiral, toy


def test_ring8_modes_and_std():
    mixture = ring8()
    assert mixture.centers.shape == (8, 2) and mixture.std == 0.02
    np.testing.assert_allclose(np.hypot(*mixture.centers.T), 2.0)
    angles = np.sort(np.degrees(np.arctan2(mixture.centers[:, 1], mixture.centers[:, 0])) % 360)
    np.testing.assert_allclose(angles, np.arange(0, 360, 45), atol=1e-9)


def test_grid25_modes_and_std():
    mixture = grid25()
    assert mixture.std == 0.05
    expected = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert set(map(tuple, mixture.centers.tolist())) == expected


def test_spiral_modes_are_far_apart_along_a_widening_curve():
    mixture = spiral()
    assert mixture.n_modes == 20 and mixture.std == 0.05
    gaps = np.linalg.norm(mixture.centers[:, None] - mixture.centers[None], axis=-1)
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 1.0                                   # > 20 std: modes cannot blur together
    radii = np.hypot(*mixture.centers.T)
    assert np.all(np.diff(radii) > 0) and radii[0] == pytest.approx(1.0) and radii[-1] == pytest.approx(4.0)


@pytest.mark.parametrize("name", sorted(TOYS))
def test_samples_sit_near_their_own_mode(name):
    mixture = toy(name)
    points, modes = mixture.sample(20_000, seed=3)
    assert points.shape == (20_000, 2) and points.dtype == np.float32 and modes.dtype == np.int64
    offsets = points - mixture.centers[modes]
    # each coordinate is N(0, std^2): the empirical std within 3%, no point past 6 std
    np.testing.assert_allclose(offsets.std(axis=0), mixture.std, rtol=0.03)
    assert np.abs(offsets).max() < 6 * mixture.std
    nearest = np.argmin(np.linalg.norm(points[:, None] - mixture.centers[None], axis=-1), axis=1)
    assert (nearest == modes).all()
    counts = np.bincount(modes, minlength=mixture.n_modes)
    expected = 20_000 / mixture.n_modes
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)     # equal weights


def test_sampling_is_seeded():
    first, _ = ring8().sample(100, seed=7)
    again, _ = ring8().sample(100, seed=7)
    other, _ = ring8().sample(100, seed=8)
    assert (first == again).all() and not np.allclose(first, other)
    from_generator, _ = ring8().sample(100, seed=np.random.default_rng(7))
    assert (from_generator == first).all()


def test_load_dataset_toys_train_and_test_differ():
    train, train_modes = load_dataset("grid25", n=500, seed=1)
    test, _ = load_dataset("grid25", split="test", n=500, seed=1)
    assert train.shape == (500, 2) and train_modes.max() < 25
    assert not np.allclose(train, test)
    assert (load_dataset("grid25", n=500, seed=1)[0] == train).all()


def test_errors():
    with pytest.raises(ValueError, match=r"unknown toy dataset 'ring9': expected one of \('ring8', 'grid25', 'spiral'\)"):
        toy("ring9")
    with pytest.raises(ValueError, match=r"ring8.sample: n must be a non-negative integer, got 2.5"):
        ring8().sample(2.5)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar10'"):
        load_dataset("cifar10")
