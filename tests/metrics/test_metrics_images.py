"""Classifier FID, class coverage, Stacked MNIST modes, image_metrics and PSNR."""
import math

import numpy as np
import pytest
import scipy.linalg

import minigan as mg
from minigan.data import StackedMNIST, load_mnist
from minigan.metrics import (class_coverage, classifier_fid, frechet_distance, gaussian_fit, image_metrics,
                             label_accuracy, psnr, stacked_mnist_modes)


class LookupClassifier:
    """Knows each real digit's label by its exact pixels: the metrics' plumbing with no classifier error."""
    training = False

    def __init__(self, images, labels):
        self.labels = {image.astype(np.float32).tobytes(): int(label) for image, label in zip(images, labels)}

    def __call__(self, x):
        return mg.tensor(np.eye(10)[[self.labels[image.tobytes()] for image in x.numpy()]])


@pytest.fixture(scope="module")
def test_digits():
    return load_mnist("test")


# ------------------------------------------------------------------------------------------- FID
def _sqrtm_fid(mean1, cov1, mean2, cov2):
    """The textbook formula, with scipy's general matrix square root (the independent reference)."""
    root = scipy.linalg.sqrtm(cov1 @ cov2).real
    return np.sum((mean1 - mean2) ** 2) + np.trace(cov1 + cov2 - 2 * root)


def test_frechet_distance_matches_the_sqrtm_formula():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    cov1, cov2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mean1, mean2 = rng.standard_normal(6), rng.standard_normal(6)
    assert frechet_distance(mean1, cov1, mean2, cov2) == pytest.approx(_sqrtm_fid(mean1, cov1, mean2, cov2), rel=1e-8)


def test_frechet_distance_of_one_dimensional_gaussians():
    # N(m1, s1^2) vs N(m2, s2^2): (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(2.0 ** 2 + 1.0 ** 2)


def test_frechet_distance_is_zero_and_real_for_singular_covariances():
    features = np.random.default_rng(1).standard_normal((50, 8))
    features[:, 3:] = 0.0                                # dead ReLU units: rank-3 covariance
    mean, cov = gaussian_fit(features)
    assert frechet_distance(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match=r"frechet_distance: expected means \(D,\) and covariances \(D, D\)"):
        frechet_distance(mean, cov, mean[:4], cov)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise_and_shift(tiny_classifier, test_digits):
    images = test_digits[0][:300]
    noise = np.random.default_rng(0).standard_normal(images.shape).astype(np.float32)
    assert classifier_fid(images, images, tiny_classifier) == pytest.approx(0.0, abs=1e-6)
    fids = [classifier_fid(np.clip(images + s * noise, -1, 1), images, tiny_classifier) for s in (0.1, 0.3, 0.6)]
    assert 0 < fids[0] < fids[1] < fids[2]
    shifted = np.roll(images, 4, axis=3)
    assert classifier_fid(shifted, images, tiny_classifier) > classifier_fid(np.roll(images, 1, axis=3), images,
                                                                           tiny_classifier) > 0


# ------------------------------------------------------------------------------------- coverage
def test_real_digits_cover_all_ten_classes(tiny_classifier, test_digits):
    result = class_coverage(test_digits[0], tiny_classifier)
    assert result["classes_covered"] == result["num_classes"] == 10
    assert result["kl_to_uniform"] < 0.05                       # the held-out split is 50 digits per class
    assert sum(result["histogram"]) == pytest.approx(1.0) and len(result["histogram"]) == 10


def test_copies_of_one_digit_cover_one_class(tiny_classifier, test_digits):
    copies = np.repeat(test_digits[0][:1], 200, axis=0)
    result = class_coverage(mg.tensor(copies), tiny_classifier)
    assert result["classes_covered"] == 1
    assert result["kl_to_uniform"] == pytest.approx(math.log(10))
    assert max(result["histogram"]) == 1.0


def test_min_fraction_decides_which_classes_count(test_digits):
    images, labels = test_digits
    rare = np.flatnonzero(labels == 9)[:2]                      # 2 of 402 samples: 0.5%
    common = np.flatnonzero(labels != 9)[:400]
    chosen = np.concatenate([common, rare])
    model = LookupClassifier(images, labels)
    assert class_coverage(images[chosen], model)["classes_covered"] == 9
    assert class_coverage(images[chosen], model, min_fraction=0.004)["classes_covered"] == 10


def test_label_accuracy(test_digits):
    images, labels = test_digits
    model = LookupClassifier(images, labels)
    wrong = labels[:100].copy()
    wrong[:25] = (wrong[:25] + 1) % 10
    assert label_accuracy(images[:100], wrong, model) == 0.75
    with pytest.raises(ValueError, match=r"label_accuracy: need one label per image, got labels of shape \(99,\)"):
        label_accuracy(images[:100], wrong[:99], model)


# ------------------------------------------------------------------------------- stacked MNIST
def test_stacked_modes_and_kl_from_known_labels(test_digits):
    stacked = StackedMNIST(n=400, seed=3, split="test")
    model = LookupClassifier(*test_digits)
    result = stacked_mnist_modes(stacked[:], model)
    _, counts = np.unique(stacked.labels, return_counts=True)
    p = counts / counts.sum()
    assert result["modes_covered"] == len(counts) and result["num_modes"] == 1000
    assert result["kl_to_uniform"] == pytest.approx(np.sum(p * np.log(p * 1000)))
    assert result["num_samples"] == 400


def test_stacked_collapse_is_one_mode(tiny_classifier):
    one = StackedMNIST(n=1, seed=0, split="test")[:]
    result = stacked_mnist_modes(np.repeat(one, 50, axis=0), tiny_classifier)
    assert result["modes_covered"] == 1
    assert result["kl_to_uniform"] == pytest.approx(math.log(1000))


def test_stacked_mnist_needs_three_channels(tiny_classifier, test_digits):
    with pytest.raises(ValueError, match=r"stacked_mnist_modes: images must have 3 channel\(s\), got shape \(5, 1, 28, 28\)"):
        stacked_mnist_modes(test_digits[0][:5], tiny_classifier)


# ------------------------------------------------------------------------------ image_metrics
def test_image_metrics_puts_real_digits_near_the_floor_and_noise_far_above(tiny_classifier):
    real_like, _ = load_mnist("train")                          # digits, but not the held-out ones
    noise = np.random.default_rng(0).uniform(-1, 1, size=(300, 1, 28, 28)).astype(np.float32)
    good = image_metrics((real_like[:300] + 1) / 2, "mnist", model=tiny_classifier, value_range=(0, 1))
    bad = image_metrics(noise, "mnist", model=tiny_classifier)
    assert good["fid_samples"] == bad["fid_samples"] == 250      # half of the 500 held-out digits
    assert bad["fid_real_floor"] == good["fid_real_floor"] > 0   # same halves, same floor
    assert good["fid"] < 3 * good["fid_real_floor"] < bad["fid"] / 10
    assert good["classes_covered"] == 10
    assert good["classifier_test_accuracy"] == tiny_classifier.test_accuracy


def test_image_metrics_for_stacked_mnist(tiny_classifier):
    fake = StackedMNIST(n=100, seed=1, split="train")[:]
    result = image_metrics(fake, "stacked-mnist", model=tiny_classifier, n_real=200)
    assert result["num_modes"] == 1000 and 50 <= result["modes_covered"] <= 100
    assert result["fid_samples"] == 100 and result["fid"] < 3 * result["fid_real_floor"]


def test_image_metrics_errors(tiny_classifier, test_digits):
    with pytest.raises(ValueError, match=r"image_metrics: dataset must be mnist, fashion-mnist or stacked-mnist, got 'cifar10'"):
        image_metrics(test_digits[0][:10], "cifar10", model=tiny_classifier)
    with pytest.raises(ValueError, match=r"image_metrics: images must have 1 channel\(s\), got shape \(4, 3, 28, 28\)"):
        image_metrics(np.zeros((4, 3, 28, 28)), "mnist", model=tiny_classifier)


# ------------------------------------------------------------------------------------------ PSNR
def test_psnr_known_values():
    a = np.zeros((2, 1, 4, 4))
    assert psnr(a, a + 0.1, data_range=1.0) == pytest.approx(20.0)           # MSE 0.01
    assert psnr(a, a + 0.2, data_range=2.0) == pytest.approx(20.0)           # range 2, MSE 0.04
    assert psnr(a, a + 25.5, data_range=255) == pytest.approx(20.0)
    assert psnr(a, a, data_range=1.0) == math.inf
    b = a.copy()
    b[1] += 0.01                                                            # image 0 exact, image 1 MSE 1e-4
    per_image = psnr(mg.tensor(a), b, data_range=1.0, per_image=True)
    assert per_image[0] == math.inf and per_image[1] == pytest.approx(40.0)
    with pytest.raises(ValueError, match=r"psnr: a and b must have the same shape, got \(2, 1, 4, 4\) and \(2, 4, 4\)"):
        psnr(a, a[:, 0], data_range=1.0)
