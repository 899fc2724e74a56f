"""Image metrics on digits: classifier-feature FID, class coverage, Stacked MNIST modes, PSNR.

    model = classifier("mnist")
    classifier_fid(fake, real, model)          # Frechet distance of the 128-d classifier features
    class_coverage(fake, model)                # classes with >= 1% of the samples, KL to uniform
    stacked_mnist_modes(fake_rgb, model)       # modes out of 1,000 and KL to uniform
    image_metrics(fake, "mnist")               # all of it, with the real-vs-real FID floor

Images are NumPy/CuPy arrays or Tensors (N, C, 28, 28) in [-1, 1], as a tanh generator makes them.
These FIDs use minigan's own classifier, not Inception-v3: compare them with each other, never with
published FIDs.
"""
import numpy as np

from minigan.data import load_mnist
from minigan.metrics.digit_classifier import classifier, embed, predict_classes
from minigan.metrics.histogram import kl_to_uniform
from minigan.metrics.inputs import host_array, image_batch

NUM_CLASSES = 10
STACKED_MODES = 1000


# ------------------------------------------------------------------------------------------- FID
def gaussian_fit(features):
    """Mean (D,) and covariance (D, D) of the rows of `features` (N, D), N >= 2, in float64."""
    features = host_array(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"gaussian_fit: features must be (N, D) with N >= 2, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])


def frechet_distance(mean1, cov1, mean2, cov2):
    """||mean1 - mean2||^2 + Tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2)), the Frechet distance of two Gaussians.

    Tr((cov1 cov2)^(1/2)) is taken as the trace of the square root of S cov2 S with S = cov1^(1/2):
    the same eigenvalues, but a symmetric matrix, so `eigh` gives them real and rounding can only
    leave tiny negatives (clipped to 0) instead of the complex parts `scipy.linalg.sqrtm` produces
    on near-singular covariances such as ReLU features with dead units.
    """
    mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    d = mean1.shape[0]
    if mean1.shape != (d,) or mean2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"frechet_distance: expected means (D,) and covariances (D, D) with one D, got "
                         f"{mean1.shape}, {cov1.shape}, {mean2.shape}, {cov2.shape}")
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    distance = np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_root
    return float(max(distance, 0.0))


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def classifier_fid(fake_images, real_images, model):
    """FID between the Gaussian fits of `model.features` on two sets of digit images (N, 1, 28, 28).

    0 for identical sets; it grows as the fake set's features drift from the real set's. It is
    biased upwards for small sets: compare values only at equal set sizes (`image_metrics` does).
    """
    fake = image_batch(fake_images, "classifier_fid: fake_images", channels=1, size=(28, 28))
    real = image_batch(real_images, "classifier_fid: real_images", channels=1, size=(28, 28))
    return frechet_distance(*gaussian_fit(embed(fake, model)), *gaussian_fit(embed(real, model)))


# ------------------------------------------------------------------------------------- coverage
def class_coverage(fake_images, model, min_fraction=0.01):
    """How the predicted classes of digit images (N, 1, 28, 28) spread over the 10 classes.

    Returns `classes_covered` (classes with at least `min_fraction` of the samples), `num_classes`,
    `kl_to_uniform` (KL of the predicted-class histogram to uniform, 0 when balanced, log 10 = 2.30
    when collapsed to one class) and `histogram` (the fraction of samples per class, 10 floats).
    """
    if not 0 <= min_fraction <= 1:
        raise ValueError(f"class_coverage: min_fraction must be in [0, 1], got {min_fraction!r}")
    images = image_batch(fake_images, "class_coverage", channels=1, size=(28, 28))
    counts = np.bincount(predict_classes(images, model), minlength=NUM_CLASSES)
    histogram = counts / counts.sum()
    return {"classes_covered": int((histogram >= min_fraction).sum()), "num_classes": NUM_CLASSES,
            "kl_to_uniform": kl_to_uniform(counts), "histogram": histogram.tolist()}


def label_accuracy(fake_images, labels, model):
    """The fraction of conditionally generated digits (N, 1, 28, 28) that `model` reads as the
    label (N,) they were generated for."""
    images = image_batch(fake_images, "label_accuracy", channels=1, size=(28, 28))
    labels = host_array(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"label_accuracy: need one label per image, got labels of shape {labels.shape} "
                         f"for images of shape {images.shape}")
    return float((predict_classes(images, model) == labels).mean())


def stacked_mnist_modes(fake_images, model):
    """Modes of Stacked MNIST images (N, 3, 28, 28): each channel's digit is classified and the
    three make mode 100 d0 + 10 d1 + d2 of 1,000.

    Returns `modes_covered` (modes with at least one sample, as VEEGAN and PacGAN count them),
    `num_modes` (1,000), `kl_to_uniform` (KL of the mode histogram to uniform) and `num_samples`.
    The papers use 26,000 samples; with fewer, even a perfect generator misses some modes.
    """
    images = image_batch(fake_images, "stacked_mnist_modes", channels=3, size=(28, 28))
    digits = predict_classes(images.reshape(-1, 1, 28, 28), model).reshape(-1, 3)
    modes = digits @ np.array([100, 10, 1])
    counts = np.bincount(modes, minlength=STACKED_MODES)
    return {"modes_covered": int((counts > 0).sum()), "num_modes": STACKED_MODES,
            "kl_to_uniform": kl_to_uniform(counts), "num_samples": len(images)}


# ------------------------------------------------------------------------------- all at once
def image_metrics(fake_images, dataset="mnist", n_real=None, model=None, data_dir=None, seed=0,
                  min_fraction=0.01, value_range=(-1, 1)):
    """Every image metric of generated samples of `dataset` ("mnist", "fashion-mnist", "stacked-mnist").

    The held-out real images (`n_real` of them, default all, in a seeded order) are split into two
    disjoint halves A and B. `fid` compares n fakes with A, and `fid_real_floor` compares n images of
    B with A, where n = min(fakes, |B|): the floor is what a perfect generator would score at that
    size. For stacked-mnist the FID is over single channels (every channel a digit), and the modes
    out of 1,000 are added. `model` defaults to the cached `classifier` (MNIST's for stacked-mnist).
    `value_range` is the fakes' range, e.g. (0, 1) for the arrays `minigan sample --npy` writes.
    """
    source = "mnist" if dataset == "stacked-mnist" else dataset
    if source not in ("mnist", "fashion-mnist"):
        raise ValueError(f"image_metrics: dataset must be mnist, fashion-mnist or stacked-mnist, got {dataset!r}")
    channels = 3 if dataset == "stacked-mnist" else 1
    fake = image_batch(fake_images, "image_metrics", channels=channels, size=(28, 28))
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"image_metrics: value_range must be (low, high) with low < high, got {value_range!r}")
    if (low, high) != (-1.0, 1.0):
        fake = (fake - np.float32(low)) * np.float32(2 / (high - low)) - np.float32(1)
    model = classifier(source, data_dir) if model is None else model
    real, _ = load_mnist("test", data_dir, source)
    real = real[np.random.default_rng(seed).permutation(len(real))][:n_real]
    if len(real) < 4:
        raise ValueError(f"image_metrics: need at least 4 real images for two halves, got {len(real)} (n_real={n_real})")
    half_a, half_b = real[:len(real) // 2], real[len(real) // 2:]
    fake_digits = fake.reshape(-1, 1, 28, 28)
    n = min(len(fake_digits), len(half_b))
    if n < 2:
        raise ValueError(f"image_metrics: FID needs at least 2 generated digits, got {len(fake_digits)}")
    features_a = gaussian_fit(embed(half_a, model))
    results = {"fid": frechet_distance(*gaussian_fit(embed(fake_digits[:n], model)), *features_a),
               "fid_real_floor": frechet_distance(*gaussian_fit(embed(half_b[:n], model)), *features_a),
               "fid_samples": n}
    if dataset == "stacked-mnist":
        results.update(stacked_mnist_modes(fake, model))
    else:
        results.update(class_coverage(fake, model, min_fraction))
    results["classifier_test_accuracy"] = getattr(model, "test_accuracy", None)
    return results


# ------------------------------------------------------------------------------------------ PSNR
def psnr(a, b, data_range, per_image=False):
    """Peak signal-to-noise ratio 10 log10(data_range^2 / MSE) in dB; inf where a equals b.

    `data_range` is max - min of the value range (2 for [-1, 1], 1 for [0, 1], 255 for bytes).
    One value over all elements, or with `per_image` one per image (first axis), as an array.
    """
    a, b = host_array(a, np.float64), host_array(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"psnr: a and b must have the same shape, got {a.shape} and {b.shape}")
    if not data_range > 0:
        raise ValueError(f"psnr: data_range must be positive, got {data_range!r}")
    if per_image and a.ndim < 2:
        raise ValueError(f"psnr: per_image needs a batch (N, ...), got shape {a.shape}")
    axes = tuple(range(1, a.ndim)) if per_image else None
    mse = np.mean((a - b) ** 2, axis=axes)
    with np.errstate(divide="ignore"):
        values = 10 * np.log10(data_range ** 2 / mse)
    return values if per_image else float(values)
