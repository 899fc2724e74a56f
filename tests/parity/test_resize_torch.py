"""Parity with PyTorch (float64, when torch is installed) for interpolate, pad, pixel_shuffle and
pixel_unshuffle: forward values and the input gradient for a random output gradient."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def assert_relative(ours, theirs, rtol=1e-10):
    scale = max(np.abs(theirs).max(), 1e-300)
    assert np.abs(ours - theirs).max() <= rtol * scale, f"max abs error {np.abs(ours - theirs).max():.3e}"


def compare(ours_fn, torch_fn, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours_fn(ours), torch_fn(theirs)
    assert y.shape == tuple(yt.shape)
    assert_relative(y.numpy(), yt.detach().numpy())
    v = rng.uniform(-1, 1, y.shape)
    (g,) = mg.grad(y, [ours], mg.tensor(v))
    (gt,) = torch.autograd.grad(yt, [theirs], torch.tensor(v))
    assert_relative(g.numpy(), gt.numpy())


# sizes and scales that hit PyTorch's special cases: same size, exactly 2x, scale factors whose
# output size rounds down (then the coordinates use 1/scale, not in/out), downsampling, and sizes
# where PyTorch's float32 nearest-neighbour scale rounds differently from exact arithmetic
RESIZES = [
    ((2, 2, 3, 4), dict(scale_factor=2)),
    ((2, 2, 3, 4), dict(scale_factor=3)),
    ((2, 2, 3, 4), dict(size=(5, 7))),
    ((2, 2, 3, 4), dict(size=(2, 3))),
    ((2, 2, 3, 4), dict(size=4)),
    ((1, 2, 6, 9), dict(size=(9, 6))),
    ((1, 2, 10, 7), dict(scale_factor=2.05)),
    ((1, 2, 10, 7), dict(scale_factor=1.05)),
    ((1, 2, 10, 7), dict(scale_factor=(0.5, 1.7))),
    ((1, 2, 10, 7), dict(scale_factor=0.3)),
    ((1, 1, 5, 5), dict(size=(1, 1))),
    ((1, 2, 7, 10), dict(size=(20, 21))),
    ((1, 1, 14, 26), dict(size=(46, 22))),
]
MODES = [("nearest", None), ("bilinear", False), ("bilinear", True)]


@pytest.mark.parametrize("mode,align_corners", MODES)
@pytest.mark.parametrize("shape,options", RESIZES)
def test_interpolate_matches_torch(shape, options, mode, align_corners):
    compare(lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **options),
            lambda x: TF.interpolate(x, mode=mode, align_corners=align_corners, **options), shape)


PADS = [
    ((2, 3, 4, 5), (1, 2, 0, 1)),
    ((2, 3, 4, 5), (2, 0, 3, 1)),
    ((3, 4, 5), (3, 1, 2, 2)),
    ((3, 4, 5), (0, 4)),
    ((2, 5), (1, 3)),
    ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("shape,pads", PADS)
def test_pad_matches_torch(shape, pads, mode):
    if mode == "reflect" and max(pads) >= min(shape[-len(pads) // 2:]):
        pytest.skip("reflect padding must be smaller than the padded dims")
    compare(lambda x: F.pad(x, pads, mode=mode), lambda x: TF.pad(x, pads, mode=mode), shape)


@pytest.mark.parametrize("pads", [(1, 1, 2, 0, 1, 1), (-1, 2, 0, -2), (2, -3, 1, 1, 0, 0, 1, 0)])
def test_constant_pad_with_value_and_crops_matches_torch(pads):
    compare(lambda x: F.pad(x, pads, value=0.7), lambda x: TF.pad(x, pads, value=0.7), (2, 3, 4, 5))


@pytest.mark.parametrize("shape,factor", [((2, 8, 2, 3), 2), ((2, 3, 9, 2, 2), 3), ((12, 2, 3), 2)])
def test_pixel_shuffle_matches_torch(shape, factor):
    compare(lambda x: F.pixel_shuffle(x, factor), lambda x: TF.pixel_shuffle(x, factor), shape)


@pytest.mark.parametrize("shape,factor", [((2, 2, 4, 6), 2), ((2, 1, 3, 6, 9), 3)])
def test_pixel_unshuffle_matches_torch(shape, factor):
    compare(lambda x: F.pixel_unshuffle(x, factor), lambda x: TF.pixel_unshuffle(x, factor), shape)
