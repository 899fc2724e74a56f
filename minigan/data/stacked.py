"""Stacked MNIST: three digits as the three channels of one image, 1,000 modes (VEEGAN, PacGAN).

    stacked = StackedMNIST(n=100_000, seed=0)
    stacked.labels                       # int64 (n,): 100 * d0 + 10 * d1 + d2
    stacked[:64]                         # float32 (64, 3, 28, 28), built on demand
    DataLoader((stacked, stacked.labels), batch_size=64)

Only the seeded (n, 3) choice of source digits is stored; images are gathered when indexed,
so a large n costs 24 bytes per sample rather than 9 KiB.
"""
import numpy as np

from minigan.data.mnist import load_mnist

N_MODES = 1000


class StackedMNIST:
    """`n` stacked-digit images drawn with `seed` from the MNIST `split` (files or embedded subset).

    Each channel's digit is drawn uniformly, independently, from the source split, so the 1,000
    labels are about equally frequent. `digits` (n, 3) holds the digit classes per channel.
    """

    def __init__(self, n=100_000, seed=0, split="train", data_dir=None, value_range=(-1.0, 1.0)):
        if int(n) != n or n < 1:
            raise ValueError(f"StackedMNIST: n must be a positive integer, got {n!r}")
        self.source_images, self.source_labels = load_mnist(split, data_dir, "mnist", value_range)
        rng = np.random.default_rng(seed)
        self.rows = rng.integers(0, len(self.source_images), size=(int(n), 3))
        self.digits = self.source_labels[self.rows]
        self.labels = self.digits @ np.array([100, 10, 1], dtype=np.int64)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        """Images (..., 3, 28, 28) for an int, slice or index array, in the source's value range."""
        rows = self.rows[index]
        return self.source_images[rows, 0]

    @property
    def shape(self):
        return (len(self), 3) + self.source_images.shape[2:]

    def __repr__(self):
        return f"StackedMNIST(n={len(self)}, source={len(self.source_images)} digits)"
