"""Reductions: sum, mean, var, max/min, logsumexp, and the softmax family built on them."""
import builtins
from collections import namedtuple

import numpy as np

from minigan import backend, profiler
from minigan.autograd import Function, Tensor
from minigan.ops.elementwise import exp, log
from minigan.ops import recycle
from minigan.ops.scratch import in_layout_of
from minigan.ops.shape import broadcast_to, normalize_dim, normalize_dims, reshape, squeeze


def _keepdim_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def channel_dims(x):
    """Every axis of x (N, C, ...) but the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def channel_sums(a):
    """sum of a (N, C, ...) over every axis but 1, shape (C,). As a matrix-vector product when
    a's memory allows one (channels innermost, or (N, C, L) contiguous): the BLAS runs it on every
    core at several times the speed of NumPy's strided reduction."""
    if a.dtype.kind not in "fc":                       # ints and bools: no BLAS (and @ of bools is OR)
        return a.sum(axis=channel_dims(a))
    xp = backend.get_array_module(a)
    if xp is not np:                                   # CuPy: one reduction kernel beats ones + GEMV
        return a.sum(axis=channel_dims(a))
    c = a.shape[1]
    rows = a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))
    if rows.flags.c_contiguous:                        # channels innermost: (M, C)
        rows = rows.reshape(-1, c)
        return profiler.matmul(xp, xp.ones(rows.shape[0], dtype=a.dtype), rows)
    if a.flags.c_contiguous:                           # (N, C, L)
        planes = a.reshape(a.shape[0], c, -1)
        return profiler.matmul(xp, planes, xp.ones(planes.shape[2], dtype=a.dtype)).sum(axis=0)
    return a.sum(axis=channel_dims(a))


DOT_ROWS = 512   # channels-last product sums add this many rows per partial sum (float32 rounding)


def channel_dots(a, b):
    """sum of a * b over every axis but 1, shape (C,), for NumPy arrays a, b (N, C, ...) of one
    layout, without the product array: einsum multiplies and adds in one pass, which beats writing
    the product and summing it by BLAS (batch norm's variance and weight gradient, cold operands:
    (64, 64, 14, 14) 0.30 -> 0.17 ms NCHW, 0.63 -> 0.18 ms channels-last). Channels innermost,
    einsum adds the rows one after another, so they go in blocks of DOT_ROWS whose partial sums are
    added at the end: a sum over 2^20 rows is then off by 1e-6 of itself, not 5e-4."""
    c = a.shape[1]
    order = (0,) + tuple(range(2, a.ndim)) + (1,)
    rows_a, rows_b = a.transpose(order), b.transpose(order)
    if rows_a.flags.c_contiguous and rows_b.flags.c_contiguous:      # channels innermost: (M, C)
        rows_a, rows_b = rows_a.reshape(-1, c), rows_b.reshape(-1, c)
        blocks = len(rows_a) // DOT_ROWS
        whole = blocks * DOT_ROWS
        sums = np.einsum("kij,kij->kj", rows_a[:whole].reshape(blocks, DOT_ROWS, c),
                         rows_b[:whole].reshape(blocks, DOT_ROWS, c)).sum(axis=0) if blocks else 0
        return sums + np.einsum("ij,ij->j", rows_a[whole:], rows_b[whole:])
    if a.flags.c_contiguous and b.flags.c_contiguous:                # (N, C, L): einsum sums runs of L
        return np.einsum("ncl,ncl->c", a.reshape(a.shape[0], c, -1), b.reshape(b.shape[0], c, -1))
    return channel_sums(a * b)


def channel_broadcast(v, like):
    """A (C,) vector spread over one sample of `like` (N, C, ...): shape (1, C, ...), laid out in
    memory like `like`. An elementwise op of `like` with it runs over each sample's values in one
    stretch, where against v.reshape(1, C, 1, ...) NumPy restarts its inner loop every row or
    pixel: a per-channel multiply of a (64, 64, 14, 14) float32 array 0.14 -> 0.09 ms (2 cores).
    On CuPy, or for (N, C) arrays, that plain reshape."""
    per_channel = v.reshape((1, -1) + (1,) * (like.ndim - 2))
    if like.ndim <= 2 or backend.get_array_module(like) is not np:
        return per_channel
    spread = in_layout_of(like[:1], lambda shape: recycle.empty(shape, like.dtype))  # large samples: no re-faulting
    spread[...] = per_channel
    return spread


class Sum(Function):
    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        if x.ndim > 1 and self.dims == channel_dims(x):     # per-channel sums (bias gradients)
            sums = channel_sums(x)
            return sums.reshape(_keepdim_shape(x.shape, self.dims)) if self.keepdim else sums
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        x = self.inputs[0]
        return broadcast_to(reshape(gy, _keepdim_shape(x.shape, self.dims)), x.shape)


def sum(x, dim=None, keepdim=False):
    return Sum(normalize_dims("sum", dim, x.ndim), keepdim)(x)


def _count(x, dims):
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


def mean(x, dim=None, keepdim=False):
    dims = normalize_dims("mean", dim, x.ndim)
    return sum(x, dims, keepdim) * (1.0 / builtins.max(_count(x, dims), 1))


def var(x, dim=None, keepdim=False, unbiased=True, correction=None):
    """Variance with Bessel's correction by default (`unbiased=True`), as torch.var."""
    dims = normalize_dims("var", dim, x.ndim)
    if correction is None:
        correction = 1 if unbiased else 0
    centered = x - mean(x, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim) * (1.0 / builtins.max(_count(x, dims) - correction, 1))


def std(x, dim=None, keepdim=False, unbiased=True, correction=None):
    return var(x, dim, keepdim, unbiased, correction) ** 0.5


class Extremum(Function):
    """amax / amin over dims; tied maxima share the gradient evenly (as torch.amax)."""

    def __init__(self, dims, keepdim, largest):
        self.dims, self.keepdim, self.largest = dims, keepdim, largest

    def forward(self, x):
        reduce = x.max if self.largest else x.min
        return reduce(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        x = self.inputs[0]
        kept = _keepdim_shape(x.shape, self.dims)
        winners = x.data == self.output.data.reshape(kept)
        share = winners / winners.sum(axis=self.dims, keepdims=True)
        return broadcast_to(reshape(gy, kept), x.shape) * Tensor(share.astype(x.dtype))


def _check_nonempty(op, x, dims):
    if any(x.shape[d] == 0 for d in dims):
        raise ValueError(f"{op}: cannot reduce an empty dimension (shape {x.shape})")


def amax(x, dim=None, keepdim=False):
    dims = normalize_dims("amax", dim, x.ndim)
    _check_nonempty("amax", x, dims)
    return Extremum(dims, keepdim, largest=True)(x)


def amin(x, dim=None, keepdim=False):
    dims = normalize_dims("amin", dim, x.ndim)
    _check_nonempty("amin", x, dims)
    return Extremum(dims, keepdim, largest=False)(x)


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _extreme_along(op, x, dim, keepdim, largest):
    """torch.max / torch.min: the whole tensor's extreme, or (values, indices) along `dim`."""
    if dim is None:
        return amax(x) if largest else amin(x)
    dim = normalize_dim(op, dim, x.ndim)
    indices = argmax(x, dim, keepdim=True) if largest else argmin(x, dim, keepdim=True)
    values = gather_along(x, dim, indices)
    if not keepdim:
        values, indices = squeeze(values, dim), Tensor(indices.data.squeeze(dim))
    return MaxResult(values, indices)


def gather_along(x, dim, indices):
    """x's entries at `indices` (an integer Tensor with size 1 along `dim`), differentiable in x."""
    xp = x.xp
    grids = xp.ogrid[tuple(slice(n) for n in indices.shape)]
    index = tuple(indices.data if i == dim else grids[i] for i in range(x.ndim))
    return x[index]


def max(x, dim=None, keepdim=False):
    return _extreme_along("max", x, dim, keepdim, largest=True)


def min(x, dim=None, keepdim=False):
    return _extreme_along("min", x, dim, keepdim, largest=False)


def argmax(x, dim=None, keepdim=False):
    return _arg_extreme(x, dim, keepdim, x.xp.argmax)


def argmin(x, dim=None, keepdim=False):
    return _arg_extreme(x, dim, keepdim, x.xp.argmin)


def _arg_extreme(x, dim, keepdim, find):
    if dim is None:
        return Tensor(find(x.data.reshape(-1)))
    dim = normalize_dim("argmax", dim, x.ndim)
    index = find(x.data, axis=dim)
    return Tensor(backend.get_array_module(index).expand_dims(index, dim) if keepdim else index)


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) without overflow: the max is taken out as a constant (it cancels)."""
    dims = normalize_dims("logsumexp", dim, x.ndim)
    shift = Tensor(x.data.max(axis=dims, keepdims=True))
    shift.data[~x.xp.isfinite(shift.data)] = 0
    out = log(sum(exp(x - shift), dims, keepdim=True)) + shift
    return out if keepdim else squeeze(out, dims)


def log_softmax(x, dim):
    return x - logsumexp(x, dim, keepdim=True)


def softmax(x, dim):
    return exp(log_softmax(x, dim))
