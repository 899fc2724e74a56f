"""Mode histograms: how far a histogram of modes or classes is from uniform."""
import numpy as np


def kl_to_uniform(counts):
    """KL(p || uniform) in nats, where p is `counts` (one entry per mode, zeros included) normalised.

    0 for a uniform histogram, log(K) when everything falls in one of K modes; this is the "KL"
    of the Stacked MNIST tables (VEEGAN, PacGAN) and PacGAN's "reverse KL" on 2-D mixtures.
    NaN when the counts sum to zero (no samples to make a histogram of).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or len(counts) == 0:
        raise ValueError(f"kl_to_uniform: counts must be a non-empty 1-D array, got shape {counts.shape}")
    if (counts < 0).any():
        raise ValueError(f"kl_to_uniform: counts must be non-negative, got minimum {counts.min()}")
    total = counts.sum()
    if total == 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float(np.sum(p * np.log(p * len(counts))))
