import pytest

import minigan as mg


@pytest.fixture
def float64():
    """New modules and tensors in float64 for the test, restored afterwards."""
    previous = mg.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    yield
    mg.set_default_dtype(previous)


@pytest.fixture
def cpu_default(monkeypatch):
    """New tensors on the CPU even under MINIGAN_DEVICE=cuda: for tests of CPU-only paths (Winograd,
    kept im2col columns, BLAS profiling, channels-last scratch layouts) and of the default itself."""
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
