"""Devices, array modules and seeded generators."""
import numpy as np
import pytest

import minigan as mg
from minigan import backend


def test_cpu_tensors_use_numpy():
    x = mg.zeros(2, 3, device="cpu")
    assert x.device == "cpu" and x.xp is np and isinstance(x.data, np.ndarray)
    assert backend.get_array_module(x.data, 1.0) is np


def test_device_names_are_normalised_and_checked():
    assert backend.check_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        backend.check_device("gpu")


def test_default_device_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert mg.ones(1).device == "cpu"
    monkeypatch.setenv("MINIGAN_DEVICE", "quantum")
    with pytest.raises(ValueError, match="unknown device 'quantum'"):
        mg.ones(1)


def test_rng_state_round_trip_reproduces_the_stream():
    mg.manual_seed(7)
    state = backend.get_rng_state()
    first = mg.rand(5, device="cpu").numpy()   # the state is the CPU generator's, as torch.get_rng_state
    backend.set_rng_state(state)
    np.testing.assert_array_equal(first, mg.rand(5, device="cpu").numpy())


def test_random_factories_respect_dtype():
    assert mg.randn(3, dtype=mg.float64).dtype == np.float64
    assert mg.rand(3).dtype == np.float32
    assert mg.randint(0, 5, (4,)).dtype == np.int64
    values = mg.randint(0, 5, (1000,)).numpy()
    assert values.min() == 0 and values.max() == 4


@pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")
def test_transfer_to_cuda_and_back_is_differentiable():
    x = mg.tensor(np.arange(3.0), device="cpu", requires_grad=True)
    y = (x.to("cuda") * 2.0).sum()
    assert y.device == "cuda"
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_fork_rng_seeds_a_block_and_restores_the_callers_stream():
    mg.manual_seed(1)
    expected = [mg.rand(3).numpy(), mg.rand(3).numpy()]
    mg.manual_seed(1)
    first = mg.rand(3).numpy()
    with backend.fork_rng(99):
        inside = mg.rand(3).numpy()
    with backend.fork_rng(99):
        np.testing.assert_array_equal(inside, mg.rand(3).numpy())
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(mg.rand(3).numpy(), expected[1])


@pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_take_host_values_in_assignment_and_where():
    x = mg.zeros(2, 3, device="cuda")
    x[...] = [[1, 2, 3], [4, 5, 6]]                      # a list, as torch accepts
    x[0] = np.array([7.0, 8.0, 9.0])                     # a NumPy array
    x[1, :2] = mg.tensor([-1.0, -2.0], device="cpu")     # a CPU tensor
    assert x.device == "cuda"
    np.testing.assert_array_equal(x.numpy(), [[7, 8, 9], [-1, -2, 6]])
    chosen = mg.where(np.array([True, False, True]), x, mg.zeros(2, 3, device="cuda"))
    assert chosen.device == "cuda"
    np.testing.assert_array_equal(chosen.numpy(), [[7, 0, 9], [-1, 0, 6]])
