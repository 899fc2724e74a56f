"""Scratch buffers: reused per purpose, and laid out like the array they stand beside."""
import numpy as np

from minigan.ops.scratch import scratch, scratch_like


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
