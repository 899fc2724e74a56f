"""Parity with PyTorch (float64, when torch is installed) for conv2d, conv_transpose2d and the
pools: forward values and every gradient (input, weight, bias) over seeded random geometries,
and second derivatives through convolutions (the gradient of a gradient penalty)."""
import numpy as np
import pytest

import minigan as mg
from minigan.ops.conv import conv2d, conv_transpose2d
from minigan.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def assert_relative(ours, theirs, rtol=1e-10):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape
    scale = max(np.abs(theirs).max(initial=0.0), 1e-300)
    assert np.abs(ours - theirs).max(initial=0.0) <= rtol * scale, f"max abs error {np.abs(ours - theirs).max():.3e}"


def compare(ours_fn, torch_fn, arrays, seed):
    """Forward values and the gradients of every input for one random output gradient."""
    rng = np.random.default_rng(seed)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = ours_fn(*ours), torch_fn(*theirs)
    assert_relative(y.numpy(), yt)
    v = rng.uniform(-1, 1, y.shape)
    grads = mg.grad(y, ours, mg.tensor(v))
    grads_t = torch.autograd.grad(yt, theirs, torch.tensor(v))
    for g, gt in zip(grads, grads_t):
        assert_relative(g.numpy(), gt)


def random_geometry(rng, transpose):
    """Shapes and options of a conv2d (or conv_transpose2d) with a non-empty output."""
    while True:
        groups = int(rng.choice([1, 2, 3]))
        cg, og = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kernel = tuple(int(k) for k in rng.integers(1, 5, 2))
        stride = tuple(int(s) for s in rng.integers(1, 4, 2))
        padding = tuple(int(p) for p in rng.integers(0, 3, 2))
        dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
        hw = tuple(int(v) for v in rng.integers(2, 9, 2))
        n = int(rng.integers(1, 4))
        options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        if transpose:
            options["output_padding"] = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
            out = [(h - 1) * s - 2 * p + d * (k - 1) + op + 1 for h, s, p, d, k, op in
                   zip(hw, stride, padding, dilation, kernel, options["output_padding"])]
            w_shape = (groups * cg, og) + kernel
        else:
            out = [(h + 2 * p - d * (k - 1) - 1) // s + 1
                   for h, s, p, d, k in zip(hw, stride, padding, dilation, kernel)]
            w_shape = (groups * og, cg) + kernel
        if min(out) > 0:
            return (n, groups * cg) + hw, w_shape, (groups * og,), options


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, b_shape, options = random_geometry(rng, transpose=False)
    arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, b_shape)]
    compare(lambda x, w, b: conv2d(x, w, b, **options), lambda x, w, b: TF.conv2d(x, w, b, **options), arrays, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose2d_matches_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    x_shape, w_shape, b_shape, options = random_geometry(rng, transpose=True)
    arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, b_shape)]
    compare(lambda x, w, b: conv_transpose2d(x, w, b, **options),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **options), arrays, seed)


def test_conv_without_bias_matches_torch():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((3, 4, 4, 4))
    compare(lambda x, w: conv2d(x, w, stride=2, padding=1), lambda x, w: TF.conv2d(x, w, stride=2, padding=1),
            [x, w.transpose(1, 0, 2, 3).copy()], 0)
    compare(lambda x, w: conv_transpose2d(x, w, stride=2, padding=1),
            lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1), [x, w], 0)


# ----------------------------------------------------------------------------- second order
def critic(ops, x, w1, b1, w2, b2):
    """A tiny DCGAN-style critic: conv (stride 2) -> tanh -> conv -> sum, as in a gradient penalty."""
    conv, tanh = ops
    h = tanh(conv(x, w1, b1, stride=2, padding=1))
    return conv(h, w2, b2, stride=1, padding=1, dilation=2).sum()


@pytest.mark.parametrize("seed", range(3))
def test_gradient_penalty_second_order_matches_torch(seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 4, 3)) * 0.5,
              rng.standard_normal(4), rng.standard_normal((2, 4, 3, 3)) * 0.5, rng.standard_normal(2)]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    (gx,) = mg.grad(critic((conv2d, mg.tanh), *ours), [ours[0]], create_graph=True)
    (gxt,) = torch.autograd.grad(critic((TF.conv2d, torch.tanh), *theirs), [theirs[0]], create_graph=True)
    assert_relative(gx.numpy(), gxt)
    penalty = ((gx * gx).sum() - 1.0) ** 2
    penalty_t = ((gxt * gxt).sum() - 1.0) ** 2
    # the last bias shifts D(x) by a constant: the penalty does not depend on it
    for g, gt in zip(mg.grad(penalty, ours[:4]), torch.autograd.grad(penalty_t, theirs[:4])):
        assert_relative(g.numpy(), gt)


def test_conv_transpose2d_second_order_matches_torch():
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 2, 4, 4)), rng.standard_normal(4)]
    options = dict(stride=2, padding=1, output_padding=1, groups=2)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = mg.tanh(conv_transpose2d(*ours, **options)), torch.tanh(TF.conv_transpose2d(*theirs, **options))
    grads = mg.grad((y * y * y).sum(), ours[:2], create_graph=True)
    grads_t = torch.autograd.grad((yt * yt * yt).sum(), theirs[:2], create_graph=True)
    scalar = (grads[0] * grads[0]).sum() + (grads[1] ** 3).sum()
    scalar_t = (grads_t[0] * grads_t[0]).sum() + (grads_t[1] ** 3).sum()
    for g, gt in zip(mg.grad(scalar, ours), torch.autograd.grad(scalar_t, theirs)):
        assert_relative(g.numpy(), gt)


# ------------------------------------------------------------------------------------ pools
def random_pool(rng, dilation):
    while True:
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        options = dict(kernel_size=kernel, stride=tuple(int(s) for s in rng.integers(1, 4, 2)),
                       padding=tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel),
                       ceil_mode=bool(rng.integers(0, 2)))
        if dilation:
            options["dilation"] = tuple(int(d) for d in rng.integers(1, 3, 2))
        x = rng.standard_normal((2, 3) + tuple(int(v) for v in rng.integers(2, 9, 2)))
        try:
            TF.max_pool2d(torch.tensor(x), **options) if dilation else TF.avg_pool2d(torch.tensor(x), **options)
        except RuntimeError:  # no output for this geometry
            continue
        return x, options


@pytest.mark.parametrize("seed", SEEDS)
def test_max_pool2d_matches_torch(seed):
    x, options = random_pool(np.random.default_rng(2000 + seed), dilation=True)
    compare(lambda x: max_pool2d(x, **options), lambda x: TF.max_pool2d(x, **options), [x], seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(seed, count_include_pad):
    x, options = random_pool(np.random.default_rng(3000 + seed), dilation=False)
    options["count_include_pad"] = count_include_pad
    compare(lambda x: avg_pool2d(x, **options), lambda x: TF.avg_pool2d(x, **options), [x], seed)


@pytest.mark.parametrize("output_size", [1, (2, 3), (None, 2)])
def test_adaptive_avg_pool2d_matches_torch(output_size):
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 6))
    compare(lambda x: adaptive_avg_pool2d(x, output_size), lambda x: TF.adaptive_avg_pool2d(x, output_size), [x], 0)
