"""Recycled output blocks: handed out again only when no array refers to them."""
import numpy as np
import pytest

from minigan.ops import recycle

SHAPE = (512, 1024)   # 2 MiB of float32: above the recycling threshold


@pytest.fixture(autouse=True)
def fresh_pool():
    recycle.clear()
    yield
    recycle.clear()


def _address(a):
    return a.__array_interface__["data"][0]


def test_a_block_comes_back_once_every_view_is_gone():
    a = recycle.empty(SHAPE, np.float32)
    address = _address(a)
    views = [a.T, a[::2], a.reshape(-1)[10:], a.T[1:].T]
    del a
    while views:
        fresh = recycle.empty(SHAPE, np.float32)
        assert not any(np.shares_memory(fresh, v) for v in views)   # busy while any view lives
        views.pop()
        del fresh
    assert _address(recycle.empty(SHAPE, np.float32)) == address  # then handed out again
    assert recycle.pooled_bytes() == 2 * 2 ** 21                   # the block and one for `fresh`


def test_live_arrays_never_share_a_block():
    arrays = [recycle.empty(SHAPE, np.float32) for _ in range(4)]
    for i, a in enumerate(arrays):
        a[...] = i
    assert [float(a[0, 0]) for a in arrays] == [0.0, 1.0, 2.0, 3.0]
    del arrays[1]
    reused = recycle.empty(SHAPE, np.float32)
    reused[...] = 9
    assert [float(a[0, 0]) for a in arrays] == [0.0, 2.0, 3.0]


def test_small_arrays_and_the_cap_fall_back_to_plain_allocations(monkeypatch):
    small = recycle.empty((4, 4), np.float32)
    assert small.base is None and recycle.pooled_bytes() == 0
    monkeypatch.setattr(recycle, "MAX_POOLED_BYTES", 3 * 2 ** 20)
    kept = [recycle.empty(SHAPE, np.float32) for _ in range(3)]
    assert recycle.pooled_bytes() == 2 ** 21 and kept[1].base is None and kept[2].base is None


def test_empty_like_keeps_a_channels_last_layout():
    x = np.zeros((8, 32, 32, 64), dtype=np.float32).transpose(0, 3, 1, 2)
    y = recycle.empty_like(x)
    assert y.shape == x.shape and y.transpose(0, 2, 3, 1).flags.c_contiguous
