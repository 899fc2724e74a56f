"""interpolate, pad, pixel_shuffle: forward against naive loops, adjointness of the backward,
exact second derivatives, dtypes, and errors."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan.ops.resize import interpolate, pad, pixel_shuffle, pixel_unshuffle

rng = np.random.default_rng(0)


# ---------------------------------------------------------------- naive references (loops)
def nearest_reference(x, size_out, scales):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + tuple(size_out))
    for b in range(n):
        for ch in range(c):
            for i in range(size_out[0]):
                for j in range(size_out[1]):
                    si = min(math.floor(i * scales[0]), h - 1)
                    sj = min(math.floor(j * scales[1]), w - 1)
                    y[b, ch, i, j] = x[b, ch, si, sj]
    return y


def linear_source(dst, size_in, size_out, scale, align_corners):
    """Source coordinate, lower neighbour, upper neighbour and weight of the upper one."""
    if align_corners:
        src = dst * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    else:
        src = max((dst + 0.5) * scale - 0.5, 0.0)
    low = min(int(math.floor(src)), size_in - 1)
    high = min(low + 1, size_in - 1)
    return low, high, src - low


def bilinear_reference(x, size_out, scales, align_corners):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + tuple(size_out))
    for b in range(n):
        for ch in range(c):
            for i in range(size_out[0]):
                i0, i1, a = linear_source(i, h, size_out[0], scales[0], align_corners)
                for j in range(size_out[1]):
                    j0, j1, e = linear_source(j, w, size_out[1], scales[1], align_corners)
                    p = x[b, ch]
                    y[b, ch, i, j] = ((1 - a) * ((1 - e) * p[i0, j0] + e * p[i0, j1])
                                      + a * ((1 - e) * p[i1, j0] + e * p[i1, j1]))
    return y


def pad_source(o, size, mode):
    """The input position output position o (in input coordinates) copies, or None for constant."""
    if 0 <= o < size:
        return o
    if mode == "reflect":
        return -o if o < 0 else 2 * (size - 1) - o
    if mode == "replicate":
        return 0 if o < 0 else size - 1
    if mode == "circular":
        return o % size
    return None


def pad_reference(x, widths, mode, value=0.0):
    """widths: (before, after) for each of the last len(widths) dims, loops over every element."""
    lead = x.ndim - len(widths)
    out_shape = x.shape[:lead] + tuple(n + b + a for n, (b, a) in zip(x.shape[lead:], widths))
    y = np.full(out_shape, value, dtype=x.dtype)
    for index in np.ndindex(*out_shape):
        source = list(index[:lead])
        for k, (b, _) in enumerate(widths):
            s = pad_source(index[lead + k] - b, x.shape[lead + k], mode)
            if s is None:
                break
            source.append(s)
        else:
            y[index] = x[tuple(source)]
    return y


def shuffle_reference(x, r):
    n, c, h, w = x.shape
    y = np.zeros((n, c // (r * r), h * r, w * r))
    for b, ch, i, j in np.ndindex(*x.shape):
        y[b, ch // (r * r), i * r + (ch % (r * r)) // r, j * r + ch % r] = x[b, ch, i, j]
    return y


# ------------------------------------------------------------------------------- forward
INTERPOLATIONS = [  # (input shape, options, output size, coordinate scales)
    ((2, 2, 3, 4), dict(scale_factor=2), (6, 8), (0.5, 0.5)),
    ((2, 2, 3, 4), dict(size=(5, 7)), (5, 7), (3 / 5, 4 / 7)),
    ((2, 2, 3, 4), dict(size=(2, 3)), (2, 3), (3 / 2, 4 / 3)),
    ((1, 2, 4, 6), dict(scale_factor=0.5), (2, 3), (2.0, 2.0)),
    ((1, 2, 3, 5), dict(scale_factor=(1.7, 3)), (5, 15), (1 / 1.7, 1 / 3)),
    ((1, 1, 3, 4), dict(size=1), (1, 1), (3.0, 4.0)),
]


@pytest.mark.parametrize("shape,options,size_out,scales", INTERPOLATIONS)
def test_nearest_matches_loop_reference(shape, options, size_out, scales):
    x = rng.standard_normal(shape)
    y = interpolate(mg.tensor(x), mode="nearest", **options)
    np.testing.assert_array_equal(y.numpy(), nearest_reference(x, size_out, scales))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,options,size_out,scales", INTERPOLATIONS)
def test_bilinear_matches_loop_reference(shape, options, size_out, scales, align_corners):
    x = rng.standard_normal(shape)
    y = interpolate(mg.tensor(x), mode="bilinear", align_corners=align_corners, **options)
    np.testing.assert_allclose(y.numpy(), bilinear_reference(x, size_out, scales, align_corners),
                               rtol=1e-12, atol=1e-12)


def test_bilinear_known_values():
    row = mg.tensor(np.array([[[[0.0, 1.0]]]]))
    np.testing.assert_allclose(interpolate(row, size=(1, 4), mode="bilinear").numpy().ravel(),
                               [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(
        interpolate(row, size=(1, 4), mode="bilinear", align_corners=True).numpy().ravel(),
        [0.0, 1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(interpolate(row, size=(1, 1), mode="bilinear").numpy().ravel(), [0.5])


PADS = [  # (input shape, pad tuple, widths of the trailing dims (first dim first))
    ((2, 2, 3, 4), (2, 1, 0, 2), [(0, 2), (2, 1)]),
    ((2, 3, 4), (0, 3), [(0, 3)]),
    ((2, 3, 4), (1, 2, 2, 1), [(2, 1), (1, 2)]),
    ((1, 2, 2, 3, 4), (1, 2, 0, 1, 1, 0), [(1, 0), (0, 1), (1, 2)]),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads,widths", PADS)
def test_pad_matches_loop_reference(shape, pads, widths, mode):
    x = rng.standard_normal(shape)
    value = 0.5 if mode == "constant" else 0.0
    y = pad(mg.tensor(x), pads, mode=mode, value=value)
    np.testing.assert_array_equal(y.numpy(), pad_reference(x, widths, mode, value))


def test_replicate_pad_wider_than_the_input():
    x = rng.standard_normal((1, 1, 2, 3))
    y = pad(mg.tensor(x), (5, 0, 1, 4), mode="replicate")
    np.testing.assert_array_equal(y.numpy(), pad_reference(x, [(1, 4), (5, 0)], "replicate"))


def test_constant_pad_with_negative_widths_crops():
    x = rng.standard_normal((2, 3, 4, 5))
    y = pad(mg.tensor(x), (-1, 2, 0, -2, 1, 0), value=-3.0)
    want = np.full((2, 4, 2, 6), -3.0)
    want[:, 1:, :, :4] = x[:, :, :2, 1:]
    np.testing.assert_array_equal(y.numpy(), want)


def test_pixel_shuffle_matches_loop_reference_and_unshuffle_inverts_it():
    x = rng.standard_normal((2, 8, 2, 3))
    y = pixel_shuffle(mg.tensor(x), 2)
    np.testing.assert_array_equal(y.numpy(), shuffle_reference(x, 2))
    np.testing.assert_array_equal(pixel_unshuffle(y, 2).numpy(), x)
    batched = pixel_shuffle(mg.tensor(x[None]), 2)  # any number of leading dims
    np.testing.assert_array_equal(batched.numpy()[0], y.numpy())


# ------------------------------------------------------------------ adjoint and second order
OPS = {
    "nearest scale 2": lambda x: interpolate(x, scale_factor=2),
    "nearest size (5, 7)": lambda x: interpolate(x, size=(5, 7)),
    "nearest down (2, 3)": lambda x: interpolate(x, size=(2, 3)),
    "bilinear size (5, 7)": lambda x: interpolate(x, size=(5, 7), mode="bilinear"),
    "bilinear scale 1.5 align_corners": lambda x: interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
    "bilinear down (2, 3)": lambda x: interpolate(x, size=(2, 3), mode="bilinear"),
    "pad constant": lambda x: pad(x, (1, 2, -1, 1), value=2.0),
    "pad reflect": lambda x: pad(x, (2, 1, 0, 2), mode="reflect"),
    "pad replicate": lambda x: pad(x, (3, 0, 1, 2), mode="replicate"),
    "pad circular": lambda x: pad(x, (1, 3, 2, 0), mode="circular"),
    "pixel_shuffle": lambda x: pixel_shuffle(x, 2),
    "pixel_unshuffle": lambda x: pixel_unshuffle(x.reshape(2, 2, 4, 6), 2),
}


@pytest.mark.parametrize("dtype,tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", OPS)
def test_backward_is_the_adjoint(name, dtype, tolerance):
    """<A x, y> = <x, Aᵀ y>, with Aᵀ y the VJP (the constant pad value is an offset: drop it)."""
    op = OPS[name]
    x = mg.tensor(rng.standard_normal((2, 4, 3, 4)).astype(dtype), requires_grad=True)
    offset = op(mg.tensor(np.zeros(x.shape, dtype))).numpy()
    y_out = op(x)
    y = rng.standard_normal(y_out.shape).astype(dtype)
    (vjp,) = mg.grad(y_out, [x], grad_outputs=mg.tensor(y))
    assert y_out.dtype == dtype and vjp.dtype == dtype
    left = np.sum((y_out.numpy() - offset).astype(np.float64) * y)
    right = np.sum(x.numpy().astype(np.float64) * vjp.numpy())
    assert abs(left - right) <= tolerance * (np.abs(y).sum() * np.abs(x.numpy()).max())


@pytest.mark.parametrize("name", OPS)
def test_backward_of_the_backward_is_the_op(name):
    """The VJP y -> Aᵀ y is linear in y; its own VJP at z is A z (and it does not depend on x)."""
    op = OPS[name]
    x = mg.tensor(rng.standard_normal((2, 4, 3, 4)), requires_grad=True)
    y_out = op(x)
    y = mg.tensor(rng.standard_normal(y_out.shape), requires_grad=True)
    (vjp,) = mg.grad(y_out, [x], grad_outputs=y, create_graph=True)
    z = rng.standard_normal(x.shape)
    (gy,) = mg.grad(vjp, [y], grad_outputs=mg.tensor(z))
    offset = op(mg.tensor(np.zeros(x.shape))).numpy()
    np.testing.assert_allclose(gy.numpy(), op(mg.tensor(z)).numpy() - offset, rtol=1e-12, atol=1e-12)


def test_nearest_upsampling_gradient_sums_each_block():
    x = mg.tensor(rng.standard_normal((1, 2, 2, 3)), requires_grad=True)
    g = rng.standard_normal((1, 2, 4, 6))
    (gx,) = mg.grad(interpolate(x, scale_factor=2), [x], grad_outputs=mg.tensor(g))
    np.testing.assert_allclose(gx.numpy(), g.reshape(1, 2, 2, 2, 3, 2).sum(axis=(3, 5)), rtol=1e-12)


# ---------------------------------------------------------------------------------- errors
def t(*shape):
    return mg.tensor(np.ones(shape))


@pytest.mark.parametrize("call,error,message", [
    (lambda: interpolate(t(3, 4), scale_factor=2), ValueError,
     r"interpolate: expected a 4-D input \(N, C, H, W\), got shape \(3, 4\)"),
    (lambda: interpolate(t(1, 1, 3, 4), size=(6, 8), scale_factor=2), ValueError,
     r"interpolate: give exactly one of size and scale_factor, got size=\(6, 8\) and scale_factor=2"),
    (lambda: interpolate(t(1, 1, 3, 4)), ValueError, r"interpolate: give exactly one of size and scale_factor"),
    (lambda: interpolate(t(1, 1, 3, 4), scale_factor=2, mode="bicubic"), ValueError,
     r"interpolate: unknown mode 'bicubic'; valid modes are 'nearest', 'bilinear'"),
    (lambda: interpolate(t(1, 1, 3, 4), scale_factor=2, align_corners=False), ValueError,
     r"interpolate: align_corners=False is only valid with mode 'bilinear', got mode 'nearest'"),
    (lambda: interpolate(t(1, 1, 3, 4), size=(0, 4)), ValueError,
     r"interpolate: output size \(0, 4\) must be positive \(input shape \(1, 1, 3, 4\)"),
    (lambda: interpolate(t(1, 1, 3, 4), scale_factor=0.2), ValueError, r"interpolate: output size \(0, 0\) must be positive"),
    (lambda: interpolate(t(1, 1, 3, 4), scale_factor=-2), ValueError, r"interpolate: scale_factor must be positive, got -2"),
    (lambda: interpolate(t(1, 1, 3, 4), size=(2, 3, 4)), ValueError,
     r"interpolate: size needs one value per spatial dim \(2\), got \(2, 3, 4\)"),
    (lambda: interpolate(mg.tensor(np.ones((1, 1, 2, 2), np.int64)), scale_factor=2, mode="bilinear"), TypeError,
     r"interpolate: mode 'bilinear' needs a floating-point input, got int64"),
    (lambda: pad(t(2, 3), (1, 2, 3)), ValueError,
     r"pad: pad must have an even number of entries \(left, right, top, bottom, ...\), got 3: \(1, 2, 3\)"),
    (lambda: pad(t(2, 3), (1, 1, 1, 1, 1, 1)), ValueError, r"pad: \(1, 1, 1, 1, 1, 1\) pads 3 dims but the input has only 2"),
    (lambda: pad(t(1, 2, 3), (1, 1), mode="wrap"), ValueError,
     r"pad: unknown mode 'wrap'; valid modes are 'constant', 'reflect', 'replicate', 'circular'"),
    (lambda: pad(t(1, 2, 3, 4), (1, 1, 3, 0), mode="reflect"), ValueError,
     r"pad: reflect padding \(3, 0\) of dim 2 must be less than its size 3 \(input shape \(1, 2, 3, 4\)\)"),
    (lambda: pad(t(1, 3, 4), (5, 0), mode="circular"), ValueError,
     r"pad: circular padding \(5, 0\) of dim 2 must be at most its size 4"),
    (lambda: pad(t(1, 1, 2, 3, 4), (1, 1, 1, 1), mode="reflect"), ValueError,
     r"pad: reflect padding with 4 pad entries needs a 3-D or 4-D input, got shape \(1, 1, 2, 3, 4\)"),
    (lambda: pad(t(2, 3, 4), (-1, 1), mode="replicate"), ValueError,
     r"pad: replicate padding needs non-negative widths, got \(-1, 1\)"),
    (lambda: pad(t(2, 3, 4), (1, 1), mode="reflect", value=1.0), ValueError, r"pad: mode 'reflect' takes no value"),
    (lambda: pad(t(2, 3), (-2, -2)), ValueError, r"pad: padding \(-2, -2\) gives a negative output shape \(2, -1\)"),
    (lambda: pad(t(2, 3), (1.5, 1)), TypeError, r"pad: pad must be integers, got \(1.5, 1\)"),
    (lambda: pixel_shuffle(t(1, 6, 2, 2), 2), ValueError,
     r"pixel_shuffle: 6 channels are not divisible by upscale_factor² = 4 \(input shape \(1, 6, 2, 2\)\)"),
    (lambda: pixel_shuffle(t(4, 2), 2), ValueError, r"pixel_shuffle: expected an input with at least 3 dims"),
    (lambda: pixel_shuffle(t(1, 4, 2, 2), 0), ValueError, r"pixel_shuffle: the factor must be a positive integer, got 0"),
    (lambda: pixel_unshuffle(t(1, 1, 4, 5), 2), ValueError,
     r"pixel_unshuffle: height 4 and width 5 must be divisible by downscale_factor 2"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
