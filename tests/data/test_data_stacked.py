"""Stacked MNIST: three source digits per image, label 100*d0 + 10*d1 + d2, 1,000 modes."""
import numpy as np
import pytest

from minigan.data import DataLoader, StackedMNIST, load_dataset, load_mnist


@pytest.fixture(autouse=True)
def no_data_dir(monkeypatch):
    monkeypatch.delenv("MINIGAN_DATA", raising=False)


def test_channels_are_source_digits_and_the_label_spells_them():
    stacked = StackedMNIST(n=40, seed=5)
    source, source_labels = load_mnist("train")
    images = stacked[:]
    assert images.shape == (40, 3, 28, 28) and images.dtype == np.float32 and stacked.shape == (40, 3, 28, 28)
    assert stacked.labels.dtype == np.int64
    flat_source = source.reshape(len(source), -1)
    for image, label in zip(images[:10], stacked.labels[:10]):
        digits = []
        for channel in image:
            match = np.flatnonzero((flat_source == channel.ravel()).all(axis=1))
            assert len(match) >= 1                           # each channel is a real digit
            digits.append(int(source_labels[match[0]]))
        assert label == 100 * digits[0] + 10 * digits[1] + digits[2]


def test_indexing_an_int_and_an_array():
    stacked = StackedMNIST(n=10, seed=0)
    assert stacked[3].shape == (3, 28, 28)
    assert (stacked[np.array([3, 1])][0] == stacked[3]).all()


def test_seeded_and_all_modes_reachable():
    first = StackedMNIST(n=20_000, seed=1)
    again = StackedMNIST(n=20_000, seed=1)
    other = StackedMNIST(n=20_000, seed=2)
    assert (first.labels == again.labels).all() and not (first.labels == other.labels).all()
    assert len(np.unique(first.labels)) == 1000              # 20 draws per mode: all hit
    assert first.labels.min() >= 0 and first.labels.max() <= 999


def test_through_the_loader_and_by_name():
    stacked, labels = load_dataset("stacked-mnist", n=100, seed=0)
    x, y = DataLoader((stacked, labels), batch_size=16, seed=0).next_batch()
    assert x.shape == (16, 3, 28, 28) and y.shape == (16,)
    assert stacked.source_images.shape[0] == 4500            # the embedded train split by default


def test_bad_n():
    with pytest.raises(ValueError, match=r"StackedMNIST: n must be a positive integer, got 0"):
        StackedMNIST(n=0)
