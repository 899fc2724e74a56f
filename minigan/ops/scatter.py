"""Scatter-add with the same bits on every run, on both devices.

`add.at(target, index, values)` adds values at positions that may repeat. NumPy adds them one by
one in order. CuPy adds with atomics, whose order (and so the float rounding) changes from run
to run once three or more values land on one position. Gradients must be reproducible (backward
twice gives identical bits; gradcheck checks it on cuda too), so on cuda the repeats are added in
rounds: round r adds the r-th value of every position, no position repeats within a round, and
each position receives its values in order of appearance, as NumPy adds them.
"""
import numpy as np

from minigan import backend


def scatter_add(target, index, values):
    """target[index] += values, repeated positions adding up (target C-contiguous, changed in place)."""
    xp = backend.get_array_module(target)
    if xp is np:
        np.add.at(target, index, values)
    else:
        add_in_rounds(xp, target, index, values)


def add_in_rounds(xp, target, index, values):
    """scatter_add's cuda path, written for either array module so CI can check it on NumPy."""
    if not target.flags.c_contiguous:
        raise ValueError("scatter_add: the target must be C-contiguous (it is updated through a flat view)")
    positions = xp.arange(target.size).reshape(target.shape)[index]
    values = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), positions.shape).reshape(-1)
    positions = positions.reshape(-1)
    by_position = xp.argsort(positions, kind="stable")
    sorted_positions = positions[by_position]
    # rank = how many earlier values share the position (0 for the first)
    rank = xp.arange(positions.size) - xp.searchsorted(sorted_positions, sorted_positions, side="left")
    by_round = by_position[xp.argsort(rank, kind="stable")]
    round_sizes = backend.as_numpy(xp.bincount(rank)) if rank.size else np.zeros(0, dtype=np.int64)
    flat = target.reshape(-1)
    start = 0
    for size in round_sizes.tolist():
        chosen = by_round[start:start + size]
        flat[positions[chosen]] += values[chosen]
        start += size
