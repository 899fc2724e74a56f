"""Checkpoints of GPU tensors: saved from CuPy, loaded onto either device. Skipped without a GPU."""
import numpy as np
import pytest

import minigan as mg
from minigan.io import load, save

pytestmark = pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")


def test_gpu_tensors_round_trip_to_either_device(tmp_path):
    x = mg.randn(3, 4, device="cuda")
    save({"x": x, "raw": x.data}, tmp_path / "gpu.npz")
    on_gpu = load(tmp_path / "gpu.npz", device="cuda")
    on_cpu = load(tmp_path / "gpu.npz")
    assert on_gpu["x"].device == "cuda" and on_cpu["x"].device == "cpu"
    assert isinstance(on_gpu["raw"], np.ndarray)  # arrays come back as NumPy arrays
    np.testing.assert_array_equal(on_gpu["x"].numpy(), x.numpy())
    np.testing.assert_array_equal(on_cpu["x"].numpy(), x.numpy())
