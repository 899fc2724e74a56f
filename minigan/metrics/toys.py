"""Mode coverage on 2-D Gaussian mixtures, as the VEEGAN and PacGAN papers measure it.

    from minigan.data import ring8
    toy = ring8()
    toy_mode_metrics(generated_points, toy.centers, toy.std)
    # {'modes_covered': 8, 'num_modes': 8, 'high_quality_fraction': 0.997, 'kl_to_uniform': 0.002, ...}
"""
import numpy as np

from minigan.metrics.histogram import kl_to_uniform
from minigan.metrics.inputs import host_array

HIGH_QUALITY_STDS = 3.0   # VEEGAN, GDPP ("within three standard deviations"), PacGAN (dis_thre=3)
MIN_COUNT = 1             # VEEGAN, GDPP and PacGAN's MetricLogger count a mode hit by >= 1 sample
_CHUNK = 65536            # rows per distance block, to bound memory on large sample sets


def toy_mode_metrics(points, centers, std, min_count=None, threshold=HIGH_QUALITY_STDS):
    """Modes covered and the fraction of high-quality samples of generated 2-D (or n-D) points.

    A sample is high quality when its nearest mode is within `threshold` (3) times `std`; it then
    counts for that mode. A mode is covered when at least `min_count` high-quality samples count
    for it. The default, 1, is the papers' definition (VEEGAN Table 1, GDPP Table 1, and PacGAN's
    `MetricLogger`, which counts modes with a nonzero histogram entry); pass e.g. 20 (of 2,500) for
    a stricter reading that ignores a few stray samples.

    points: (N, D) array or Tensor; centers: (K, D); std: one isotropic std for every mode.
    Returns a dict: `modes_covered`, `num_modes`, `high_quality_fraction`, `kl_to_uniform` (KL of
    the high-quality samples' mode histogram to uniform, PacGAN's "reverse KL"; NaN when there is
    no high-quality sample), `fewest_in_a_mode` and `most_in_a_mode` (the smallest and largest of
    the counts: a mode "covered" by a handful of samples shows up here) and `counts` (high-quality
    samples per mode, a list of K ints).
    """
    points = _as_2d(points, "points")
    centers = _as_2d(centers, "centers")
    if points.shape[1] != centers.shape[1]:
        raise ValueError(f"toy_mode_metrics: points have {points.shape[1]} coordinates but centers have "
                         f"{centers.shape[1]} (points shape {points.shape}, centers shape {centers.shape})")
    if len(points) == 0 or len(centers) == 0:
        raise ValueError(f"toy_mode_metrics: need at least one point and one center, got points shape "
                         f"{points.shape} and centers shape {centers.shape}")
    if not np.isscalar(std) or not std > 0:
        raise ValueError(f"toy_mode_metrics: std must be a positive number, got {std!r}")
    min_count = MIN_COUNT if min_count is None else min_count
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(f"toy_mode_metrics: min_count must be a positive integer, got {min_count!r}")

    counts = np.zeros(len(centers), dtype=np.int64)
    limit = (threshold * std) ** 2
    for start in range(0, len(points), _CHUNK):
        block = points[start:start + _CHUNK]
        squared = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)   # (n, K)
        nearest = squared.argmin(axis=1)
        close = squared[np.arange(len(block)), nearest] < limit       # NaN points are never close
        counts += np.bincount(nearest[close], minlength=len(centers))
    return {"modes_covered": int((counts >= min_count).sum()),
            "num_modes": len(centers),
            "high_quality_fraction": float(counts.sum() / len(points)),
            "kl_to_uniform": kl_to_uniform(counts),
            "fewest_in_a_mode": int(counts.min()),
            "most_in_a_mode": int(counts.max()),
            "counts": counts.tolist()}


def _as_2d(array, name):
    array = host_array(array, np.float64)
    if array.ndim != 2:
        raise ValueError(f"toy_mode_metrics: {name} must be a 2-D array (N, D), got shape {array.shape}")
    return array
