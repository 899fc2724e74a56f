"""Helpers for tests/kernels: build kernels/*.cpp with g++ into a temp dir, and let
minigan.conv_kernels launch the emulated kernels as if they were CuPy RawKernels: NumPy arrays
stand in for CuPy arrays, and each "kernel" is the same .cu code compiled for the CPU
(kernels/cuda_emulation.h). The fixtures that use them are in conftest.py."""
import ctypes
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest

from minigan import conv_kernels

KERNELS_DIR = Path(__file__).resolve().parents[2] / "kernels"
# Small tiles for the emulated build: 16 OS threads per block instead of 256, so a test launch
# takes milliseconds. They keep the kernels' constraints (TileLayout in conv2d.cu): whole 4 x 4
# pieces, columns split evenly over the threads (the skinny tile: 8 threads owning 4 columns each).
SMALL_TILES = {"wide": (32, 8, 4), "narrow": (16, 16, 8), "skinny": (4, 32, 4)}
SMALL_SUM_THREADS = 8
CONV_SHAPE_FIELDS = 17  # ConvShape's 16 ints + splits


def compile_library(source, out_dir, defines=()):
    """g++ `kernels/<source>` into a shared library; skips the test when g++ is missing."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not installed: the CUDA emulation cannot be built")
    library = Path(out_dir) / (Path(source).stem + ".so")
    command = [compiler, "-std=c++17", "-O1", "-shared", "-fPIC", "-pthread", "-Wall", "-Wno-unknown-pragmas",
               *(f"-D{d}" for d in defines), str(KERNELS_DIR / source), "-o", str(library)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"
    assert "warning" not in result.stderr, result.stderr
    return ctypes.CDLL(str(library))


class DeviceArray(np.ndarray):
    """A NumPy array that answers `.device` like a CuPy array on device 0."""

    @property
    def device(self):
        return FAKE_DEVICE


class _FakeDevice:
    id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


FAKE_DEVICE = _FakeDevice()


def fake_cupy():
    """The slice of CuPy that conv_kernels uses. New arrays start as NaN: an output element a
    kernel forgets to write shows up in every comparison."""
    return types.SimpleNamespace(
        empty=lambda shape, dtype: np.full(shape, np.nan, dtype).view(DeviceArray),
        ascontiguousarray=lambda a: np.ascontiguousarray(a).view(DeviceArray),
        cuda=types.SimpleNamespace(Device=lambda device_id: FAKE_DEVICE))


class EmulatedFunction:
    """Called like cupy.RawKernel: (grid, block, args), args as conv_kernels passes them."""

    def __init__(self, library, name, launches):
        self.name = name
        self.function = getattr(library, "emulate_" + name)
        self.launches = launches  # every launch is recorded, for tests of the plans

    def __call__(self, grid, block, args):
        assert len(grid) == 3 and tuple(block[1:]) == (1, 1), (grid, block)
        self.launches.append((self.name, tuple(grid), tuple(block), args[3:]))
        dtype = np.float32 if self.name.endswith("_f32") else np.float64
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        for a in arrays:
            assert a.dtype == dtype and a.flags.c_contiguous, (self.name, a.dtype, a.flags)
        assert all(isinstance(a, np.int32) for a in args[len(arrays):]), args
        launch = (ctypes.c_uint * 4)(*grid, block[0])
        pointers = [ctypes.c_void_p(a.ctypes.data) for a in arrays]
        if "sum_splits" in self.name:
            status = self.function(launch, *pointers, ctypes.c_int(int(args[2])), ctypes.c_int(int(args[3])))
        else:
            assert len(args) == 3 + CONV_SHAPE_FIELDS
            shape = (ctypes.c_int * CONV_SHAPE_FIELDS)(*(int(v) for v in args[3:]))
            status = self.function(launch, *pointers, shape)
        assert status == 0, f"{self.name}: emulated launch failed with status {status}"


class Emulator:
    """conv_kernels wired to an emulated build; `launches` records what was launched."""

    def __init__(self, library, tiles, sum_threads):
        self.library, self.tiles, self.sum_threads = library, tiles, sum_threads
        self.launches = []

    def install(self, monkeypatch):
        monkeypatch.setattr(conv_kernels, "_cupy", fake_cupy)
        monkeypatch.setattr(conv_kernels, "_function",
                            lambda device_id, name: EmulatedFunction(self.library, name, self.launches))
        monkeypatch.setattr(conv_kernels, "TILES", self.tiles)
        monkeypatch.setattr(conv_kernels, "SUM_THREADS", self.sum_threads)
        return self
