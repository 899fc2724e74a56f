"""Fixtures for tests/kernels: emulated builds of kernels/conv2d.cu, wired into minigan.conv_kernels."""
import ctypes

import pytest

from minigan import conv_kernels
from kernel_emulation import SMALL_SUM_THREADS, SMALL_TILES, Emulator, compile_library


def _tile_sizes(library):
    sizes = (ctypes.c_int * 10)()
    library.emulate_tile_sizes(sizes)
    return {"wide": tuple(sizes[0:3]), "narrow": tuple(sizes[3:6]), "skinny": tuple(sizes[6:9])}, sizes[9]


@pytest.fixture(scope="session")
def small_tile_library(tmp_path_factory):
    defines = [f"CONV_{variant.upper()}_{name}={size}" for variant, sizes in SMALL_TILES.items()
               for name, size in zip(("TM", "TN", "TK"), sizes)] + [f"CONV_SUM_THREADS={SMALL_SUM_THREADS}"]
    library = compile_library("emulate_conv.cpp", tmp_path_factory.mktemp("emulated_small"), defines)
    assert _tile_sizes(library) == (SMALL_TILES, SMALL_SUM_THREADS)
    return library


@pytest.fixture(scope="session")
def full_tile_library(tmp_path_factory):
    library = compile_library("emulate_conv.cpp", tmp_path_factory.mktemp("emulated_full"))
    # the tiles conv2d.cu is built with by default are the ones conv_kernels plans for
    assert _tile_sizes(library) == (conv_kernels.TILES, conv_kernels.SUM_THREADS)
    return library


@pytest.fixture
def emulated(small_tile_library, monkeypatch):
    """conv_kernels running the small-tile emulated build."""
    return Emulator(small_tile_library, SMALL_TILES, SMALL_SUM_THREADS).install(monkeypatch)


@pytest.fixture
def emulated_full_tiles(full_tile_library, monkeypatch):
    """conv_kernels running the emulated build with the GPU's tile sizes (256 threads a block)."""
    return Emulator(full_tile_library, conv_kernels.TILES, conv_kernels.SUM_THREADS).install(monkeypatch)
