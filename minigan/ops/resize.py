"""Resizing and padding: interpolate (nearest, bilinear), pad (constant, reflect, replicate,
circular), pixel_shuffle and pixel_unshuffle. Every one is a linear map of its input.

Interpolation is separable: along each spatial axis it is a small (out, in) matrix, so resizing
is `rows @ x @ cols.T` on every (n, c) plane, and its adjoint is the same map with the matrices
transposed. One Function, `Resample`, serves both modes and its own backward, so it is
differentiable to any order. (The matrices make every output a full dot product over its row:
exact for finite inputs, but an inf or nan spreads along its row and column.)

Reflect, replicate and circular padding gather each output position from one input position;
their adjoint scatter-adds it back, and the adjoint's backward is the gather again.
"""
import functools
import math
import numbers

import numpy as np

from minigan import backend
from minigan.autograd import Function
from minigan.ops.scatter import scatter_add
from minigan.ops.shape import getitem, permute, reshape

INTERPOLATE_MODES = ("nearest", "bilinear")
PAD_MODES = ("constant", "reflect", "replicate", "circular")


# ------------------------------------------------------------------------------ interpolate
class Resample(Function):
    """y = rows @ x @ cols.T over the last two axes: rows is (H_out, H_in), cols (W_out, W_in)."""

    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols  # host float64 matrices, cast to x's dtype and device

    def forward(self, x):
        xp = backend.get_array_module(x)
        rows = xp.asarray(self.rows, dtype=x.dtype)
        cols = xp.asarray(self.cols, dtype=x.dtype)
        return rows @ (x @ cols.T)

    def backward(self, gy):
        return Resample(self.rows.T, self.cols.T)(gy)


@functools.lru_cache(maxsize=256)
def _nearest_matrix(size_in, size_out, scale_factor):
    """One-hot (size_out, size_in) matrix: output i copies input floor(i * scale), PyTorch's rule."""
    dst = np.arange(size_out)
    if size_out == size_in:
        src = dst
    elif size_out == 2 * size_in:
        src = dst // 2
    else:
        # float32 arithmetic, as PyTorch computes it, so boundary pixels pick the same source
        scale = (np.float32(1.0 / scale_factor) if scale_factor is not None
                 else np.float32(size_in) / np.float32(size_out))
        src = np.minimum(np.floor(dst.astype(np.float32) * scale).astype(np.int64), size_in - 1)
    matrix = np.zeros((size_out, size_in))
    matrix[dst, src] = 1.0
    matrix.setflags(write=False)
    return matrix


@functools.lru_cache(maxsize=256)
def _linear_matrix(size_in, size_out, scale_factor, align_corners):
    """(size_out, size_in) matrix of linear interpolation with PyTorch's source coordinates."""
    if size_out == size_in:
        matrix = np.eye(size_in)
    else:
        dst = np.arange(size_out)
        if align_corners:
            src = dst * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
        else:  # pixel centres: (dst + 0.5) * in/out - 0.5, clamped at the first pixel
            scale = 1.0 / scale_factor if scale_factor is not None else size_in / size_out
            src = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
        low = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
        high = np.minimum(low + 1, size_in - 1)
        frac = np.clip(src - low, 0.0, 1.0)
        matrix = np.zeros((size_out, size_in))
        np.add.at(matrix, (dst, low), 1.0 - frac)  # add: low == high on the last pixel
        np.add.at(matrix, (dst, high), frac)
    matrix.setflags(write=False)
    return matrix


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resize (N, C, H, W) to (N, C, H_out, W_out), as torch.nn.functional.interpolate.

    Give exactly one of `size` (int or (H_out, W_out)) and `scale_factor` (number or pair; then
    H_out = floor(H * scale)). `mode` is "nearest" or "bilinear"; `align_corners` (bilinear only,
    default False) maps corner pixel centres onto each other instead of pixel edges.
    """
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}; valid modes are "
                         + ", ".join(repr(m) for m in INTERPOLATE_MODES))
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"interpolate: align_corners={align_corners} is only valid with mode "
                         "'bilinear', got mode 'nearest'")
    if mode == "bilinear" and x.dtype.kind != "f":
        raise TypeError(f"interpolate: mode 'bilinear' needs a floating-point input, got {x.dtype}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor, "
                         f"got size={size} and scale_factor={scale_factor}")
    size_in = x.shape[2:]
    if size is not None:
        size_out = _pair("interpolate", "size", size)
        if not all(isinstance(n, numbers.Integral) for n in size_out):
            raise TypeError(f"interpolate: size must be integers, got {size}")
        scales = (None, None)
    else:
        scales = tuple(float(s) for s in _pair("interpolate", "scale_factor", scale_factor))
        if not all(s > 0 for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor}")
        size_out = tuple(math.floor(n * s) for n, s in zip(size_in, scales))
    if not all(n > 0 for n in size_out):
        raise ValueError(f"interpolate: output size {tuple(size_out)} must be positive "
                         f"(input shape {x.shape}, size={size}, scale_factor={scale_factor})")
    if mode == "nearest":
        rows, cols = (_nearest_matrix(n, int(m), s) for n, m, s in zip(size_in, size_out, scales))
    else:
        rows, cols = (_linear_matrix(n, int(m), s, bool(align_corners))
                      for n, m, s in zip(size_in, size_out, scales))
    return Resample(rows, cols)(x)


def _pair(op, name, value):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} needs one value per spatial dim (2), got {value}")
        return tuple(value)
    return (value, value)


# ------------------------------------------------------------------------- pixel (un)shuffle
def _factor(op, factor):
    if not isinstance(factor, numbers.Integral) or factor < 1:
        raise ValueError(f"{op}: the factor must be a positive integer, got {factor!r}")
    return int(factor)


def pixel_shuffle(x, upscale_factor):
    """(*, C r², H, W) -> (*, C, H r, W r): channel c r² + i r + j fills pixel (i, j) of every
    r x r block of output channel c."""
    r = _factor("pixel_shuffle", upscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_shuffle: expected an input with at least 3 dims (*, C, H, W), "
                         f"got shape {x.shape}")
    *batch, channels, h, w = x.shape
    if channels % (r * r):
        raise ValueError(f"pixel_shuffle: {channels} channels are not divisible by upscale_factor² = "
                         f"{r * r} (input shape {x.shape})")
    lead = len(batch)
    y = reshape(x, (*batch, channels // (r * r), r, r, h, w))
    y = permute(y, (*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2))
    return reshape(y, (*batch, channels // (r * r), h * r, w * r))


def pixel_unshuffle(x, downscale_factor):
    """(*, C, H r, W r) -> (*, C r², H, W): the inverse of pixel_shuffle."""
    r = _factor("pixel_unshuffle", downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expected an input with at least 3 dims (*, C, H, W), "
                         f"got shape {x.shape}")
    *batch, channels, h, w = x.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height {h} and width {w} must be divisible by downscale_factor "
                         f"{r} (input shape {x.shape})")
    lead = len(batch)
    y = reshape(x, (*batch, channels, h // r, r, w // r, r))
    y = permute(y, (*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3))
    return reshape(y, (*batch, channels * r * r, h // r, w // r))


# -------------------------------------------------------------------------------------- pad
class ConstantPad(Function):
    """Surround x with `value`: widths[d] = (before, after) >= 0 for every dim d."""

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        xp = backend.get_array_module(x)
        y = xp.full(tuple(n + b + a for n, (b, a) in zip(x.shape, self.widths)), self.value, dtype=x.dtype)
        y[self._inside(x.shape)] = x
        return y

    def _inside(self, shape):
        return tuple(slice(b, b + n) for n, (b, _) in zip(shape, self.widths))

    def backward(self, gy):
        return getitem(gy, self._inside(self.inputs[0].shape))


class IndexPad(Function):
    """Gather along the padded dims: output position o of dim d reads input position sources[d][o]."""

    def __init__(self, sources, widths):
        self.sources, self.widths = sources, widths  # {dim: host index array}, {dim: (before, after)}

    def forward(self, x):
        xp = backend.get_array_module(x)
        for dim, source in self.sources.items():
            x = xp.take(x, xp.asarray(source), axis=dim)
        return x

    def backward(self, gy):
        return IndexPadAdjoint(self.sources, self.widths, self.inputs[0].shape)(gy)


class IndexPadAdjoint(Function):
    """Scatter-add: each output position's gradient lands on the input position it was read from."""

    def __init__(self, sources, widths, shape):
        self.sources, self.widths, self.shape = sources, widths, shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        for dim, source in self.sources.items():
            before, size = self.widths[dim][0], self.shape[dim]
            lead = (slice(None),) * dim
            # the interior reads x itself; only the border (a few rows) needs a scatter
            gx = gy[lead + (slice(before, before + size),)].copy()
            border = np.r_[0:before, before + size:len(source)]
            scatter_add(gx, lead + (xp.asarray(source[border]),), xp.take(gy, xp.asarray(border), axis=dim))
            gy = gx
        return gy

    def backward(self, ggx):
        return IndexPad(self.sources, self.widths)(ggx)


def _source_index(mode, size, before, after):
    """For every output position along one dim, the input position it copies."""
    position = np.arange(-before, size + after)
    if mode == "reflect":
        position = np.abs(position)
        return np.where(position >= size, 2 * (size - 1) - position, position)
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    return position % size  # circular


def pad(x, pad, mode="constant", value=0.0):
    """Pad the trailing dims, as torch.nn.functional.pad.

    `pad` lists (before, after) pairs from the last dim backwards: (left, right) pads W,
    (left, right, top, bottom) pads W and H. "constant" fills with `value` and pads any number
    of dims (negative widths crop); "reflect" (mirror without repeating the edge, widths < size),
    "replicate" (repeat the edge) and "circular" (wrap around, widths <= size) pad the last 1, 2
    or 3 dims of an input with one or two more dims (batch and channel).
    """
    if mode not in PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; valid modes are "
                         + ", ".join(repr(m) for m in PAD_MODES))
    value = 0.0 if value is None else value  # torch's default
    pad = tuple(pad)
    if not all(isinstance(p, numbers.Integral) for p in pad):
        raise TypeError(f"pad: pad must be integers, got {pad}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must have an even number of entries (left, right, top, bottom, ...), "
                         f"got {len(pad)}: {pad}")
    n_dims = len(pad) // 2
    if n_dims > x.ndim:
        raise ValueError(f"pad: {pad} pads {n_dims} dims but the input has only {x.ndim} (shape {x.shape})")
    widths = [(0, 0)] * x.ndim
    for i in range(n_dims):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        return _constant_pad(x, pad, widths, value)
    if value != 0:
        raise ValueError(f"pad: mode {mode!r} takes no value, got value={value}")
    if not 1 <= n_dims <= 3 or x.ndim not in (n_dims + 1, n_dims + 2):
        raise ValueError(f"pad: {mode} padding with {len(pad)} pad entries needs a "
                         f"{n_dims + 1}-D or {n_dims + 2}-D input, got shape {x.shape} and pad {pad}")
    sources = {}
    for dim in range(x.ndim - n_dims, x.ndim):
        (before, after), size = widths[dim], x.shape[dim]
        if min(before, after) < 0:
            raise ValueError(f"pad: {mode} padding needs non-negative widths, got {pad}")
        if size == 0:
            raise ValueError(f"pad: {mode} padding needs a non-empty dim {dim}, got shape {x.shape}")
        widest = max(before, after)
        if mode == "reflect" and widest >= size or mode == "circular" and widest > size:
            bound = "less than" if mode == "reflect" else "at most"
            raise ValueError(f"pad: {mode} padding ({before}, {after}) of dim {dim} must be {bound} "
                             f"its size {size} (input shape {x.shape})")
        if before or after:
            sources[dim] = _source_index(mode, size, before, after)
    return IndexPad(sources, {d: widths[d] for d in sources})(x) if sources else x


def _constant_pad(x, pad, widths, value):
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    if min(shape) < 0:
        raise ValueError(f"pad: padding {pad} gives a negative output shape {shape} (input shape {x.shape})")
    if any(b < 0 or a < 0 for b, a in widths):  # negative widths crop first
        x = getitem(x, tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths)))
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    if not any(b or a for b, a in widths):
        return x
    return ConstantPad(tuple(widths), value)(x)
