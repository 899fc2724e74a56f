"""Data: MNIST / Fashion-MNIST (IDX files or the embedded subset), Stacked MNIST, 2-D toy
mixtures, and a seeded batch iterator.

    from minigan.data import load_dataset, DataLoader
    images, labels = load_dataset("mnist")               # (4500, 1, 28, 28) float32 in [-1, 1] embedded
    loader = DataLoader((images, labels), batch_size=64, seed=0)
"""
from minigan.data.idx import read_idx, write_idx
from minigan.data.mnist import load_mnist, read_mnist, embedded_path
from minigan.data.stacked import StackedMNIST
from minigan.data.toys import GaussianMixture, ring8, grid25, spiral, toy, TOYS
from minigan.data.loader import DataLoader

IMAGE_DATASETS = ("mnist", "fashion-mnist", "stacked-mnist")
DATASETS = IMAGE_DATASETS + tuple(TOYS)
TOY_SAMPLES = 100_000     # points drawn for a toy's training set when n is not given


def load_dataset(name, split="train", data_dir=None, n=None, seed=0):
    """`(x, labels)` for a dataset by name, ready for `DataLoader`.

    mnist, fashion-mnist: float32 images (N, 1, 28, 28) in [-1, 1] and digit labels (see `load_mnist`).
    stacked-mnist: a `StackedMNIST` of `n` (default 100,000) images (3, 28, 28) and its labels 0..999.
    ring8, grid25, spiral: `n` (default 100,000) float32 points (N, 2) and their mode indices; the
    test split is drawn from a different stream than the train split of the same seed.
    """
    if name in ("mnist", "fashion-mnist"):
        if n is not None:
            raise ValueError(f"load_dataset: {name} has a fixed size; n={n} applies to stacked-mnist and toys")
        return load_mnist(split, data_dir, name)
    if name == "stacked-mnist":
        stacked = StackedMNIST(100_000 if n is None else n, seed, split, data_dir)
        return stacked, stacked.labels
    if name in TOYS:
        if split not in ("train", "test"):
            raise ValueError(f"load_dataset: split must be 'train' or 'test', got {split!r}")
        return toy(name).sample(TOY_SAMPLES if n is None else n, seed=(int(seed), ("train", "test").index(split)))
    raise ValueError(f"unknown dataset {name!r}: expected one of {DATASETS}")
