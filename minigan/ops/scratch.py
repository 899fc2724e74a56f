"""Reused buffers for transient arrays inside an op (never returned to the caller).

On the CPU a fresh array of a few MB is a new mapping whose every 4 KiB page faults on first
touch (about a microsecond each), on every call; reusing one buffer per purpose pays that once.
CuPy's memory pool already reuses its blocks, so on cuda this is a plain allocation.
"""
import math

import numpy as np

_buffers = {}
_zero_borders = {}   # purpose key -> (shape, interior) whose zero border its buffer still holds
ALIASED_STEP = 4096  # bytes: loads a multiple of this apart fall in one L1 cache set
CHANNEL_GROUP = 8    # channels copied at a time from such an image


def scratch(xp, purpose, shape, dtype):
    """An uninitialised array of `shape` backed by the buffer kept for `purpose` and dtype. Valid
    until the next call for the same purpose: use it only for a value consumed right away."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    size = math.prod(shape)   # np.prod costs ~10 us a call, on every conv
    key = (purpose, np.dtype(dtype).str)
    _zero_borders.pop(key, None)
    buffer = _buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = _buffers[key] = np.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)


def is_buffer(array):
    """Whether `array` is one of the scratch buffers (whose contents the next op overwrites)."""
    return any(array is buffer for buffer in _buffers.values())


def in_layout_of(x, allocate):
    """An array shaped like x and laid out like it in memory (e.g. an NCHW view of a channels-last
    buffer): `allocate(shape)` makes a C-contiguous array of x's axes ordered outermost first."""
    if x.flags.c_contiguous:
        return allocate(x.shape)
    order = sorted(range(x.ndim), key=lambda axis: -x.strides[axis])
    block = allocate(tuple(x.shape[axis] for axis in order))
    return block.transpose([order.index(axis) for axis in range(x.ndim)])


def scratch_like(xp, purpose, x):
    """A scratch array laid out like x, so elementwise work between the two runs over memory in order."""
    return in_layout_of(x, lambda shape: scratch(xp, purpose, shape, x.dtype))


def zero_bordered(xp, purpose, shape, dtype, interior):
    """`scratch` for an image (N, H, W, ...) of which the caller writes only `interior`, ((top, rows),
    (left, cols)) along H and W, and nobody writes the rest: that border is zero. It is zeroed only
    when the buffer last served another shape, interior or a plain `scratch` call, so a layer run
    over and over writes its padding once (a fifth to two fifths of DCGAN's padded images)."""
    key, signature = (purpose, np.dtype(dtype).str), (tuple(shape), interior)
    zeroed = xp is np and _zero_borders.get(key) == signature
    out = scratch(xp, purpose, shape, dtype)
    if not zeroed:
        zero_border(out, interior)
        if xp is np:
            _zero_borders[key] = signature
    return out


def zero_border(image, interior):
    """Zero image (N, H, W, ...) outside `interior`, ((top, rows), (left, cols)) along H and W."""
    (top, rows), (left, cols) = interior
    image[:, :top] = 0
    image[:, top + rows:] = 0
    image[:, top:top + rows, :left] = 0
    image[:, top:top + rows, left + cols:] = 0


def copy_channels_last(out, image):
    """out[...] = image, a channels-last view (N, H, W, C) of an array in any layout. From NCHW with
    planes a multiple of 4 KiB apart (32x32 or 64x64 float32), a plain copy reads a pixel's C values
    from addresses in one L1 set, which evict each other; CHANNEL_GROUP channels at a time do not:
    (16, 64, 32, 32) with a cold cache 1.8 -> 0.9 ms. Other plane sizes gain nothing (28x28 loses),
    so they copy whole."""
    step, channels = image.strides[-1], image.shape[-1]
    if not (isinstance(image, np.ndarray) and step > 0 and step % ALIASED_STEP == 0 and channels > CHANNEL_GROUP):
        out[...] = image
        return
    for first in range(0, channels, CHANNEL_GROUP):
        out[..., first:first + CHANNEL_GROUP] = image[..., first:first + CHANNEL_GROUP]
