"""The digit classifier behind the image metrics: a small CNN trained with minigan itself.

    model = classifier("mnist")          # trained once (~20 s on 2 CPU cores), then read from the cache
    model.test_accuracy                  # accuracy on the held-out split
    logits = model(x)                    # x: (N, 1, 28, 28) in [-1, 1] -> (N, 10)
    features = model.features(x)         # (N, 128): the penultimate layer, for classifier FID

It trains on the train split of `dataset` (the embedded 4,500 MNIST digits unless `data_dir` or
$MINIGAN_DATA points at IDX files), seeded, and is saved with `mg.save` in `$MINIGAN_CACHE` (default
`~/.cache/minigan/`) under a name that holds the dataset, a fingerprint of its training images, the
recipe `VERSION`, the steps and the seed; change any of them and it is trained again.
"""
import hashlib
import os
import sys
import time

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import backend, nn, optim
from minigan.data import DataLoader, load_mnist, read_mnist
from minigan.io import CheckpointError
from minigan.metrics.inputs import image_batch

VERSION = "1"            # bump when the network or the training recipe changes: old caches are ignored
TRAIN_STEPS = 1200       # ~17 epochs of the embedded 4,500 digits, ~1.3 of the full 60,000
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
MAX_SHIFT = 2            # random translations of up to 2 pixels: generated digits are rarely centred exactly
DATASETS = ("mnist", "fashion-mnist")
EVAL_BATCH = 500


class DigitClassifier(nn.Module):
    """(N, 1, 28, 28) images in [-1, 1] -> (N, 10) logits.

    conv 3x3 (16) -> max-pool -> conv 3x3 (32) -> max-pool -> linear 128 (the features) -> linear 10.
    """

    def __init__(self, num_classes=10, feature_dim=128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)
        self.test_accuracy = None    # set by training, or read from the cache
        self.train_seconds = None

    def features(self, x):
        """The penultimate layer, (N, feature_dim)."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


# ------------------------------------------------------------------------------ the cached model
def cache_dir():
    """Where trained classifiers live: $MINIGAN_CACHE, else ~/.cache/minigan."""
    return os.path.expanduser(os.environ.get("MINIGAN_CACHE") or os.path.join("~", ".cache", "minigan"))


def classifier(dataset="mnist", data_dir=None, steps=TRAIN_STEPS, seed=0, cache=None, device=None, verbose=True):
    """The trained classifier for `dataset` ("mnist" or "fashion-mnist") in eval mode on `device`.

    Read from `cache` (a folder, default `cache_dir()`) when it holds one trained with the same data,
    recipe, `steps` and `seed`; otherwise trained now (`verbose` says so on stderr) and saved there.
    """
    if dataset not in DATASETS:
        raise ValueError(f"classifier: dataset must be one of {DATASETS}, got {dataset!r}")
    folder = cache_dir() if cache is None else os.path.expanduser(os.fspath(cache))
    path = os.path.join(folder, f"classifier-{dataset}-{_fingerprint(dataset, data_dir)}-v{VERSION}"
                                f"-steps{int(steps)}-seed{int(seed)}.npz")
    model = _read_cached(path)
    if model is None:
        if verbose:
            print(f"training the {dataset} metrics classifier ({steps} steps, once; cached in {path})",
                  file=sys.stderr, flush=True)
        model = train_classifier(dataset, data_dir, steps, seed)
        os.makedirs(folder, exist_ok=True)
        mg.save({"version": VERSION, "dataset": dataset, "steps": int(steps), "seed": int(seed),
                 "test_accuracy": model.test_accuracy, "train_seconds": model.train_seconds,
                 "state": model.state_dict()}, path)
        if verbose:
            print(f"metrics classifier: {model.test_accuracy:.2%} held-out accuracy after "
                  f"{model.train_seconds:.0f} s", file=sys.stderr, flush=True)
    if device is not None:
        model.to(device)
    return model.eval()


def _fingerprint(dataset, data_dir):
    """A short hash of the training split, so other data (other files, the full set) gets its own cache."""
    pixels, labels = read_mnist("train", data_dir, dataset)
    digest = hashlib.sha1(np.ascontiguousarray(pixels).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return f"{len(labels)}-{digest.hexdigest()[:10]}"


def _read_cached(path):
    """The model stored at `path`, or None when there is none (or it is unreadable: it is retrained)."""
    if not os.path.exists(path):
        return None
    try:
        saved = mg.load(path)
        if saved.get("version") != VERSION:
            return None
        model = DigitClassifier().to(mg.float32)
        model.load_state_dict(saved["state"])
    except (CheckpointError, KeyError, RuntimeError, AttributeError) as error:
        print(f"metrics classifier cache {path} is unusable ({error}); training again", file=sys.stderr)
        return None
    model.test_accuracy = float(saved["test_accuracy"])
    model.train_seconds = float(saved["train_seconds"])
    return model


# ------------------------------------------------------------------------------------- training
def train_classifier(dataset="mnist", data_dir=None, steps=TRAIN_STEPS, seed=0):
    """A freshly trained `DigitClassifier` (float32, CPU) with `test_accuracy` and `train_seconds` set.

    Adam 1e-3, batches of 64, each digit shifted by up to `MAX_SHIFT` pixels. The global random
    generators are left as they were, so training a classifier in the middle of a run changes nothing.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"train_classifier: steps must be a positive integer, got {steps!r}")
    images, labels = load_mnist("train", data_dir, dataset)
    test_images, test_labels = load_mnist("test", data_dir, dataset)
    started = time.perf_counter()
    with backend.fork_rng(seed):
        model = DigitClassifier().to(mg.float32)
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = DataLoader((images, labels), BATCH_SIZE, seed=seed, device="cpu")
    shifts = np.random.default_rng((seed, 1))
    for _ in range(int(steps)):
        x, y = loader.next_batch()
        x = mg.tensor(_shifted(x.numpy(), shifts))
        loss = F.cross_entropy(model(x), y.to(x.device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.train_seconds = time.perf_counter() - started
    model.eval()
    model.test_accuracy = float((predict_classes(test_images, model) == test_labels).mean())
    return model


def _shifted(images, rng):
    """Each image moved by its own random (dy, dx) in [-MAX_SHIFT, MAX_SHIFT], background filled in."""
    m = MAX_SHIFT
    padded = np.pad(images, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=images.min())
    offsets = rng.integers(0, 2 * m + 1, size=(len(images), 2))
    return np.stack([p[:, dy:dy + images.shape[2], dx:dx + images.shape[3]]
                     for p, (dy, dx) in zip(padded, offsets)])



# ------------------------------------------------------------------------------------ inference
def embed(images, model, batch_size=EVAL_BATCH):
    """`model.features` of single-channel digit images (N, 1, 28, 28) in [-1, 1]: float64 (N, D)."""
    return _run(images, model, model.features, "embed", batch_size)


def predict_classes(images, model, batch_size=EVAL_BATCH):
    """The class with the largest logit for each image (N, 1, 28, 28) in [-1, 1]: int64 (N,)."""
    return _run(images, model, model, "predict_classes", batch_size).argmax(axis=1)


def _run(images, model, function, op, batch_size):
    images = image_batch(images, op, channels=1, size=(28, 28))
    parameter = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    device = parameter.device if parameter is not None else "cpu"
    dtype = parameter.dtype if parameter is not None else np.float32
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    outputs = []
    try:
        with mg.no_grad():
            for start in range(0, len(images), batch_size):
                x = mg.tensor(images[start:start + batch_size], dtype=dtype, device=device)
                outputs.append(function(x).numpy().astype(np.float64))
    finally:
        if was_training:
            model.train()
    return np.concatenate(outputs)
