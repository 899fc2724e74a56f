"""Every kernels/*.cu compiles for the GPU (nvcc, PTX for sm_80 and sm_90) and for the CPU
emulation (g++ -x c++), and the GPU build has every kernel minigan.conv_kernels launches."""
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from minigan import conv_kernels
from kernel_emulation import KERNELS_DIR

SOURCES = sorted(KERNELS_DIR.glob("*.cu"))
ARCHS = ["sm_80", "sm_90"]


def find_nvcc():
    for candidate in (shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("nvcc is not installed (neither in PATH nor /usr/local/cuda/bin)")


def launched_kernel_names():
    """Every name conv_kernels may ask the module for."""
    ops = ("conv2d_forward", "conv2d_backward_data", "conv2d_backward_weight")
    names = {f"{op}{variant}_{suffix}"
             for op, variant, suffix in itertools.product(ops, ("", "_narrow", "_skinny"), ("f32", "f64"))}
    return names | {f"conv2d_sum_splits_{suffix}" for suffix in ("f32", "f64")}


def test_sources_exist():
    assert KERNELS_DIR / conv_kernels.SOURCE_NAME in SOURCES


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_compiles_to_ptx(source, arch, tmp_path):
    ptx_path = tmp_path / (source.stem + ".ptx")
    command = [find_nvcc(), "-ptx", f"-arch={arch}", str(source), "-o", str(ptx_path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"
    assert "warning" not in result.stderr.lower(), result.stderr
    entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx_path.read_text(), flags=re.MULTILINE))
    if source.name == conv_kernels.SOURCE_NAME:
        assert launched_kernel_names() <= entries, sorted(launched_kernel_names() - entries)


@pytest.mark.parametrize("arch", ARCHS)
def test_conv_kernels_do_not_spill_registers(arch, tmp_path):
    # A spill to local memory in the inner product would cost more than the tiling saves.
    command = [find_nvcc(), "-cubin", f"-arch={arch}", "-Xptxas", "-v", str(KERNELS_DIR / conv_kernels.SOURCE_NAME),
               "-o", str(tmp_path / "conv2d.cubin")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    spills = re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", result.stderr)
    assert len(spills) == len(launched_kernel_names())
    assert all(stores == "0" and loads == "0" for stores, loads in spills), result.stderr


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_compiles_as_cpp_for_the_emulation(source):
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not installed")
    command = [compiler, "-std=c++17", "-x", "c++", "-fsyntax-only", "-Wall", "-Wextra", "-Wno-unknown-pragmas",
               str(source)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr, result.stderr
