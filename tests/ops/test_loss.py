"""The fused binary cross-entropy on logits: the composed formula's values and gradients, with no
overflow at extreme logits."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import ops


def _composed(x, t):
    """(1 - t) x + softplus(-x), the formula the fused op replaces, in float64 NumPy."""
    return (1.0 - t) * x + np.logaddexp(0.0, -x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_gradients_match_the_composed_formula(dtype):
    rng = np.random.default_rng(0)
    x_np, t_np = rng.standard_normal((6, 3)) * 4, rng.uniform(0, 1, (6, 3))
    x = mg.tensor(x_np.astype(dtype), requires_grad=True)
    t = mg.tensor(t_np.astype(dtype), requires_grad=True)
    loss = ops.binary_cross_entropy_with_logits(x, t)
    assert loss.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.numpy(), _composed(x_np, t_np), rtol=tol, atol=tol)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-x_np)) - t_np, rtol=tol, atol=tol)
    np.testing.assert_allclose(t.grad.numpy(), -x_np, rtol=tol, atol=tol)


def test_extreme_logits_stay_finite_and_exact():
    x = mg.tensor(np.array([-200.0, -30.0, 30.0, 200.0], np.float32), requires_grad=True)
    t = mg.tensor(np.array([1.0, 0.0, 1.0, 0.0], np.float32))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [200.0, 0.0, 0.0, 200.0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0, 0.0, 1.0], atol=1e-6)


def test_pos_weight_and_weight_still_apply():
    x_np, t_np = np.array([[-1.0, 0.5], [2.0, -0.3]]), np.array([[1.0, 0.0], [0.3, 1.0]])
    x, t = mg.tensor(x_np), mg.tensor(t_np)
    weighted = F.binary_cross_entropy_with_logits(x, t, weight=mg.tensor(np.array([2.0, 0.5])), reduction="none")
    np.testing.assert_allclose(weighted.numpy(), _composed(x_np, t_np) * [2.0, 0.5], rtol=1e-12)
    positive = F.binary_cross_entropy_with_logits(x, t, pos_weight=3.0, reduction="sum")
    expected = ((1 - t_np) * x_np + (1 + 2 * t_np) * np.logaddexp(0.0, -x_np)).sum()
    np.testing.assert_allclose(positive.item(), expected, rtol=1e-12)
