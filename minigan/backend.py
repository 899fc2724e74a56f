"""Devices and array modules: "cpu" is NumPy, "cuda" is CuPy.

Ops never import NumPy or CuPy directly for array math; they ask `get_array_module` for the
module that owns their inputs, so one code path serves both devices.
"""
import os

import numpy as np

from minigan import cuda

try:  # CuPy is an optional extra; without it only "cpu" exists.
    import cupy as _cupy
except Exception:  # ImportError, or a CUDA driver that fails on import
    _cupy = None

DEVICES = ("cpu", "cuda")


def get_array_module(*arrays):
    """NumPy or CuPy, whichever owns the given arrays (NumPy for scalars)."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def device_of(array):
    """"cuda" for a CuPy array, "cpu" for anything else."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return "cuda"
    return "cpu"


def check_device(device):
    """Normalise a device name ("cuda:0" -> "cuda") and refuse unknown or unavailable ones."""
    name = str(device).split(":")[0]
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if name == "cuda" and not cuda.is_available():
        why = "CuPy is not installed" if _cupy is None else "no CUDA GPU is visible"
        raise RuntimeError(
            f"device 'cuda' was requested but {why}; install the GPU extra "
            "(pip install -e '.[cuda12]') on a machine with an NVIDIA GPU, or use device='cpu'")
    return name


def default_device():
    """The device new tensors land on: $MINIGAN_DEVICE, else "cpu"."""
    return check_device(os.environ.get("MINIGAN_DEVICE", "cpu"))


def array_module_for(device):
    return _cupy if check_device(device) == "cuda" else np


def to_device(array, device):
    """Copy an array to `device` (no copy when it is already there)."""
    device = check_device(device)
    if device == device_of(array):
        return array
    if device == "cuda":
        return _cupy.asarray(array)
    return _cupy.asnumpy(array)


def as_numpy(array):
    return _cupy.asnumpy(array) if device_of(array) == "cuda" else np.asarray(array)


# ---------------------------------------------------------------- random numbers, per device
_generators = {}


def generator(device):
    """The seeded generator of a device: numpy.random.Generator or cupy.random.RandomState."""
    device = check_device(device)
    if device not in _generators:
        _generators[device] = _new_generator(device, None)
    return _generators[device]


def _new_generator(device, seed):
    if device == "cuda":
        return _cupy.random.RandomState(seed)
    return np.random.default_rng(seed)


def manual_seed(seed):
    """Seed every device's generator, as `torch.manual_seed` does."""
    seed = int(seed)
    _generators["cpu"] = _new_generator("cpu", seed)
    if cuda.is_available():
        _generators["cuda"] = _new_generator("cuda", seed)


class fork_rng:
    """`with backend.fork_rng(seed):` — seeded generators inside the block, and the caller's
    generators untouched after it (a metric or a sample grid must not shift a training run)."""

    def __init__(self, seed):
        self.seed = seed

    def __enter__(self):
        self.saved = dict(_generators)
        manual_seed(self.seed)

    def __exit__(self, *exc):
        _generators.clear()
        _generators.update(self.saved)


def get_rng_state():
    """The CPU generator's state, a JSON-able dict (for bit-identical resume)."""
    return generator("cpu").bit_generator.state


def set_rng_state(state):
    rng = generator("cpu")
    rng.bit_generator.state = state
