"""conv2d and conv_transpose2d: forward against naive loops over many random configurations, the
adjoint identity between them, gradients of the three conv Functions (first and second order)
against finite differences, float32 staying float32, and the error messages."""
import re

import numpy as np
import pytest

import minigan as mg
from minigan.ops import conv_arrays as conv_module
from minigan.ops.conv import Conv2dGradWeight, conv2d, conv2d_output_size, conv_transpose2d

SEEDS = range(40)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------- naive references (loops)
def conv2d_reference(x, w, b, stride, padding, dilation, groups):
    """One output pixel at a time: the dot product of its (dilated) window with each filter."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, width = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, width + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + width] = x
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for oc in range(o):
        g = oc // (o // groups)
        for r in range(ho):
            for s in range(wo):
                window = xp[:, g * cg:(g + 1) * cg, r * sh:r * sh + dh * (kh - 1) + 1:dh,
                            s * sw:s * sw + dw * (kw - 1) + 1:dw]
                y[:, oc, r, s] = (window * w[oc]).sum(axis=(1, 2, 3))
    return y if b is None else y + b[None, :, None, None]


def conv_transpose2d_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """PyTorch's definition: every input pixel stamps its weight-scaled kernel onto the output."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oph, opw = pair(output_padding)
    n, cin, h, width = x.shape
    _, cog, kh, kw = w.shape
    hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wout = (width - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    # buffer index = output index + padding
    buf = np.zeros((n, cog * groups, max((h - 1) * sh + dh * (kh - 1) + 1, hout + ph),
                    max((width - 1) * sw + dw * (kw - 1) + 1, wout + pw)))
    for ci in range(cin):
        g = ci // (cin // groups)
        for r in range(h):
            for s in range(width):
                buf[:, g * cog:(g + 1) * cog, r * sh:r * sh + dh * (kh - 1) + 1:dh,
                    s * sw:s * sw + dw * (kw - 1) + 1:dw] += x[:, ci, r, s][:, None, None, None] * w[ci][None]
    y = buf[:, :, ph:ph + hout, pw:pw + wout]
    return y if b is None else y + b[None, :, None, None]


# ---------------------------------------------------------------- random configurations
def random_conv2d_config(rng):
    """Input, weight, bias shapes and options with a non-empty output."""
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        cg, og = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        options = dict(stride=tuple(int(v) for v in rng.integers(1, 4, 2)),
                       padding=tuple(int(v) for v in rng.integers(0, 3, 2)),
                       dilation=tuple(int(v) for v in rng.integers(1, 3, 2)), groups=groups)
        hw = tuple(int(v) for v in rng.integers(2, 8, 2))
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, options["dilation"])]
        if all(e <= s + 2 * p for e, s, p in zip(spans, hw, options["padding"])):
            n = int(rng.integers(1, 3))
            return (n, groups * cg) + hw, (groups * og, cg) + kernel, (groups * og,), options


def random_conv_transpose2d_config(rng):
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        cg, og = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        options = dict(stride=stride, padding=tuple(int(v) for v in rng.integers(0, 3, 2)),
                       output_padding=output_padding, groups=groups, dilation=dilation)
        hw = tuple(int(v) for v in rng.integers(1, 6, 2))
        out = [(h - 1) * s - 2 * p + d * (k - 1) + op + 1 for h, s, p, d, k, op in
               zip(hw, stride, options["padding"], dilation, kernel, output_padding)]
        if min(out) > 0:
            n = int(rng.integers(1, 3))
            return (n, groups * cg) + hw, (groups * cg, og) + kernel, (groups * og,), options


def arrays(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


# ------------------------------------------------------------------------------- forward
@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_naive_loops(seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, b_shape, options = random_conv2d_config(rng)
    x, w, b = arrays(rng, x_shape, w_shape, b_shape)
    y = conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), **options)
    np.testing.assert_allclose(y.numpy(), conv2d_reference(x, w, b, **options), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose2d_matches_naive_loops(seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, b_shape, options = random_conv_transpose2d_config(rng)
    x, w, b = arrays(rng, x_shape, w_shape, b_shape)
    y = conv_transpose2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), **options)
    np.testing.assert_allclose(y.numpy(), conv_transpose2d_reference(x, w, b, **options), rtol=1e-12, atol=1e-12)


def test_unbatched_input_and_empty_batch():
    rng = np.random.default_rng(0)
    x, w = arrays(rng, (2, 5, 5), (3, 2, 3, 3))
    y = conv2d(mg.tensor(x), mg.tensor(w), padding=1)
    assert y.shape == (3, 5, 5)
    np.testing.assert_allclose(y.numpy(), conv2d_reference(x[None], w, None, 1, 1, 1, 1)[0], rtol=1e-12)
    assert conv2d(mg.tensor(np.zeros((0, 2, 5, 5))), mg.tensor(w)).shape == (0, 3, 3, 3)
    assert conv_transpose2d(mg.tensor(np.zeros((0, 3, 2, 2))), mg.tensor(w)).shape == (0, 2, 4, 4)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(1)
    x, w, b = arrays(rng, (2, 2, 5, 5), (2, 2, 3, 3), (2,))
    copies = [a.copy() for a in (x, w, b)]
    conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), padding=1)
    conv_transpose2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), stride=2)
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)


# --------------------------------------------------------------------- adjoint identity
@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(seed):
    """<conv_transpose2d(y, w), x> == <y, conv2d(x, w)>, conv2d cropped to y's size when
    output_padding >= stride makes conv2d of the transposed output larger than y."""
    rng = np.random.default_rng(seed)
    y_shape, w_shape, _, options = random_conv_transpose2d_config(rng)
    y, w = arrays(rng, y_shape, w_shape)
    xt = conv_transpose2d(mg.tensor(y), mg.tensor(w), **options).numpy()
    x = rng.standard_normal(xt.shape)
    conv_options = {k: v for k, v in options.items() if k != "output_padding"}
    cx = conv2d(mg.tensor(x), mg.tensor(w), **conv_options).numpy()[:, :, :y.shape[2], :y.shape[3]]
    lhs, rhs = np.vdot(xt, x), np.vdot(y, cx)
    assert abs(lhs - rhs) <= 1e-10 * max(abs(lhs), np.abs(xt).sum() * np.abs(x).max(), 1e-300)


# ----------------------------------------------------------- strided backward-data paths
def backward_data_reference(gy, w, x_shape, stride, padding, dilation, groups):
    """conv2d's adjoint in x, one kernel tap at a time: tap (i, j) sends gy[.., P, Q] through
    w[:, :, i, j] to padded position (s P + d i, s Q + d j)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, width = x_shape
    o, cg, kh, kw = w.shape
    og, ho, wo = o // groups, gy.shape[2], gy.shape[3]
    gx = np.zeros((n, c, h + 2 * ph, width + 2 * pw))
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
                gx[:, g * cg:(g + 1) * cg, rows, cols] += np.einsum(
                    "nopq,oc->ncpq", gy[:, g * og:(g + 1) * og], w[g * og:(g + 1) * og, :, i, j])
    return gx[:, :, ph:ph + h, pw:pw + width]


def random_strided_backward_data_case(rng, dilation):
    """Strides 2-3 (so kernels smaller than, and not divisible by, the stride occur), padding
    0..k, groups 1-2, non-square, and channel ratios that send the dispatcher either way."""
    groups = int(rng.integers(1, 3))
    cg, og = int(rng.integers(1, 4)), int(rng.choice([1, 2, 3, 8]))
    kernel = tuple(int(k) for k in rng.integers(1, 6, 2))
    stride = tuple(int(s) for s in rng.integers(2, 4, 2))
    padding = tuple(int(rng.integers(0, k + 1)) for k in kernel)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    hw = tuple(max(int(rng.integers(1, 12)), e - 2 * p) for e, p in zip(spans, padding))
    x_shape = (int(rng.integers(1, 3)), groups * cg) + hw
    w_shape = (groups * og, cg) + kernel
    gy_hw = conv_module.conv2d_output_size(hw, kernel, stride, padding, dilation)
    return x_shape, w_shape, (x_shape[0], groups * og) + gy_hw, (stride, padding, dilation, groups)


def stored_channels_last(a):
    """The same values stored (N, H, W, C), as conv outputs are."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


STRIDED_PATHS = {
    "phases": lambda gy, w, x_shape, s, p, d, g: conv_module._backward_data_by_phases(gy, w, x_shape, s, p, g),
    "planes": conv_module._backward_data_by_planes,
    "scatter": conv_module._backward_data_by_scatter,
    "dispatch": conv_module.conv2d_backward_data_array,
}


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("path", sorted(STRIDED_PATHS))
@pytest.mark.parametrize("dtype,tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_strided_backward_data_paths_match_the_tap_by_tap_adjoint(seed, path, dtype, tolerance):
    rng = np.random.default_rng(seed)
    dilation = (1, 1) if path == "phases" or seed % 3 else tuple(int(d) for d in rng.integers(1, 4, 2))
    x_shape, w_shape, gy_shape, options = random_strided_backward_data_case(rng, dilation)
    gy, w = (rng.standard_normal(s) for s in (gy_shape, w_shape))
    expected = backward_data_reference(gy, w, x_shape, *options)
    for layout in (np.ascontiguousarray, stored_channels_last):
        gx = STRIDED_PATHS[path](layout(gy.astype(dtype)), w.astype(dtype), x_shape, *options)
        assert gx.shape == x_shape and gx.dtype == dtype
        np.testing.assert_allclose(gx, expected, rtol=tolerance, atol=tolerance)


# ----------------------------------------------------------------------------- gradients
GRAD_CASES = [  # (conv2d options, input shape, weight shape)
    (dict(stride=2, padding=1), (2, 2, 5, 6), (3, 2, 3, 2)),
    (dict(padding=(2, 1), dilation=(1, 2), groups=2), (1, 4, 4, 4), (2, 2, 2, 3)),
]


@pytest.mark.parametrize("options,x_shape,w_shape", GRAD_CASES)
def test_conv2d_gradients_first_and_second_order(options, x_shape, w_shape):
    rng = np.random.default_rng(2)
    x, w, b = (mg.tensor(a, requires_grad=True) for a in arrays(rng, x_shape, w_shape, w_shape[:1]))
    assert mg.gradcheck(lambda x, w, b: conv2d(x, w, b, **options), [x, w, b])
    assert mg.gradgradcheck(lambda x, w, b: conv2d(x, w, b, **options), [x, w, b])


@pytest.mark.parametrize("options", [dict(stride=2, padding=1, output_padding=1),
                                     dict(dilation=2, output_padding=1, groups=2)])
def test_conv_transpose2d_gradients_first_and_second_order(options):
    rng = np.random.default_rng(3)
    shapes = (2, 2, 3, 3), (2, 2, 3, 2), (2 * options.get("groups", 1),)
    x, w, b = (mg.tensor(a, requires_grad=True) for a in arrays(rng, *shapes))
    assert mg.gradcheck(lambda x, w, b: conv_transpose2d(x, w, b, **options), [x, w, b])
    assert mg.gradgradcheck(lambda x, w, b: conv_transpose2d(x, w, b, **options), [x, w, b])


@pytest.mark.parametrize("options,x_shape,gy_shape,w_shape", [
    (((2, 2), (1, 1), (1, 1), 1), (2, 2, 5, 5), (2, 3, 3, 3), (3, 2, 3, 3)),
    (((1, 2), (0, 1), (2, 1), 2), (1, 4, 5, 4), (1, 2, 1, 2), (2, 2, 3, 2)),
    # gy shorter than conv2d's full output, as conv_transpose2d with output_padding >= stride gives
    (((1, 1), (1, 1), (2, 2), 1), (2, 2, 4, 4), (2, 2, 3, 3), (2, 2, 2, 2)),
])
def test_conv2d_grad_weight_is_twice_differentiable(options, x_shape, gy_shape, w_shape):
    rng = np.random.default_rng(4)
    x, gy = (mg.tensor(a, requires_grad=True) for a in arrays(rng, x_shape, gy_shape))
    grad_weight = lambda x, gy: Conv2dGradWeight(*options, w_shape=w_shape)(x, gy)  # noqa: E731
    assert grad_weight(x, gy).shape == w_shape
    assert mg.gradcheck(grad_weight, [x, gy])
    assert mg.gradgradcheck(grad_weight, [x, gy])


def test_weight_gradient_is_the_correlation_of_input_and_output_gradient():
    rng = np.random.default_rng(5)
    x, w, gy = arrays(rng, (2, 2, 5, 5), (3, 2, 3, 3), (2, 3, 3, 3))
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    (gw,) = mg.grad(conv2d(xt, wt, stride=2, padding=1), [wt], mg.tensor(gy))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros_like(w)
    for i in range(3):
        for j in range(3):
            expected[:, :, i, j] = np.einsum("nohw,nchw->oc", gy, xp[:, :, i:i + 5:2, j:j + 5:2])
    np.testing.assert_allclose(gw.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_weight_gradient_from_the_forwards_kept_columns_equals_the_recomputed_one(seed, monkeypatch, cpu_default):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, _, options = random_conv2d_config(rng)
    x, w = arrays(rng, x_shape, w_shape)
    gy = None
    grads = []
    for limit in (conv_module.KEPT_COLUMNS_MAX_BYTES, 0):     # kept, then too large to keep
        monkeypatch.setattr(conv_module, "KEPT_COLUMNS_MAX_BYTES", limit)
        xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        y = conv2d(xt, wt, **options)
        assert (y.creator.columns is not None) == (limit > 0)
        gy = rng.standard_normal(y.shape) if gy is None else gy
        grads.append([g.numpy() for g in mg.grad(y, [xt, wt], mg.tensor(gy))])
    for kept, recomputed in zip(*grads):
        np.testing.assert_array_equal(kept, recomputed)


@pytest.mark.parametrize("x_shape, w_shape, groups", [((3, 1, 9, 11), (5, 1, 4, 4), 1),
                                                      ((2, 3, 10, 10), (6, 1, 2, 3), 3)])
def test_tap_major_columns_give_the_row_major_results(x_shape, w_shape, groups, monkeypatch, cpu_default):
    """Narrow windows are gathered tap-major (a transposed im2col matrix): same outputs and gradients,
    kept columns included, as the row-major gather."""
    rng = np.random.default_rng(7)
    x, w = arrays(rng, x_shape, w_shape)
    results = []
    for run in (4, 0):           # tap-major for 1-channel windows of width <= 4, then never
        monkeypatch.setattr(conv_module, "TAP_MAJOR_MAX_RUN", run)
        xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        y = conv2d(xt, wt, stride=2, padding=1, groups=groups)
        columns = y.creator.columns
        assert columns.strides[1] < columns.strides[2] if run else columns.strides[1] > columns.strides[2]
        gy = mg.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape))
        results.append([y.numpy()] + [g.numpy() for g in mg.grad(y, [xt, wt], gy)])
    for tap_major, row_major in zip(*results):
        np.testing.assert_allclose(tap_major, row_major, rtol=1e-12, atol=1e-12)


def test_columns_are_kept_only_for_a_weight_gradient_and_freed_by_backward(cpu_default):
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = mg.tensor(np.ones((4, 3, 3, 3)), requires_grad=True)
    frozen = mg.tensor(np.ones((4, 3, 3, 3)))
    assert conv2d(x, frozen).creator.columns is None          # no weight gradient wanted
    y = conv2d(x, w)
    conv = y.creator
    assert conv.columns is not None and conv.columns.shape == (1, 2 * 4 * 4, 27)
    y.sum().backward()
    assert getattr(conv, "columns", None) is None             # released with the graph
    with mg.no_grad():
        assert conv2d(x, w).creator is None


# --------------------------------------------------------- stride 1: shifted GEMMs (no im2col)
def random_stride_one_case(rng):
    """A stride-1, one-group conv with any channels, kernel, padding and dilation."""
    while True:
        c, o = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        padding = tuple(int(v) for v in rng.integers(0, 3, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
        hw = tuple(int(v) for v in rng.integers(2, 8, 2))
        if all(d * (k - 1) + 1 <= s + 2 * p for k, d, s, p in zip(kernel, dilation, hw, padding)):
            return (int(rng.integers(1, 3)), c) + hw, (o, c) + kernel, dict(padding=padding, dilation=dilation)


def conv_and_gradients(x, w, gy, options):
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    y = conv2d(xt, wt, **options)
    gx, gw = mg.grad(y, [xt, wt], mg.tensor(gy))
    return y.numpy(), gx.numpy(), gw.numpy()


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("dtype,tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_stride_one_by_shifted_gemms_matches_im2col_and_naive_loops(seed, dtype, tolerance, monkeypatch):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, options = random_stride_one_case(rng)
    x, w = (a.astype(dtype) for a in arrays(rng, x_shape, w_shape))
    reference = conv2d_reference(x.astype(np.float64), w.astype(np.float64), None, 1, **options, groups=1)
    gy = rng.standard_normal(reference.shape).astype(dtype)
    monkeypatch.setattr(conv_module, "SHIFT_MIN_CHANNELS", 10**9)
    im2col = conv_and_gradients(x, w, gy, options)
    monkeypatch.setattr(conv_module, "SHIFT_MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_module, "SHIFT_MAX_EXTRA_WORK", np.inf)
    shifted = conv_and_gradients(x, w, gy, options)
    np.testing.assert_allclose(shifted[0], reference, rtol=tolerance, atol=tolerance * 10)
    for a, b in zip(shifted, im2col):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance * 10)


def test_wide_stride_one_convs_take_shifted_gemms_and_are_twice_differentiable(monkeypatch, cpu_default):
    calls = []
    by_shifts = conv_module._forward_by_shifts
    monkeypatch.setattr(conv_module, "_forward_by_shifts", lambda *a: calls.append(1) or by_shifts(*a))
    rng = np.random.default_rng(7)
    x, w, b = (mg.tensor(a, requires_grad=True) for a in arrays(rng, (1, 16, 4, 4), (2, 16, 3, 3), (2,)))
    assert mg.gradcheck(lambda x, w, b: conv2d(x, w, b, padding=1), [x, w, b])
    assert mg.gradgradcheck(lambda x, w, b: conv2d(x, w, b, padding=1), [x, w, b])
    assert calls


@pytest.mark.parametrize("x_shape,w_shape,padding,expected", [
    ((16, 64, 32, 32), (64, 64, 3, 3), 1, True),      # the bench's k3 layer: 13% more GEMM work
    ((4, 64, 64, 64), (3, 64, 7, 7), 3, True),        # a CycleGAN output layer
    ((4, 256, 16, 16), (256, 256, 3, 3), 1, False),   # 27% more work on 256 outputs: im2col is faster
    ((4, 8, 32, 32), (64, 8, 3, 3), 1, False),        # 8-deep per-tap GEMMs
])
def test_shifted_gemms_are_chosen_where_they_are_faster(x_shape, w_shape, padding, expected):
    out_hw = conv2d_output_size(x_shape[2:], w_shape[2:], (1, 1), (padding, padding), (1, 1))
    assert conv_module._by_shifts(x_shape, w_shape, (1, 1), (padding, padding), 1, out_hw) is expected
    assert not conv_module._by_shifts(x_shape, w_shape, (2, 2), (padding, padding), 1, out_hw)


# -------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_float32_in_float32_out_through_second_order(op):
    rng = np.random.default_rng(6)
    shapes = (2, 2, 5, 5), (2, 2, 3, 3), (2,)
    x, w, b = (mg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays(rng, *shapes))
    fn = conv2d if op == "conv2d" else conv_transpose2d
    y = fn(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    grads = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert all(g.dtype == np.float32 for g in grads)
    second = mg.grad((grads[0] * grads[0]).sum(), [x, w, b])
    assert all(g.dtype == np.float32 for g in second)


# -------------------------------------------------------------------------------- errors
def t(shape, dtype=np.float64):
    return mg.tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("call,message", [
    (lambda: conv2d(t((1, 3, 8, 8)), t((64, 1, 4, 4))),
     "conv2d: input has 3 channels but weight expects 1 (weight shape (64, 1, 4, 4))"),
    (lambda: conv2d(t((3, 8, 8)), t((64, 1, 4, 4))), "conv2d: input has 3 channels but weight expects 1"),
    (lambda: conv2d(t((8, 8)), t((4, 1, 3, 3))),
     "conv2d: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape (8, 8)"),
    (lambda: conv2d(t((1, 1, 1, 8, 8)), t((4, 1, 3, 3))), "conv2d: expected a 4-D input"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3))), "conv2d: expected a 4-D weight, got shape (4, 1, 3)"),
    (lambda: conv2d(t((1, 4, 8, 8)), t((3, 2, 3, 3)), groups=2),
     "conv2d: groups=2 must divide both input channels (4) and output channels (3)"),
    (lambda: conv2d(t((1, 3, 8, 8)), t((4, 1, 3, 3)), groups=2), "conv2d: groups=2 must divide"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), groups=0), "conv2d: groups must be a positive int, got 0"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), stride=0), "conv2d: stride must be positive, got 0"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), stride=(1, -1)), "conv2d: stride must be positive, got (1, -1)"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), padding=-1), "conv2d: padding must be non-negative, got -1"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), dilation=0), "conv2d: dilation must be positive, got 0"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), stride=1.5),
     "conv2d: stride must be an int or a pair of ints, got 1.5"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), padding=(1, 2, 3)),
     "conv2d: padding must be an int or a pair of ints"),
    (lambda: conv2d(t((1, 1, 2, 8)), t((4, 1, 3, 3))), "conv2d: output size would be (0, 6)"),
    (lambda: conv2d(t((1, 1, 5, 5)), t((4, 1, 3, 3)), dilation=3), "conv2d: output size would be (-1, -1)"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3)), t((3,))),
     "conv2d: bias shape (3,) does not match the 4 output channels (weight shape (4, 1, 3, 3))"),
    (lambda: conv2d(t((1, 1, 8, 8), np.int64), t((4, 1, 3, 3))),
     "conv2d: input must be floating point, got dtype int64"),
    (lambda: conv2d(t((1, 1, 8, 8)), t((4, 1, 3, 3), np.int32)),
     "conv2d: weight must be floating point, got dtype int32"),
    (lambda: conv2d(t((1, 1, 8, 8), np.float32), t((4, 1, 3, 3))),
     "conv2d: input, weight and bias must share one dtype, got input float32, weight float64"),
    (lambda: conv_transpose2d(t((1, 3, 4, 4)), t((2, 3, 4, 4))),
     "conv_transpose2d: input has 3 channels but weight expects 2 (weight shape (2, 3, 4, 4)"),
    (lambda: conv_transpose2d(t((1, 3, 4, 4)), t((3, 2, 4, 4)), groups=2),
     "conv_transpose2d: groups=2 must divide the input channels (3)"),
    (lambda: conv_transpose2d(t((1, 2, 4, 4)), t((2, 3, 4, 4)), stride=2, output_padding=2),
     "conv_transpose2d: output_padding (2, 2) must be smaller than either stride (2, 2) or dilation (1, 1)"),
    (lambda: conv_transpose2d(t((1, 2, 4, 4)), t((2, 3, 4, 4)), output_padding=-1),
     "conv_transpose2d: output_padding must be non-negative, got -1"),
    (lambda: conv_transpose2d(t((1, 2, 1, 1)), t((2, 3, 1, 1)), padding=1),
     "conv_transpose2d: output size would be (-1, -1)"),
    (lambda: conv_transpose2d(t((1, 2, 4, 4)), t((2, 3, 4, 4)), t((2,)), groups=2),
     "conv_transpose2d: bias shape (2,) does not match the 6 output channels"),
    (lambda: conv_transpose2d(t((1, 2, 4, 4), np.int64), t((2, 3, 4, 4))),
     "conv_transpose2d: input must be floating point, got dtype int64"),
    (lambda: conv_transpose2d(t((2, 4, 4, 4, 4)), t((2, 3, 4, 4))), "conv_transpose2d: expected a 4-D input"),
])
def test_errors_name_the_op_and_the_values(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_conv_transpose2d_accepts_output_padding_below_dilation():
    # output_padding 1 >= stride 1 is allowed because it is < dilation 2, as in PyTorch
    y = conv_transpose2d(t((1, 1, 3, 3)), t((1, 1, 2, 2)), dilation=2, output_padding=1)
    assert y.shape == (1, 1, 6, 6)


@pytest.mark.parametrize("w_shape,expected", [
    ((128, 64, 4, 4), "scatter"),   # dcgan-28's D conv 64->128 and G convT 128->64 at batch 2 (at 64: Winograd)
    ((64, 64, 4, 4), "scatter"),
    ((64, 128, 4, 4), "phases"),    # gx wider than gy: the phase im2col of gy is the smaller copy
    ((64, 1, 4, 4), "planes"),      # 1-channel gx: runs of Wo beat runs of 2 floats
    ((64, 3, 4, 4), "planes"),
])
def test_strided_x_gradient_takes_the_path_with_the_smaller_copy(w_shape, expected, monkeypatch):
    taken = []
    for path in ("phases", "planes", "scatter"):
        original = getattr(conv_module, f"_backward_data_by_{path}")
        monkeypatch.setattr(conv_module, f"_backward_data_by_{path}",
                            lambda *a, path=path, original=original: taken.append(path) or original(*a))
    x_shape = (2, w_shape[1], 14, 14)
    gy = np.zeros((2, w_shape[0], 7, 7), np.float32)
    conv_module.conv2d_backward_data_array(gy, np.zeros(w_shape, np.float32), x_shape, (2, 2), (1, 1), (1, 1), 1)
    assert taken == [expected]
