"""Linear's backward: a plain backward runs on arrays, a recorded one (create_graph) in ops; both
must give the same gradients, equal to the textbook formulas, for every input rank and size."""
import numpy as np
import pytest

import minigan as mg
from minigan import ops


def _gradients(x, w, b, gy, create_graph):
    leaves = [mg.tensor(a, requires_grad=True) for a in (x, w) + ((b,) if b is not None else ())]
    y = ops.linear(*leaves)
    y.backward(mg.tensor(gy), create_graph=create_graph)
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("x_shape, out", [((5,), 3), ((4, 5), 3), ((2, 3, 5), 4), ((1, 5), 1), ((6, 5), 1), ((5,), 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_plain_and_recorded_backward_agree_with_the_formulas(x_shape, out, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((out, x_shape[-1]))
    b = rng.standard_normal(out) if bias else None
    gy = rng.standard_normal(x_shape[:-1] + (out,))
    flat_gy, flat_x = gy.reshape(-1, out), x.reshape(-1, x_shape[-1])
    expected = [gy @ w, flat_gy.T @ flat_x] + ([flat_gy.sum(0)] if bias else [])
    for create_graph in (False, True):
        for got, want in zip(_gradients(x, w, b, gy, create_graph), expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_plain_backward_gives_only_the_gradients_asked_for():
    x = mg.tensor(np.ones((3, 2)))
    w = mg.tensor(np.ones((4, 2)), requires_grad=True)
    ops.linear(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 2), 3.0))
