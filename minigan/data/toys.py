"""2-D Gaussian mixtures for mode-collapse studies: `ring8`, `grid25`, `spiral`.

    toy = ring8()
    points, modes = toy.sample(10_000, seed=0)    # float32 (N, 2), int64 mode index per point
    toy.centers, toy.std                           # what the mode-coverage metrics measure against

Every mixture has equal weights and one isotropic std. ring8 and grid25 are the settings of the
VEEGAN and PacGAN papers (8 modes on a circle of radius 2 with std 0.02; a 5x5 grid at -4..4
with std 0.05). `spiral` is minigan's own: 20 modes along an Archimedean spiral, std 0.05.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
    """Equal-weight isotropic Gaussians: `centers` (K, 2) float64, one `std` for every mode."""
    name: str
    centers: np.ndarray
    std: float

    @property
    def n_modes(self):
        return len(self.centers)

    def sample(self, n, seed=0):
        """`n` points and the mode each came from: float32 (n, 2), int64 (n,).

        `seed` is an int, a tuple of ints (as `numpy.random.default_rng` takes), or a Generator.
        """
        if int(n) != n or n < 0:
            raise ValueError(f"{self.name}.sample: n must be a non-negative integer, got {n!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        modes = rng.integers(0, self.n_modes, size=int(n))
        points = self.centers[modes] + self.std * rng.standard_normal((int(n), 2))
        return points.astype(np.float32), modes.astype(np.int64)


def ring8(radius=2.0, std=0.02):
    """8 modes evenly spaced on a circle (the first at angle 0)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return GaussianMixture("ring8", radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std)


def grid25(std=0.05):
    """25 modes on the 5x5 grid {-4, -2, 0, 2, 4}^2."""
    ticks = np.arange(-4.0, 5.0, 2.0)
    xs, ys = np.meshgrid(ticks, ticks, indexing="ij")
    return GaussianMixture("grid25", np.stack([xs.ravel(), ys.ravel()], axis=1), std)


def spiral(n_modes=20, turns=1.5, std=0.05):
    """Modes along the spiral r = theta / pi from r = 1 outwards (`turns` turns, to r = 1 + 2 turns).

    Arc length grows as theta squared, so theta is spaced evenly in theta**2: neighbouring modes
    sit about equally far apart (1.22 to 1.24 at the defaults, arms 2 apart), far beyond 3 std.
    """
    start, stop = np.pi, np.pi + 2 * np.pi * turns
    theta = np.sqrt(np.linspace(start ** 2, stop ** 2, n_modes))
    radius = theta / np.pi
    return GaussianMixture("spiral", np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1), std)


TOYS = {"ring8": ring8, "grid25": grid25, "spiral": spiral}


def toy(name):
    """The mixture called `name`: one of ring8, grid25, spiral."""
    if name not in TOYS:
        raise ValueError(f"unknown toy dataset {name!r}: expected one of {tuple(TOYS)}")
    return TOYS[name]()
