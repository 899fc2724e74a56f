"""Winograd F(4x4, 2x2) convolution (minigan.ops.winograd): its interpolation identity, all three
directions against naive loops and the im2col paths in float64, its float32 error, the adjoint
identities, which convs take it, gradients to second order through it, and parity with PyTorch."""
import numpy as np
import pytest

import minigan as mg
from minigan.ops import conv_arrays, winograd
from minigan.ops.conv import conv2d, conv_transpose2d
from test_conv import backward_data_reference, conv2d_reference, stored_channels_last

pytestmark = pytest.mark.usefixtures("cpu_default")  # Winograd is a CPU path

# (x shape, w shape, stride, padding): kernels 2 x stride, outputs that fill their 4x4 tiles or not
CASES = [
    ((3, 16, 14, 14), (40, 16, 4, 4), (2, 2), (1, 1)),     # dcgan-28's D conv, 7x7 out: 8x8 tiles cropped
    ((2, 8, 16, 16), (33, 8, 4, 4), (2, 2), (1, 1)),       # 8x8 out: tiles exactly
    ((3, 8, 13, 11), (33, 8, 4, 4), (2, 2), (0, 2)),       # odd sizes: rows the conv never reads
    ((2, 32, 9, 10), (32, 32, 2, 2), (1, 1), (0, 0)),      # stride 1
    ((2, 32, 9, 10), (32, 32, 2, 2), (1, 1), (1, 0)),
    ((2, 32, 6, 7), (32, 32, 2, 2), (1, 1), (2, 3)),       # padding beyond the kernel: x-grad not a conv
    ((2, 8, 17, 16), (32, 8, 6, 4), (3, 2), (2, 1)),       # unequal strides
    ((2, 8, 5, 5), (32, 8, 6, 6), (3, 3), (2, 1)),         # one output column
    ((2, 16, 11, 9), (24, 16, 3, 3), (1, 1), (1, 1)),      # F(4, 3): the k3 stride-1 conv
    ((2, 16, 8, 8), (24, 16, 3, 3), (1, 1), (0, 2)),
    ((2, 4, 15, 13), (32, 4, 6, 6), (2, 2), (2, 1)),       # F(4, 3) on 2x2 blocks
]


@pytest.fixture
def every_size(monkeypatch):
    """Let the small test shapes take Winograd (its thresholds are about speed, not correctness)."""
    monkeypatch.setattr(winograd, "MIN_TILES", 1)
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)


def directions(x, w, gy, stride, padding, keep=False):
    """y, gx and gw through conv_arrays' dispatch (the forward's kept tiles feeding gw when `keep`)."""
    options = (stride, padding, (1, 1), 1)
    if keep:
        y, kept = conv_arrays.conv2d_forward_and_columns(x, w, *options)
    else:
        y, kept = conv_arrays.conv2d_forward_array(x, w, *options), None
    gx = conv_arrays.conv2d_backward_data_array(gy, w, x.shape, *options)
    gw = conv_arrays.conv2d_backward_weight_array(x, gy, w.shape, *options, columns=kept)
    return y, gx, gw


def weight_gradient_reference(x, gy, w_shape, stride, padding):
    """gw[o, c, i, j] = sum of gy[n, o, p, q] x_padded[n, c, s p + i, s q + j], one tap at a time."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = gy.shape[2:]
    gw = np.zeros(w_shape)
    for i in range(w_shape[2]):
        for j in range(w_shape[3]):
            window = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            gw[:, :, i, j] = np.einsum("nopq,ncpq->oc", gy, window)
    return gw


@pytest.mark.parametrize("r", winograd.BLOCK_KERNELS)
def test_the_interpolation_matrices_compute_correlation_and_its_trilinear_form(r):
    rng = np.random.default_rng(0)
    a_t, g, b_t = winograd.interpolation_matrices(r)
    for _ in range(20):
        d, k, y = rng.standard_normal(4 + r - 1), rng.standard_normal(r), rng.standard_normal(4)
        direct = np.array([d[t:t + r] @ k for t in range(4)])
        np.testing.assert_allclose(a_t @ ((g @ k) * (b_t @ d)), direct, atol=1e-12)
        # the same form read in the kernel: the weight gradient
        np.testing.assert_allclose(g.T @ ((b_t @ d) * (a_t.T @ y)), [d[i:i + 4] @ y for i in range(r)], atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CASES)
@pytest.mark.parametrize("keep", [False, True])
def test_all_three_directions_match_naive_loops_and_im2col(x_shape, w_shape, stride, padding, keep,
                                                           every_size, monkeypatch):
    rng = np.random.default_rng(sum(x_shape) + sum(w_shape))
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    expected_y = conv2d_reference(x, w, None, stride, padding, 1, 1)
    gy = rng.standard_normal(expected_y.shape)
    assert winograd.applies(x_shape, w_shape, stride, padding, (1, 1), 1)
    y, gx, gw = directions(x, w, gy, stride, padding, keep)
    np.testing.assert_allclose(y, expected_y, atol=1e-12)
    np.testing.assert_allclose(gx, backward_data_reference(gy, w, x_shape, stride, padding, (1, 1), 1), atol=1e-12)
    np.testing.assert_allclose(gw, weight_gradient_reference(x, gy, w_shape, stride, padding), atol=1e-11)
    monkeypatch.setattr(winograd, "ENABLED", False)
    for ours, im2col in zip((y, gx, gw), directions(x, w, gy, stride, padding)):
        np.testing.assert_allclose(ours, im2col, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CASES)
def test_a_bias_added_at_the_constant_product_reaches_every_output(x_shape, w_shape, stride, padding, every_size):
    """The bias goes into the products at the point (1, 1), whose output transform is all ones: every
    output pixel gets it, for the forward (per output channel) and the x-direction (per input channel,
    spread over the stride blocks' channels)."""
    rng = np.random.default_rng(sum(x_shape) + 7)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b_out, b_in = rng.standard_normal(w_shape[0]), rng.standard_normal(x_shape[1])
    options = (stride, padding, (1, 1), 1)
    y = conv_arrays.conv2d_forward_array(x, w, *options, bias=b_out)
    np.testing.assert_allclose(y, conv2d_reference(x, w, b_out, stride, padding, 1, 1), atol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx = conv_arrays.conv2d_backward_data_array(gy, w, x_shape, *options, bias=b_in)
    expected = backward_data_reference(gy, w, x_shape, stride, padding, (1, 1), 1) + b_in[:, None, None]
    np.testing.assert_allclose(gx, expected, atol=1e-12)


def test_layers_taking_turns_keep_their_padding_zero(every_size):
    """The zero-padded scratch images keep their border between calls of one geometry: layers of
    other geometries (and inputs of other values) in between must not leak into it."""
    rng = np.random.default_rng(11)
    layers = [CASES[0], CASES[2], CASES[0], CASES[8], CASES[0], CASES[2]]
    for x_shape, w_shape, stride, padding in layers:
        x, w = rng.standard_normal(x_shape) * 3 + 1, rng.standard_normal(w_shape)
        y, gx, gw = directions(x, w, np.ones(conv2d_reference(x, w, None, stride, padding, 1, 1).shape),
                               stride, padding)
        gy = np.ones(y.shape)
        np.testing.assert_allclose(y, conv2d_reference(x, w, None, stride, padding, 1, 1), atol=1e-11)
        np.testing.assert_allclose(gx, backward_data_reference(gy, w, x_shape, stride, padding, (1, 1), 1),
                                   atol=1e-11)
        np.testing.assert_allclose(gw, weight_gradient_reference(x, gy, w_shape, stride, padding), atol=1e-10)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CASES[:3])
def test_adjoint_identities_hold_through_winograd(x_shape, w_shape, stride, padding, every_size):
    """<conv(x, w), gy> = <x, conv^T(gy, w)> = <w, gw(x, gy)>: the three directions are one form."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    gy = rng.standard_normal(conv_arrays.conv2d_forward_array(x, w, stride, padding, (1, 1), 1).shape)
    y, gx, gw = directions(x, w, gy, stride, padding)
    values = np.vdot(y, gy), np.vdot(x, gx), np.vdot(w, gw)
    assert np.allclose(values, values[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize("x_shape,w_shape,stride,rms_factor", [
    ((64, 64, 14, 14), (128, 64, 4, 4), (2, 2), 10),   # F(4, 2): measured rms 5-7x im2col's
    ((16, 64, 32, 32), (64, 64, 3, 3), (1, 1), 15),    # F(4, 3): 10-12x (shifted GEMMs round less)
])
def test_float32_error_stays_near_im2cols_rounding(x_shape, w_shape, stride, rms_factor, monkeypatch):
    """Measured: largest error 2-7e-6 of the output's scale (im2col 2-5e-7) for both."""
    rng = np.random.default_rng(2)
    x = stored_channels_last(rng.standard_normal(x_shape))
    w = rng.standard_normal(w_shape) * 0.05
    y_shape = conv_arrays.conv2d_forward_array(x[:1], w, stride, (1, 1), (1, 1), 1).shape
    gy = stored_channels_last(rng.standard_normal((x_shape[0],) + y_shape[1:]))
    exact = directions(x, w, gy, stride, (1, 1))
    ours = directions(*(a.astype(np.float32) for a in (x, w, gy)), stride, (1, 1))
    monkeypatch.setattr(winograd, "ENABLED", False)
    im2col = directions(*(a.astype(np.float32) for a in (x, w, gy)), stride, (1, 1))
    rms = lambda error: np.sqrt(np.mean(error ** 2))  # noqa: E731
    for a, b, reference in zip(ours, im2col, exact):
        assert a.dtype == np.float32
        assert np.abs(a - reference).max() <= 2e-5 * np.abs(reference).max()
        assert rms(a - reference) <= rms_factor * rms(b - reference)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation,groups,expected", [
    ((64, 64, 14, 14), (128, 64, 4, 4), (2, 2), (1, 1), (1, 1), 1, True),    # dcgan-28's D conv / G convT
    ((32, 32, 32, 32), (64, 32, 4, 4), (2, 2), (1, 1), (1, 1), 1, True),     # DCGAN-64's second layer
    ((16, 64, 32, 32), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1, True),     # the bench's k3 layer: F(4, 3)
    ((4, 256, 16, 16), (256, 256, 3, 3), (1, 1), (1, 1), (1, 1), 1, False),  # 64 tiles
    ((16, 64, 32, 32), (64, 64, 5, 5), (1, 1), (2, 2), (1, 1), 1, False),    # F(4, 5) not built
    ((64, 1, 28, 28), (64, 1, 4, 4), (2, 2), (1, 1), (1, 1), 1, False),      # 4 block channels
    ((64, 64, 14, 14), (1, 64, 4, 4), (2, 2), (1, 1), (1, 1), 1, False),     # one output channel
    ((16, 256, 8, 8), (512, 256, 4, 4), (2, 2), (1, 1), (1, 1), 1, False),  # 16 tiles: the kernel transform dominates
    ((64, 64, 14, 14), (128, 64, 3, 3), (2, 2), (1, 1), (1, 1), 1, False),   # kernel 1.5x the stride
    ((64, 64, 14, 14), (128, 32, 4, 4), (2, 2), (1, 1), (1, 1), 2, False),   # groups
    ((64, 64, 14, 14), (128, 64, 4, 4), (2, 2), (1, 1), (2, 2), 1, False),   # dilation
])
def test_which_convs_take_winograd(x_shape, w_shape, stride, padding, dilation, groups, expected):
    assert winograd.applies(x_shape, w_shape, stride, padding, dilation, groups) is expected


def test_the_dcgan_layers_run_through_winograd(monkeypatch):
    calls = []
    for name in ("conv2d", "conv2d_backward_data", "conv2d_backward_weight"):
        original = getattr(winograd, name)
        monkeypatch.setattr(winograd, name, lambda *a, name=name, original=original: calls.append(name) or original(*a))
    x = mg.tensor(np.ones((64, 64, 14, 14), np.float32), requires_grad=True)
    w = mg.tensor(np.ones((128, 64, 4, 4), np.float32), requires_grad=True)
    conv2d(x, w, stride=2, padding=1).sum().backward()
    assert sorted(calls) == ["conv2d", "conv2d_backward_data", "conv2d_backward_weight"]


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_gradients_through_winograd_first_and_second_order(op, every_size, monkeypatch):
    calls = []
    original = winograd._correlate
    monkeypatch.setattr(winograd, "_correlate", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(3)
    if op == "conv2d":
        shapes, f = ((1, 2, 6, 5), (3, 2, 4, 4), (3,)), lambda x, w, b: conv2d(x, w, b, stride=2, padding=1)
    else:
        shapes, f = ((1, 3, 3, 2), (3, 2, 4, 4), (2,)), lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1)
    x, w, b = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert mg.gradcheck(f, [x, w, b])
    assert mg.gradgradcheck(f, [x, w, b])
    assert calls


def test_parity_with_torch_on_the_dcgan_shapes():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 64, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((128, 64, 4, 4)) * 0.05).astype(np.float32)
    z = rng.standard_normal((64, 128, 7, 7)).astype(np.float32)
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, z)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, z)]
    for (xt, wt, zt), F in ((ours, mg.functional), (theirs, torch.nn.functional)):
        (F.conv2d(xt, wt, stride=2, padding=1) ** 2).sum().backward()
        (F.conv_transpose2d(zt, wt, stride=2, padding=1) ** 2).sum().backward()
    for a, b in zip(ours, theirs):
        expected = b.grad.numpy()
        np.testing.assert_allclose(a.grad.numpy(), expected, atol=3e-5 * np.abs(expected).max(), rtol=0)


@pytest.mark.parametrize("out_hw,r,products", [
    ((7, 7), 2, 9 * 9),      # F(4) + F(3) per axis: 5 + 4 products, not 2 x 5 for two padded 4-tiles
    ((8, 8), 2, 10 * 10),    # two F(4) tiles per axis
    ((5, 6), 2, (5 + 2) * (5 + 3)),
    ((11, 9), 3, (6 + 6 + 5) * (6 + 6 + 3)),
])
def test_a_side_that_is_not_a_multiple_of_4_ends_in_a_smaller_tile(out_hw, r, products):
    """Products per image: each pair of points stacks the tiles that have it, so the GEMMs' rows
    sum to the tiles' products (none computed for outputs past the edge)."""
    plan = winograd._plan_for(out_hw, r, np.float64)
    rows = sum((pairs.stop - pairs.start) * (tiles.stop - tiles.start) for pairs, tiles in plan.groups)
    per_tile = sum(len(t.points_h) * len(t.points_w) * t.count for t in plan.types)
    assert rows == per_tile == products
