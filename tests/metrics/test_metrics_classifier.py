"""The metrics classifier: trained with minigan, seeded, cached on disk, RNG-neutral."""
import os

import numpy as np
import pytest

import minigan as mg
from minigan.data import load_mnist
from minigan.metrics import DigitClassifier, cache_dir, classifier, embed, predict_classes, train_classifier
from minigan.metrics import digit_classifier as classifier_module


def test_tiny_classifier_reads_held_out_digits(tiny_classifier):
    images, labels = load_mnist("test")
    accuracy = (predict_classes(images, tiny_classifier) == labels).mean()
    assert accuracy > 0.85
    assert tiny_classifier.test_accuracy == pytest.approx(accuracy)
    assert isinstance(tiny_classifier, DigitClassifier) and not tiny_classifier.training


def test_features_and_logits_shapes(tiny_classifier):
    images, _ = load_mnist("test")
    x = mg.tensor(images[:7])
    assert tiny_classifier.features(x).shape == (7, 128)
    assert tiny_classifier(x).shape == (7, 10)
    assert embed(images[:7], tiny_classifier).shape == (7, 128)


def test_second_call_reads_the_cache_instead_of_training(tiny_classifier, tiny_cache, tiny_steps, monkeypatch):
    names = os.listdir(tiny_cache)
    assert len(names) == 1 and names[0].startswith("classifier-mnist-4500-")
    assert names[0].endswith(f"-v{classifier_module.VERSION}-steps{tiny_steps}-seed0.npz")

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although the cache holds the model")
    monkeypatch.setattr(classifier_module, "train_classifier", no_training)
    again = classifier("mnist", steps=tiny_steps, cache=tiny_cache, verbose=False)
    for (name, a), (_, b) in zip(tiny_classifier.state_dict().items(), again.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert again.test_accuracy == tiny_classifier.test_accuracy


def test_cache_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "here"))
    assert cache_dir() == str(tmp_path / "here")
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == os.path.join(str(tmp_path), ".cache", "minigan")


def test_training_is_seeded_and_leaves_the_global_generator_alone():
    mg.manual_seed(5)
    expected = mg.randn(4).numpy()
    mg.manual_seed(5)
    first = train_classifier(steps=1, seed=0)
    assert np.array_equal(mg.randn(4).numpy(), expected)
    second = train_classifier(steps=1, seed=0)
    other = train_classifier(steps=1, seed=1)
    weights = [m.state_dict()["head.weight"].numpy() for m in (first, second, other)]
    assert np.array_equal(weights[0], weights[1]) and not np.array_equal(weights[0], weights[2])


def test_unreadable_cache_is_trained_again(tmp_path, monkeypatch):
    calls = []
    real_training = classifier_module.train_classifier
    monkeypatch.setattr(classifier_module, "train_classifier", lambda *a: calls.append(a) or real_training(*a))
    classifier("mnist", steps=1, cache=tmp_path, verbose=False)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not a checkpoint")
    model = classifier("mnist", steps=1, cache=tmp_path, verbose=False)
    assert len(calls) == 2 and model.test_accuracy is not None
    assert mg.load(path)["steps"] == 1       # rewritten, readable again


def test_cached_model_stays_float32_under_a_float64_default(tiny_cache, tiny_steps, float64):
    model = classifier("mnist", steps=tiny_steps, cache=tiny_cache, verbose=False)
    assert model.head.weight.dtype == np.float32
    images, _ = load_mnist("test")
    assert predict_classes(images[:3].astype(np.float64), model).shape == (3,)


def test_errors_name_the_problem(tiny_classifier):
    with pytest.raises(ValueError, match=r"classifier: dataset must be one of \('mnist', 'fashion-mnist'\), got 'cifar'"):
        classifier("cifar")
    with pytest.raises(ValueError, match=r"predict_classes: images must be \(N, C, H, W\), got shape \(2, 28, 28\)"):
        predict_classes(np.zeros((2, 28, 28)), tiny_classifier)
    with pytest.raises(ValueError, match=r"embed: images must be 28x28, got shape \(2, 1, 32, 32\)"):
        embed(np.zeros((2, 1, 32, 32)), tiny_classifier)
    with pytest.raises(ValueError, match=r"train_classifier: steps must be a positive integer, got 0"):
        train_classifier(steps=0)
