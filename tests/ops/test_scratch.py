"""Scratch buffers: reused per purpose, and laid out like the array they stand beside."""
import numpy as np

import pytest

from minigan.ops.scratch import copy_channels_last, scratch, scratch_like, zero_bordered


def test_scratch_reuses_one_buffer_per_purpose_and_dtype():
    a = scratch(np, "test-a", (4, 5), np.float32)
    b = scratch(np, "test-a", (2, 3), np.float32)
    assert np.shares_memory(a, b)
    assert not np.shares_memory(a, scratch(np, "test-b", (4, 5), np.float32))
    assert not np.shares_memory(a, scratch(np, "test-a", (4, 5), np.float64))
    assert scratch(np, "test-a", (40, 50), np.float32).shape == (40, 50)   # grows when asked for more


def test_scratch_like_follows_a_channels_last_layout():
    x = np.zeros((2, 5, 6, 3), dtype=np.float32).transpose(0, 3, 1, 2)   # NCHW view of NHWC memory
    buffer = scratch_like(np, "test-like", x)
    assert buffer.shape == x.shape
    assert np.argsort(buffer.strides).tolist() == np.argsort(x.strides).tolist()
    assert buffer.transpose(0, 2, 3, 1).flags.c_contiguous


def _border(image, interior):
    (top, rows), (left, cols) = interior
    inside = np.zeros(image.shape[1:3], bool)
    inside[top:top + rows, left:left + cols] = True
    return image[:, ~inside]


def test_zero_bordered_is_zero_around_its_interior_whatever_used_the_buffer_before(monkeypatch):
    import minigan.ops.scratch as scratch_module
    zeroings = []
    original = scratch_module.zero_border
    monkeypatch.setattr(scratch_module, "zero_border", lambda *a: zeroings.append(1) or original(*a))
    interior, shape = ((1, 3), (2, 2)), (2, 5, 6, 3)

    def bordered(interior=interior, shape=shape):
        image = zero_bordered(np, "test-border", shape, np.float32, interior)
        (top, rows), (left, cols) = interior
        image[:, top:top + rows, left:left + cols] = 5.0      # what a caller does: write the inside
        assert not _border(image, interior).any()
        return image

    scratch(np, "test-border", shape, np.float32).fill(7.0)   # a plain user leaves garbage
    bordered()
    bordered()
    assert len(zeroings) == 1                                  # the second call found its border intact
    scratch(np, "test-border", shape, np.float32).fill(7.0)
    bordered()
    assert len(zeroings) == 2                                  # a plain scratch call in between: zeroed again
    bordered(((0, 4), (1, 5)))
    bordered()
    assert len(zeroings) == 4                                  # another interior each time: zeroed each time
    bordered(shape=(1, 5, 6, 3))
    assert len(zeroings) == 5                                  # and another shape


@pytest.mark.parametrize("shape", [(2, 12, 32, 32), (1, 20, 64, 32), (2, 5, 7, 9), (1, 3, 32, 32)])
def test_copy_channels_last_copies_every_channel_of_any_plane_size(monkeypatch, shape):
    """NCHW images whose planes are 4 KiB apart go 8 channels at a time (12 and 20: a partial last
    group); others in one copy. Either way every value lands where a plain copy puts it."""
    import minigan.ops.scratch as scratch_module
    copies = []
    monkeypatch.setattr(scratch_module, "CHANNEL_GROUP", 8)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    image = x.transpose(0, 2, 3, 1)
    out = np.full((shape[0], shape[2] + 2, shape[3] + 2, shape[1]), np.nan, np.float32)

    class Counting(np.ndarray):
        def __setitem__(self, index, value):
            copies.append(index)
            super().__setitem__(index, value)

    interior = out[:, 1:-1, 1:-1].view(Counting)
    copy_channels_last(interior, image)
    np.testing.assert_array_equal(out[:, 1:-1, 1:-1], image)
    assert np.isnan(_border(out, ((1, shape[2]), (1, shape[3])))).all()     # nothing written outside
    aliased = shape[2] * shape[3] * 4 % 4096 == 0 and shape[1] > 8
    assert len(copies) == (-(-shape[1] // 8) if aliased else 1)
