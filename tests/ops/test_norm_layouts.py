"""Normalisation gives the same values and gradients whatever the input's memory layout
(conv outputs are NCHW views of channels-last buffers; the fused forward works in that layout)."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

pytestmark = pytest.mark.usefixtures("cpu_default")  # the layouts are those of CPU conv outputs


def _bn_value_and_grads(x_array):
    x = mg.tensor(x_array, requires_grad=True)
    w = mg.tensor(np.linspace(0.5, 1.5, x_array.shape[1]), requires_grad=True)
    y = F.batch_norm(x, None, None, w, None, training=True)
    (y * y * y).sum().backward()
    return y.data, x.grad.data, w.grad.data


def test_batch_norm_channels_last_view_matches_contiguous(float64):
    rng = np.random.default_rng(0)
    channels_last = rng.standard_normal((4, 5, 6, 3)) * 2 + 1
    view = channels_last.transpose(0, 3, 1, 2)
    for a, b in zip(_bn_value_and_grads(view), _bn_value_and_grads(np.ascontiguousarray(view))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _layouts(rng):
    """Arrays of one logical shape family in every memory layout batch norm sees."""
    nhwc = rng.standard_normal((4, 5, 6, 3)) * 2 + 1
    yield "NCHW contiguous", np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    yield "channels-last view", nhwc.transpose(0, 3, 1, 2)
    yield "strided slice", rng.standard_normal((4, 3, 10, 6))[:, :, ::2]
    yield "(N, C)", rng.standard_normal((7, 5)) - 3
    yield "(N, C, L)", rng.standard_normal((4, 5, 6)) + 2


def test_channel_sums_match_numpy_in_every_layout(float64):
    from minigan.ops.reduce import channel_dims, channel_sums
    for name, x in _layouts(np.random.default_rng(1)):
        np.testing.assert_allclose(channel_sums(x), x.sum(axis=channel_dims(x)), rtol=1e-12, err_msg=name)


def test_channel_broadcast_is_the_per_channel_vector_laid_out_like_its_array(float64):
    from minigan.ops.reduce import channel_broadcast
    for name, x in _layouts(np.random.default_rng(3)):
        v = np.arange(1.0, x.shape[1] + 1)
        spread = channel_broadcast(v, x)
        expected = np.broadcast_to(v.reshape((1, -1) + (1,) * (x.ndim - 2)), spread.shape)
        np.testing.assert_array_equal(np.broadcast_to(spread, x[:1].shape), x[:1] * 0 + expected, err_msg=name)
        np.testing.assert_array_equal(x * spread, x * expected, err_msg=name)
        if x.ndim > 2 and name != "strided slice":     # dense layouts: the same order in memory
            assert np.argsort(spread.strides[1:]).tolist() == np.argsort(x.strides[1:]).tolist(), name


def _reference_batch_norm(x, w, b, eps=1e-5):
    """Batch norm and its gradients for the loss sum(y ** 3), written out in NumPy."""
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu, var = x.mean(axis=dims, keepdims=True), x.var(axis=dims, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    y = xhat * w.reshape(shape) + b.reshape(shape)
    gy = 3 * y * y
    gb, gw = gy.sum(axis=dims), (gy * xhat).sum(axis=dims)
    gx = (w.reshape(shape) / np.sqrt(var + eps)) * (gy - gb.reshape(shape) / m - xhat * gw.reshape(shape) / m)
    return y, gx, gw, gb


def test_fused_batch_norm_matches_reference_in_every_layout(float64):
    for name, x_array in _layouts(np.random.default_rng(2)):
        c = x_array.shape[1]
        w_array, b_array = np.linspace(0.5, 1.5, c), np.linspace(-1, 1, c)
        x, w, b = (mg.tensor(a, requires_grad=True) for a in (x_array, w_array, b_array))
        y = F.batch_norm(x, None, None, w, b, training=True)
        (y * y * y).sum().backward()
        expected = _reference_batch_norm(x_array, w_array, b_array)
        for got, want in zip((y.data, x.grad.data, w.grad.data, b.grad.data), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


def test_fused_batch_norm_second_order_matches_unfused(float64):
    """The double backward of the fused gradient equals the one through normalise-multiply-add."""
    rng = np.random.default_rng(3)
    x_array = rng.standard_normal((4, 3, 5, 2)).transpose(0, 3, 1, 2)   # channels-last storage
    w_array, b_array = rng.standard_normal(2), rng.standard_normal(2)

    def penalty(fused):
        x, w, b = (mg.tensor(a, requires_grad=True) for a in (x_array, w_array, b_array))
        if fused:
            y = F.batch_norm(x, None, None, w, b, training=True)
        else:
            from minigan.ops.norm import normalize
            y = normalize(x, (0, 2, 3)) * w.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)
        gx, gw, gb = mg.grad((y * y * y).sum(), [x, w, b], create_graph=True)
        ((gx * gx).sum() + (gw * gw * gw).sum() + (gb * gb).sum()).backward()
        return x.grad.data, w.grad.data, b.grad.data

    for got, want in zip(penalty(True), penalty(False)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_per_channel_sum_op_matches_numpy_for_floats_ints_and_bools():
    rng = np.random.default_rng(4)
    for x in (rng.standard_normal((3, 4, 5)).astype(np.float32), rng.integers(-5, 5, (6, 3)),
              rng.standard_normal((2, 3, 4, 5)) > 0):
        for keepdim in (False, True):
            dims = (0,) + tuple(range(2, x.ndim))
            got = mg.sum(mg.tensor(x), dims, keepdim=keepdim).data
            want = x.sum(axis=dims, keepdims=keepdim)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_flatten_of_a_channels_last_array_hands_back_a_channels_last_gradient(float64):
    """Reshape's backward lays the gradient out like its input (the values are those of a plain
    reshape), also through a second derivative."""
    rng = np.random.default_rng(4)
    channels_last = rng.standard_normal((3, 4, 5, 2)).transpose(0, 3, 1, 2)     # (N, C, H, W) view
    for x_array in (channels_last, np.ascontiguousarray(channels_last)):
        x = mg.tensor(x_array, requires_grad=True)
        flat = x.flatten(1)
        weights = mg.tensor(rng.standard_normal(flat.shape))
        (gx,) = mg.grad((flat * flat * weights).sum(), x, create_graph=True)
        np.testing.assert_allclose(gx.data, 2 * x_array * weights.data.reshape(x_array.shape), rtol=1e-12)
        assert gx.data.strides == x_array.strides
        (ggx,) = mg.grad(gx.sum(), x)
        np.testing.assert_allclose(ggx.data, 2 * weights.data.reshape(x_array.shape), rtol=1e-12)


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "matrix", "mixed", "strided"])
def test_channel_dots_sum_products_per_channel_in_every_layout(layout):
    """Batch norm's per-channel product sums, without the product array: a float64 sum's value in
    every layout (the last two fall back to the product), also with rows left over after the blocks."""
    from minigan.ops.reduce import DOT_ROWS, channel_dots
    rng = np.random.default_rng(5)
    a, b = ((rng.standard_normal((3, 5, 37, 41)) * 2 + 0.5).astype(np.float32) for _ in range(2))
    if layout == "channels_last":
        a, b = _channels_last(a), _channels_last(b)
        assert (3 * 37 * 41) % DOT_ROWS
    elif layout == "matrix":
        a, b = a.reshape(3, -1), b.reshape(3, -1)
    elif layout == "mixed":
        b = _channels_last(b)
    elif layout == "strided":
        a, b = a[:, :, ::2], b[:, :, ::2]
    axes = (0,) + tuple(range(2, a.ndim))
    expected = (a.astype(np.float64) * b).sum(axis=axes)
    scale = np.abs(a.astype(np.float64) * b).sum(axis=axes)
    dots = channel_dots(a, b)
    assert dots.shape == (a.shape[1],) and dots.dtype == np.float32
    assert np.all(np.abs(dots - expected) <= 1e-6 * scale)


def test_channel_dots_add_long_channels_last_sums_in_blocks():
    """2^18 channels-last rows: one running float32 sum drifts to ~7e-5 of the value; in blocks of
    DOT_ROWS it stays within 1e-6."""
    from minigan.ops.reduce import channel_dots
    a = _channels_last((np.random.default_rng(6).standard_normal((64, 4, 64, 64)) * 2 + 0.5).astype(np.float32))
    expected = (a.astype(np.float64) ** 2).sum(axis=(0, 2, 3))
    np.testing.assert_allclose(channel_dots(a, a), expected, rtol=1e-6)


def _channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
