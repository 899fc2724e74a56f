"""Argument checks shared by the ops on (N, C, H, W) images (conv, pool)."""
import numbers

from minigan.autograd import Tensor
from minigan.ops.shape import getitem


def int_pair(op, name, value, minimum):
    """An int or a pair of ints as a pair, each at least `minimum`."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(v, numbers.Integral) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return pair


def image_batch(op, x):
    """(x as (N, C, H, W), whether it was unbatched): (C, H, W) inputs are a batch of one, as in PyTorch."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise ValueError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return (getitem(x, (None,)), True) if x.ndim == 3 else (x, False)
