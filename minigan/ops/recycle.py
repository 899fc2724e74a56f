"""Recycled memory for large op outputs on the CPU.

A fresh array of a few MB is a new mapping from the OS (glibc hands large blocks back when they are
freed), and each of its 4 KiB pages faults on first touch: about a microsecond each on a VM, more
than the arithmetic of a cheap op. Training allocates the same shapes every step, so large op
outputs are carved from blocks kept here and handed out again once nothing refers to them.

A block is free when its reference count says only this module holds it: every array made from it
is a view whose `.base` is the block itself (NumPy points views of views at the owner), so a live
view anywhere keeps the block busy. The count a free block shows is measured once, through the
very function that reads it, so an interpreter that counts references differently stays safe.
"""
import sys

import numpy as np

from minigan.ops.scratch import in_layout_of

MIN_BYTES = 1 << 16          # below ~64 KB, malloc keeps freed blocks warm; above, glibc trims and
                             # re-faults them (a toy wgan-gp step: 16,800 faults, 457 -> 396 ms at 64 KB)
MAX_POOLED_BYTES = 1 << 30   # beyond this, plain allocations: a cap, not a cache of everything
_blocks = {}                 # (dtype, size) -> [1-D owner arrays]
_pooled_bytes = 0


def _reference_counts(blocks):
    return [sys.getrefcount(block) for block in blocks]


_FREE_COUNT = _reference_counts([np.empty(1)])[0]   # a block that only its list refers to


def empty(shape, dtype):
    """An uninitialised C-contiguous array, from a recycled block when it is large."""
    global _pooled_bytes
    dtype = np.dtype(dtype)
    size = 1
    for n in shape:
        size *= n
    nbytes = size * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    blocks = _blocks.setdefault((dtype.str, size), [])
    for block, count in zip(blocks, _reference_counts(blocks)):
        if count == _FREE_COUNT:
            return block.reshape(shape)
    if _pooled_bytes + nbytes > MAX_POOLED_BYTES:
        return np.empty(shape, dtype)
    block = np.empty(size, dtype)
    blocks.append(block)
    _pooled_bytes += nbytes
    return block.reshape(shape)


def empty_on(xp, shape, dtype):
    """`empty` for NumPy, a plain `xp.empty` for CuPy (whose memory pool already recycles)."""
    return empty(shape, dtype) if xp is np else xp.empty(shape, dtype=dtype)


def empty_like(x):
    """Like `empty(x.shape, x.dtype)`, laid out in memory like x (e.g. an NCHW view of a
    channels-last buffer), so elementwise work from x into it runs over memory in order."""
    if not isinstance(x, np.ndarray):      # CuPy: its memory pool already recycles blocks
        import cupy
        return cupy.empty_like(x)
    return in_layout_of(x, lambda shape: empty(shape, x.dtype))


def pooled_bytes():
    return _pooled_bytes


def clear():
    """Forget every block (those still in use live on with their arrays)."""
    global _pooled_bytes
    _blocks.clear()
    _pooled_bytes = 0
