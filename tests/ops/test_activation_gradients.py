"""ReLU's and LeakyReLU's backward: the product with the incoming gradient goes in place into the
slope array when no graph is recorded, and through a recorded Mul when one is."""
import numpy as np
import pytest

import minigan as mg
from minigan import functional as F

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0], [1.5, -1.0, 0.0, -3.0, 2.0]], dtype=np.float32)


def _slopes(name):
    """d activation / dx, with the gradient at 0 taken as the negative side's (as PyTorch does)."""
    return np.where(X > 0, 1.0, 0.0 if name == "relu" else 0.2).astype(np.float32)


def _activate(name, x):
    return F.relu(x) if name == "relu" else F.leaky_relu(x, 0.2)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_plain_backward_multiplies_without_touching_the_incoming_gradient(name):
    x = mg.Tensor(X.copy(), requires_grad=True)
    gy_values = np.arange(1.0, 11.0, dtype=np.float32).reshape(X.shape)
    gy = mg.Tensor(gy_values.copy())
    _activate(name, x).backward(gy)
    np.testing.assert_array_equal(x.grad.data, gy_values * _slopes(name))
    np.testing.assert_array_equal(gy.data, gy_values)
    assert not np.shares_memory(x.grad.data, gy.data)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_a_recorded_backward_stays_differentiable_in_the_incoming_gradient(name):
    x = mg.Tensor(X.copy(), requires_grad=True)
    gy = mg.Tensor(np.ones_like(X), requires_grad=True)
    (gx,) = mg.grad(_activate(name, x), [x], grad_outputs=[gy], create_graph=True)
    (ggy,) = mg.grad((gx * gx).sum(), [gy])          # d/dgy sum (gy s)^2 = 2 gy s^2
    np.testing.assert_allclose(ggy.data, 2 * _slopes(name) ** 2)
