"""avg_pool2d, max_pool2d, adaptive_avg_pool2d: forward against naive loops over random window
geometries (padding, dilation, ceil_mode, count_include_pad), where max pool's gradient goes,
gradients to second order against finite differences, float32, and errors."""
import re

import numpy as np
import pytest

import minigan as mg
from minigan.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------- naive references (loops)
def output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size, straight from its documentation."""
    span = size + 2 * p - d * (k - 1) - 1
    out = -(-span // s) + 1 if ceil_mode else span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_reference(x, kernel, stride, padding, dilation, ceil_mode, reduce):
    """reduce(values, window rows, window cols) for each output pixel; indices relative to x."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = pair(kernel), pair(stride or kernel), pair(padding), pair(dilation)
    n, c, h, w = x.shape
    ho = output_size(h, kh, sh, ph, dh, ceil_mode)
    wo = output_size(w, kw, sw, pw, dw, ceil_mode)
    y = np.zeros((n, c, ho, wo))
    for r in range(ho):
        for s in range(wo):
            rows = [r * sh - ph + i * dh for i in range(kh)]
            cols = [s * sw - pw + j * dw for j in range(kw)]
            y[:, :, r, s] = reduce(x, rows, cols)
    return y


def max_reference(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    def window_max(x, rows, cols):
        h, w = x.shape[2:]
        inside = [(i, j) for i in rows for j in cols if 0 <= i < h and 0 <= j < w]
        return np.max([x[:, :, i, j] for i, j in inside], axis=0)
    return pool_reference(x, kernel_size, stride, padding, dilation, ceil_mode, window_max)


def avg_reference(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    (ph, pw) = pair(padding)

    def window_mean(x, rows, cols):
        h, w = x.shape[2:]
        # torch clips windows to the padded input; count_include_pad=False clips them to the input
        rows_pad = [i for i in rows if i < h + ph]
        cols_pad = [j for j in cols if j < w + pw]
        inside = [(i, j) for i in rows for j in cols if 0 <= i < h and 0 <= j < w]
        total = np.sum([x[:, :, i, j] for i, j in inside], axis=0)
        return total / (len(rows_pad) * len(cols_pad) if count_include_pad else len(inside))
    return pool_reference(x, kernel_size, stride, padding, 1, ceil_mode, window_mean)


def random_pool_case(rng, dilation):
    """An input and pooling options with a non-empty output."""
    while True:
        x = rng.standard_normal((2, 3) + tuple(int(v) for v in rng.integers(2, 9, 2)))
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        options = dict(kernel_size=kernel, stride=tuple(int(s) for s in rng.integers(1, 4, 2)),
                       padding=tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel),
                       ceil_mode=bool(rng.integers(0, 2)))
        if dilation:
            options["dilation"] = tuple(int(d) for d in rng.integers(1, 3, 2))
        sizes = [output_size(size, k, s, p, d, options["ceil_mode"]) for size, k, s, p, d in
                 zip(x.shape[2:], kernel, options["stride"], options["padding"], options.get("dilation", (1, 1)))]
        if min(sizes) > 0:
            return x, options


# ------------------------------------------------------------------------------- forward
@pytest.mark.parametrize("seed", range(30))
def test_max_pool2d_matches_naive_loops(seed):
    x, options = random_pool_case(np.random.default_rng(seed), dilation=True)
    np.testing.assert_array_equal(max_pool2d(mg.tensor(x), **options).numpy(), max_reference(x, **options))


@pytest.mark.parametrize("seed", range(30))
def test_avg_pool2d_matches_naive_loops(seed):
    rng = np.random.default_rng(100 + seed)
    x, options = random_pool_case(rng, dilation=False)
    options["count_include_pad"] = bool(rng.integers(0, 2))
    np.testing.assert_allclose(avg_pool2d(mg.tensor(x), **options).numpy(), avg_reference(x, **options),
                               rtol=1e-13, atol=1e-13)


def test_default_stride_is_the_kernel_and_unbatched_input_works():
    x = np.arange(2 * 4 * 6, dtype=np.float64).reshape(2, 4, 6)
    y = max_pool2d(mg.tensor(x), 2)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, 2, 2, 3, 2).max(axis=(2, 4)))
    np.testing.assert_allclose(avg_pool2d(mg.tensor(x), 2).numpy(), x.reshape(2, 2, 2, 3, 2).mean(axis=(2, 4)))


def test_ceil_mode_windows_past_the_padding_average_fewer_entries():
    # the last row and column of windows overhang the input: their divisor shrinks with them,
    # while padded entries still count (count_include_pad=True)
    x = mg.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    np.testing.assert_allclose(avg_pool2d(x, 2, ceil_mode=True).numpy()[0, 0],
                               [[3.0, 5.0, 6.5], [13.0, 15.0, 16.5], [20.5, 22.5, 24.0]])
    np.testing.assert_allclose(avg_pool2d(x, 3, 2, 1, ceil_mode=True).numpy()[0, 0],
                               [[12 / 9, 3.0, 16 / 6], [7.0, 12.0, 9.0], [8.0, 13.0, 28 / 3]])


def test_adaptive_avg_pool2d_averages_equal_blocks():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 8))
    np.testing.assert_allclose(adaptive_avg_pool2d(mg.tensor(x), (3, 2)).numpy(),
                               x.reshape(2, 3, 3, 2, 2, 4).mean(axis=(3, 5)), rtol=1e-13)
    np.testing.assert_allclose(adaptive_avg_pool2d(mg.tensor(x), 1).numpy(), x.mean(axis=(2, 3), keepdims=True),
                               rtol=1e-13)
    assert adaptive_avg_pool2d(mg.tensor(x), (None, 4)).shape == (2, 3, 6, 4)


# ----------------------------------------------------------------------------- gradients
def test_max_pool2d_gradient_goes_to_the_first_maximum_of_each_window():
    x = mg.tensor(np.array([[[[1.0, 5.0, 2.0],
                              [5.0, 0.0, 7.0],
                              [3.0, 4.0, 7.0]]]]), requires_grad=True)
    y = max_pool2d(x, 2, stride=1)  # overlapping windows: the 5s tie, both 7s win
    np.testing.assert_array_equal(y.numpy(), [[[[5.0, 7.0], [5.0, 7.0]]]])
    (g,) = mg.grad(y, [x], mg.tensor(np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])))
    np.testing.assert_array_equal(g.numpy(), [[[[0.0, 1.0, 0.0], [100.0, 0.0, 1010.0], [0.0, 0.0, 0.0]]]])


def test_max_pool2d_ignores_padding_and_propagates_nan():
    x = mg.tensor(-np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(max_pool2d(x, 2, padding=1).numpy(), -np.ones((1, 1, 2, 2)))
    x = mg.tensor(np.array([[[[1.0, np.nan], [2.0, 3.0]]]]))
    assert np.isnan(max_pool2d(x, 2).item())


@pytest.mark.parametrize("pool,options", [
    (max_pool2d, dict(kernel_size=3, stride=2, padding=1)),
    (max_pool2d, dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)),
    (avg_pool2d, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (avg_pool2d, dict(kernel_size=(2, 3), stride=2, padding=1, ceil_mode=True)),
])
def test_pool_gradients_first_and_second_order(pool, options):
    x = mg.tensor(np.random.default_rng(1).standard_normal((2, 2, 5, 5)), requires_grad=True)
    assert mg.gradcheck(lambda x: pool(x, **options), [x])
    assert mg.gradgradcheck(lambda x: pool(x, **options), [x])


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_third_order_runs_through_the_grad_functions(pool):
    # the gradient is linear in the output gradient v: differentiate it twice in v and x
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    v = mg.tensor(rng.standard_normal((1, 2, 2, 2)), requires_grad=True)
    (g,) = mg.grad(pool(x, 2), [x], v, create_graph=True)
    (gv,) = mg.grad((g * g).sum(), [v], create_graph=True)
    (gvv,) = mg.grad((gv * gv).sum(), [v])
    # g = P^T v with P the (outputs x inputs) matrix of the pool at x, so (g*g).sum() = |P^T v|^2,
    # its v-gradient is 2 P P^T v, and the v-gradient of |that|^2 is 8 (P P^T)^2 v
    windows = x.numpy().reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(8, 4)
    if pool is max_pool2d:
        weights = (windows == windows.max(axis=1, keepdims=True)).astype(float)
    else:
        weights = np.full((8, 4), 0.25)
    matrix = np.zeros((8, 32))
    for out in range(8):
        c, r, s = out // 4, out // 2 % 2, out % 2
        for k in range(4):
            matrix[out, c * 16 + (2 * r + k // 2) * 4 + 2 * s + k % 2] = weights[out, k]
    ppt, flat_v = matrix @ matrix.T, v.numpy().reshape(-1)
    np.testing.assert_allclose(gv.numpy().reshape(-1), 2 * ppt @ flat_v, rtol=1e-12)
    np.testing.assert_allclose(gvv.numpy().reshape(-1), 8 * ppt @ ppt @ flat_v, rtol=1e-12)


# -------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_float32_stays_float32(pool):
    x = mg.tensor(np.random.default_rng(3).standard_normal((2, 2, 4, 4)).astype(np.float32), requires_grad=True)
    y = pool(x, 3, 1, 1)
    assert y.dtype == np.float32
    (g,) = mg.grad((y * y).sum(), [x], create_graph=True)
    assert g.dtype == np.float32
    (gg,) = mg.grad((g * g).sum(), [x])
    assert gg.dtype == np.float32


# -------------------------------------------------------------------------------- errors
def t(shape, dtype=np.float64):
    return mg.tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("call,message", [
    (lambda: max_pool2d(t((4, 4)), 2),
     "max_pool2d: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape (4, 4)"),
    (lambda: avg_pool2d(t((1, 1, 1, 4, 4)), 2), "avg_pool2d: expected a 4-D input"),
    (lambda: max_pool2d(t((1, 1, 4, 4)), 0), "max_pool2d: kernel_size must be positive, got 0"),
    (lambda: avg_pool2d(t((1, 1, 4, 4)), 2, stride=(1, 0)), "avg_pool2d: stride must be positive, got (1, 0)"),
    (lambda: max_pool2d(t((1, 1, 4, 4)), 2, padding=-1), "max_pool2d: padding must be non-negative, got -1"),
    (lambda: max_pool2d(t((1, 1, 4, 4)), 2, dilation=0), "max_pool2d: dilation must be positive, got 0"),
    (lambda: max_pool2d(t((1, 1, 4, 4)), 3, padding=2),
     "max_pool2d: padding (2, 2) must be at most half of kernel_size (3, 3)"),
    (lambda: avg_pool2d(t((1, 1, 2, 4)), 3), "avg_pool2d: output size would be (0, 1)"),
    (lambda: avg_pool2d(t((1, 1, 4, 4), np.int64), 2), "avg_pool2d: input must be floating point, got dtype int64"),
    (lambda: max_pool2d(t((1, 1, 4, 4)), 2.5), "max_pool2d: kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: adaptive_avg_pool2d(t((1, 1, 4, 4)), 0), "adaptive_avg_pool2d: output_size must be positive, got 0"),
])
def test_errors_name_the_op_and_the_values(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_adaptive_avg_pool2d_refuses_uneven_windows():
    message = "adaptive_avg_pool2d: input size (5, 4) is not a multiple of output size (2, 2)"
    with pytest.raises(NotImplementedError, match=re.escape(message)):
        adaptive_avg_pool2d(t((1, 1, 5, 4)), 2)
