"""Mode coverage on 2-D mixtures (VEEGAN/PacGAN definitions)."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan.data import grid25, ring8, spiral
from minigan.metrics import kl_to_uniform, toy_mode_metrics

# P(|x - mu| < 3 std) for an isotropic 2-D Gaussian: the chi-squared(2) CDF at 9
WITHIN_3_STD_2D = 1 - math.exp(-9 / 2)


@pytest.mark.parametrize("make", [ring8, grid25, spiral])
def test_real_samples_cover_every_mode_with_high_quality(make):
    toy = make()
    points, _ = toy.sample(2500, seed=0)
    result = toy_mode_metrics(points, toy.centers, toy.std)
    assert result["modes_covered"] == result["num_modes"] == toy.n_modes
    assert abs(result["high_quality_fraction"] - WITHIN_3_STD_2D) < 0.01   # 98.9%: the rest lie past 3 std
    assert sum(result["counts"]) == round(result["high_quality_fraction"] * 2500)
    assert result["kl_to_uniform"] < 0.02


def test_collapsed_samples_cover_one_mode():
    toy = grid25()
    points = np.repeat(toy.centers[7:8], 2500, axis=0)
    result = toy_mode_metrics(points, toy.centers, toy.std)
    assert result["modes_covered"] == 1 and result["high_quality_fraction"] == 1.0
    assert result["counts"][7] == 2500
    assert result["fewest_in_a_mode"] == 0 and result["most_in_a_mode"] == 2500
    assert result["kl_to_uniform"] == pytest.approx(math.log(25))


def test_far_away_points_are_never_high_quality():
    toy = ring8()
    points = np.full((100, 2), 50.0)
    result = toy_mode_metrics(points, toy.centers, toy.std)
    assert result["modes_covered"] == 0 and result["high_quality_fraction"] == 0.0
    assert math.isnan(result["kl_to_uniform"])


def test_the_three_std_boundary_and_nearest_mode():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    points = np.array([[2.9, 0.0], [0.0, -3.1], [7.5, 0.0], [6.5, 0.0]])   # std 1
    result = toy_mode_metrics(points, centers, std=1.0)
    assert result["counts"] == [1, 1]            # 2.9 -> mode 0; 7.5 is 2.5 from mode 1; 3.1 and 3.5 are out
    assert result["fewest_in_a_mode"] == result["most_in_a_mode"] == 1
    assert result["high_quality_fraction"] == 0.5


def test_min_count_ignores_modes_with_few_samples():
    toy = ring8()
    points = np.concatenate([np.repeat(toy.centers[:1], 2481, axis=0), np.repeat(toy.centers[1:2], 19, axis=0)])
    assert toy_mode_metrics(points, toy.centers, toy.std)["modes_covered"] == 2      # default: >= 1 sample
    assert toy_mode_metrics(points, toy.centers, toy.std, min_count=20)["modes_covered"] == 1
    lopsided = toy_mode_metrics(points[:2490], toy.centers[:2], toy.std)   # 2,481 and 9 samples
    assert (lopsided["fewest_in_a_mode"], lopsided["most_in_a_mode"]) == (9, 2481)


def test_accepts_tensors_and_rejects_bad_shapes():
    toy = ring8()
    points, _ = toy.sample(200, seed=1)
    assert toy_mode_metrics(mg.tensor(points), toy.centers, toy.std)["modes_covered"] == 8
    with pytest.raises(ValueError, match=r"points have 3 coordinates but centers have 2"):
        toy_mode_metrics(np.zeros((5, 3)), toy.centers, toy.std)
    with pytest.raises(ValueError, match=r"points must be a 2-D array \(N, D\), got shape \(5,\)"):
        toy_mode_metrics(np.zeros(5), toy.centers, toy.std)
    with pytest.raises(ValueError, match=r"std must be a positive number, got 0"):
        toy_mode_metrics(points, toy.centers, 0)
    with pytest.raises(ValueError, match=r"min_count must be a positive integer, got 0"):
        toy_mode_metrics(points, toy.centers, toy.std, min_count=0)


def test_kl_to_uniform_values():
    assert kl_to_uniform([5, 5, 5, 5]) == pytest.approx(0.0, abs=1e-12)
    assert kl_to_uniform([0, 9, 0]) == pytest.approx(math.log(3))
    assert kl_to_uniform([1, 3]) == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    assert math.isnan(kl_to_uniform([0, 0]))
    with pytest.raises(ValueError, match="counts must be non-negative"):
        kl_to_uniform([1, -1])
