"""Property tests: gradients of broadcast binary ops sum back to each input's shape."""
import numpy as np
from hypothesis import given, settings, strategies as st

import minigan as mg
from minigan import ops

dims = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@st.composite
def broadcastable_shapes(draw):
    out = draw(dims)
    def shrink(shape):
        kept = [1 if draw(st.booleans()) else n for n in shape]
        return tuple(kept[draw(st.integers(0, len(kept))):])
    return tuple(out), shrink(out), shrink(out)


BINARY = {"add": (ops.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
          "sub": (ops.sub, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
          "mul": (ops.mul, lambda a, b: (b * np.ones_like(a), a * np.ones_like(b))),
          "div": (ops.div, lambda a, b: (1 / b * np.ones_like(a), -a / b ** 2))}


@settings(max_examples=40, deadline=None)
@given(shapes=broadcastable_shapes(), name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcast_gradients_sum_to_input_shapes(shapes, name, seed):
    _, shape_a, shape_b = shapes
    rng = np.random.default_rng(seed)
    a_np, b_np = rng.uniform(0.5, 2, shape_a), rng.uniform(0.5, 2, shape_b)
    a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
    op, local = BINARY[name]
    op(a, b).sum().backward()
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    da, db = local(np.broadcast_to(a_np, out_shape), np.broadcast_to(b_np, out_shape))
    expect_a = np.broadcast_to(da, out_shape)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.numpy(), _sum_to(expect_a, shape_a), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), _sum_to(np.broadcast_to(db, out_shape), shape_b), rtol=1e-12)


def _sum_to(array, shape):
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead))) if lead else array
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    return array.sum(axis=axes, keepdims=True) if axes else array


@settings(max_examples=30, deadline=None)
@given(shape=dims.map(tuple), seed=st.integers(0, 2**16))
def test_gradient_of_sum_is_ones(shape, seed):
    x = mg.tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))


@settings(max_examples=30, deadline=None)
@given(shapes=broadcastable_shapes(), seed=st.integers(0, 2**16))
def test_sum_to_is_the_adjoint_of_broadcast_to(shapes, seed):
    out_shape, shape, _ = shapes
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=shape), rng.normal(size=out_shape)
    lhs = (ops.broadcast_to(mg.tensor(x), out_shape).numpy() * y).sum()
    rhs = (x * ops.sum_to(mg.tensor(y), shape).numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)
