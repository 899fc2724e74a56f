import pytest

import minigan as mg


@pytest.fixture
def float64():
    """New modules and tensors in float64 for the test, restored afterwards."""
    previous = mg.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    yield
    mg.set_default_dtype(previous)
