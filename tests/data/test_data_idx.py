"""MNIST-format IDX files: reading raw and .gz, folder layouts, and errors that name the file."""
import gzip
import os
import struct

import numpy as np
import pytest

from minigan.data import load_mnist, read_idx, write_idx

NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def idx_bytes(array, magic=None):
    """An IDX file's bytes, written by hand: magic, big-endian uint32 sizes, uint8 values."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x08 << 8) | array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write(path, content):
    if str(path).endswith(".gz"):
        content = gzip.compress(content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def fake_split(folder, split="train", n=5, gz=False, seed=0):
    """Random 28x28 images and labels written as the split's two IDX files; returns them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    write(folder / (NAMES[split][0] + suffix), idx_bytes(images))
    write(folder / (NAMES[split][1] + suffix), idx_bytes(labels))
    return images, labels


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_reads_both_splits_raw_and_gz(tmp_path, split, gz):
    pixels, digits = fake_split(tmp_path, split, n=7, gz=gz)
    images, labels = load_mnist(split, data_dir=tmp_path)
    assert images.shape == (7, 1, 28, 28) and images.dtype == np.float32
    assert labels.dtype == np.int64 and labels.tolist() == digits.tolist()
    np.testing.assert_allclose(images[:, 0], pixels / 127.5 - 1.0, atol=1e-6)
    unit, _ = load_mnist(split, data_dir=tmp_path, value_range=(0, 1))
    np.testing.assert_allclose(unit[:, 0], pixels / 255.0, atol=1e-6)
    assert unit.min() >= 0 and unit.max() <= 1


@pytest.mark.parametrize("dataset, layout", [("mnist", "mnist"), ("mnist", "MNIST/raw"),
                                             ("fashion-mnist", "fashion-mnist"),
                                             ("fashion-mnist", "FashionMNIST/raw")])
def test_dataset_subfolders_win_over_the_root(tmp_path, dataset, layout):
    fake_split(tmp_path, n=3, seed=1)                          # something else at the root
    _, digits = fake_split(tmp_path / layout, n=4, seed=2)
    _, labels = load_mnist(data_dir=tmp_path, dataset=dataset)
    assert labels.tolist() == digits.tolist()


def test_minigan_data_environment_variable(tmp_path, monkeypatch):
    _, digits = fake_split(tmp_path / "fashion-mnist", n=6, gz=True)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    _, labels = load_mnist(dataset="fashion-mnist")
    assert labels.tolist() == digits.tolist()


def test_read_idx_other_value_types(tmp_path):
    values = np.arange(-6, 6, dtype=">i4").reshape(3, 4)
    content = struct.pack(">I", (0x0C << 8) | 2) + struct.pack(">2I", 3, 4) + values.tobytes()
    write(tmp_path / "ints-idx2-int", content)
    array = read_idx(tmp_path / "ints-idx2-int")
    assert array.shape == (3, 4) and array.tolist() == values.tolist()


# ----------------------------------------------------------------------------------- errors
def test_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data folder .*nowhere.* does not exist"):
        load_mnist(data_dir=tmp_path / "nowhere")


def test_missing_images_file_names_it(tmp_path):
    fake_split(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match=r"no t10k-images-idx3-ubyte \(or t10k-images-idx3-ubyte.gz\)"):
        load_mnist("test", data_dir=tmp_path)


def test_missing_labels_file_names_it(tmp_path):
    fake_split(tmp_path)
    os.remove(tmp_path / NAMES["train"][1])
    with pytest.raises(FileNotFoundError, match=r"train-labels-idx1-ubyte\[\.gz\] are missing"):
        load_mnist(data_dir=tmp_path)


def test_wrong_magic_number_names_the_file(tmp_path):
    fake_split(tmp_path)
    labels = np.zeros(5, dtype=np.uint8)
    write(tmp_path / NAMES["train"][0], idx_bytes(labels))           # a labels file as images
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: wrong magic number 0x00000801 .*expected "
                                         r"0x00000803 \(2051\)"):
        load_mnist(data_dir=tmp_path)


def test_not_an_idx_file(tmp_path):
    fake_split(tmp_path)
    write(tmp_path / NAMES["train"][1], b"<html>not found</html>")
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: wrong magic number .*not an IDX file"):
        load_mnist(data_dir=tmp_path)


@pytest.mark.parametrize("keep", [2, 10, 100])
def test_truncated_file_names_it(tmp_path, keep):
    fake_split(tmp_path)
    path = tmp_path / NAMES["train"][0]
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated"):
        load_mnist(data_dir=tmp_path)


def test_truncated_payload_says_how_much(tmp_path):
    fake_split(tmp_path)
    path = tmp_path / NAMES["train"][0]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"promises 5 x 28 x 28 values \(3920 bytes\) but only 3910 bytes follow"):
        load_mnist(data_dir=tmp_path)


def test_truncated_gzip_names_it(tmp_path):
    fake_split(tmp_path, gz=True)
    path = tmp_path / (NAMES["train"][0] + ".gz")
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: the gzip stream is truncated or corrupt"):
        load_mnist(data_dir=tmp_path)


def test_trailing_bytes_are_refused(tmp_path):
    fake_split(tmp_path)
    path = tmp_path / NAMES["train"][1]
    path.write_bytes(path.read_bytes() + b"\0\0\0")
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: 3 unexpected bytes after the 5 values"):
        load_mnist(data_dir=tmp_path)


def test_count_mismatch_names_both_files(tmp_path):
    fake_split(tmp_path, n=5)
    write(tmp_path / NAMES["train"][1], idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte holds 5 images but .*train-labels-idx1-ubyte "
                                         r"holds 4 labels"):
        load_mnist(data_dir=tmp_path)


def test_label_outside_digits_names_the_file(tmp_path):
    fake_split(tmp_path, n=3)
    write(tmp_path / NAMES["train"][1], idx_bytes(np.array([1, 2, 42], dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: label 42 is outside 0..9"):
        load_mnist(data_dir=tmp_path)


def test_fashion_mnist_needs_files(monkeypatch):
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"fashion-mnist has no embedded copy: pass data_dir="):
        load_mnist(dataset="fashion-mnist")


@pytest.mark.parametrize("kwargs, message", [({"split": "valid"}, r"split must be one of \('train', 'test'\)"),
                                             ({"dataset": "cifar"}, r"dataset must be one of"),
                                             ({"value_range": (1, -1)}, r"value_range must have low < high"),
                                             ({"value_range": 3}, r"value_range must be a pair")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(**kwargs)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_idx_writes_what_load_mnist_reads(tmp_path, suffix):
    pixels = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / (NAMES["test"][0] + suffix), pixels)
    write_idx(tmp_path / (NAMES["test"][1] + suffix), np.array([3, 9]))
    images, labels = load_mnist("test", data_dir=tmp_path, value_range=(0, 255))
    assert labels.tolist() == [3, 9] and np.array_equal(images[:, 0], pixels)
    if not suffix:
        assert (tmp_path / NAMES["test"][1]).read_bytes() == idx_bytes(np.array([3, 9]))
