"""2-D pooling: avg_pool2d, max_pool2d and adaptive_avg_pool2d.

Each pool is a linear map with a sibling Function for its adjoint: AvgPool2d / AvgPool2dGrad
(window sum and its scatter, each the other's gradient) and MaxPool2d / MaxPool2dGrad (the argmax
positions are fixed once found, so the backward scatters to them and its own backward gathers
from them). All are differentiable to any order.
"""
import numbers
from dataclasses import dataclass

import numpy as np

from minigan import backend
from minigan.autograd import Function
from minigan.ops.image_args import image_batch, int_pair
from minigan.ops.scatter import scatter_add
from minigan.ops.shape import getitem, reshape


@dataclass(frozen=True)
class _Pooling:
    """Where the windows lie: padding is (top, bottom) and (left, right), bottom/right grown for ceil_mode."""
    kernel: tuple
    stride: tuple
    dilation: tuple
    pad_h: tuple
    pad_w: tuple
    out_hw: tuple

    def padded(self, x, fill):
        """x with its padding, or x itself when there is none."""
        (top, bottom), (left, right) = self.pad_h, self.pad_w
        if top == bottom == left == right == 0:
            return x
        xp = backend.get_array_module(x)
        n, c, h, w = x.shape
        out = xp.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
        out[:, :, top:top + h, left:left + w] = x
        return out

    def taps(self):
        """The slice of the padded input that each kernel tap reads, for every output position at once."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_hw
        return [(..., slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
                for i in range(kh) for j in range(kw)]

    def unpad(self, x_padded, hw):
        top, left = self.pad_h[0], self.pad_w[0]
        return x_padded[:, :, top:top + hw[0], left:left + hw[1]]


def _window_sum(x, pooling):
    padded = pooling.padded(x, 0)
    taps = pooling.taps()
    total = padded[taps[0]].copy()
    for tap in taps[1:]:
        total += padded[tap]
    return total


def _scatter_sum(gy, pooling, in_hw):
    """The adjoint of _window_sum: every output's value added back to each input of its window."""
    xp = backend.get_array_module(gy)
    n, c = gy.shape[:2]
    (top, bottom), (left, right) = pooling.pad_h, pooling.pad_w
    gx = xp.zeros((n, c, in_hw[0] + top + bottom, in_hw[1] + left + right), dtype=gy.dtype)
    for tap in pooling.taps():
        gx[tap] += gy
    return pooling.unpad(gx, in_hw)


# ---------------------------------------------------------------------------------- average
class AvgPool2d(Function):
    """y = (window sum of x) / divisor, with divisor of shape (Ho, Wo)."""

    def __init__(self, pooling, divisor):
        self.pooling, self.divisor = pooling, divisor

    def forward(self, x):
        return _window_sum(x, self.pooling) / _on_device(self.divisor, x)

    def backward(self, gy):
        return AvgPool2dGrad(self.pooling, self.divisor, self.inputs[0].shape[2:])(gy)


class AvgPool2dGrad(Function):
    """The adjoint of AvgPool2d: gy / divisor spread over each window. Its adjoint is AvgPool2d."""

    def __init__(self, pooling, divisor, in_hw):
        self.pooling, self.divisor, self.in_hw = pooling, divisor, tuple(in_hw)

    def forward(self, gy):
        return _scatter_sum(gy / _on_device(self.divisor, gy), self.pooling, self.in_hw)

    def backward(self, ggx):
        return AvgPool2d(self.pooling, self.divisor)(ggx)


def _on_device(divisor, like):
    return backend.get_array_module(like).asarray(divisor, dtype=like.dtype)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """torch.nn.functional.avg_pool2d on x (N, C, H, W) or (C, H, W)."""
    op = "avg_pool2d"
    x, unbatched = image_batch(op, x)
    pooling, starts = _pooling(op, x, kernel_size, stride, padding, 1, ceil_mode)
    divisor = _divisor(pooling, starts, x.shape[2:], padding=int_pair(op, "padding", padding, 0),
                       count_include_pad=count_include_pad)
    y = AvgPool2d(pooling, divisor)(x)
    return y[0] if unbatched else y


def _divisor(pooling, starts, in_hw, padding, count_include_pad):
    """How many entries each window averages, as PyTorch counts them: (Ho, Wo) float64 on the host.

    Windows are clipped to the padded input (ceil_mode's extra windows are shorter); with
    count_include_pad=False also to the input itself. Counts factor into rows times columns.
    """
    counts = []
    for start, k, size, p in zip(starts, pooling.kernel, in_hw, padding):
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append((end - start).astype(np.float64))
    return np.outer(*counts)


def adaptive_avg_pool2d(x, output_size):
    """torch.nn.functional.adaptive_avg_pool2d when H and W are multiples of the output size (then
    it is avg_pool2d with kernel = stride = input / output). output_size: int or pair (None keeps)."""
    op = "adaptive_avg_pool2d"
    x_4d, _ = image_batch(op, x)
    in_hw = x_4d.shape[2:]
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else output_size
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(s if o is None else o for o, s in zip(sizes, in_hw))
    if any(not isinstance(o, numbers.Integral) or o < 1 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    if any(s % o for s, o in zip(in_hw, sizes)):
        raise NotImplementedError(
            f"{op}: input size {tuple(in_hw)} is not a multiple of output size {sizes}; only that case "
            "is supported (windows of equal size)")
    kernel = tuple(int(s // o) for s, o in zip(in_hw, sizes))
    return avg_pool2d(x, kernel, kernel)


# ---------------------------------------------------------------------------------- maximum
class MaxPool2d(Function):
    """y = the largest entry of each window (NaN wins, as in PyTorch); its gradient goes to the
    first entry of the window that equals the maximum."""

    def __init__(self, pooling):
        self.pooling = pooling

    def forward(self, x):
        xp = backend.get_array_module(x)
        padded = self.pooling.padded(x, -xp.inf)
        taps = self.pooling.taps()
        best = padded[taps[0]].copy()
        for tap in taps[1:]:
            xp.maximum(best, padded[tap], out=best)
        return best

    def backward(self, gy):
        x = self.inputs[0]
        winner = _winning_taps(self.pooling, x.data, self.output.data)
        positions = _argmax_positions(self.pooling, winner, x.shape)
        return MaxPool2dGrad(self.pooling, positions, x.shape)(gy)


def _winning_taps(pooling, x, best):
    """Per output, the index of the first tap whose entry equals the maximum (or is NaN)."""
    xp = backend.get_array_module(x)
    padded = pooling.padded(x, -xp.inf)
    taps = pooling.taps()
    nan = bool(xp.isnan(best).any())
    winner = xp.zeros(best.shape, dtype=xp.int8 if len(taps) < 128 else xp.int32)
    for t in reversed(range(len(taps))):  # the last assignment wins: the first matching tap
        value = padded[taps[t]]
        match = (value == best) | (value != value) if nan else value == best
        winner += match * (winner.dtype.type(t) - winner)  # where(match, t, winner), but faster
    return winner


def _argmax_positions(pooling, winner, x_shape):
    """Flat indices into x of each output's winning entry."""
    xp = backend.get_array_module(winner)
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = pooling.kernel, pooling.stride, pooling.dilation, pooling.out_hw
    # row and column of every (output, tap) pair; a window that is all padding or -inf may "win"
    # at a padded spot, which is clipped onto the input (PyTorch picks its first input entry)
    rows = xp.clip(xp.arange(ho)[:, None] * sh + xp.arange(kh) * dh - pooling.pad_h[0], 0, h - 1)
    cols = xp.clip(xp.arange(wo)[:, None] * sw + xp.arange(kw) * dw - pooling.pad_w[0], 0, w - 1)
    offsets = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(-1)  # (ho, wo, kh, kw)
    pixel = xp.arange(ho * wo).reshape(ho, wo) * (kh * kw)
    return offsets[pixel + winner] + xp.arange(n * c).reshape(n, c, 1, 1) * (h * w)


class MaxPool2dGrad(Function):
    """gx = gy scattered to the winning positions (summed where windows overlap). Linear in gy;
    its gradient gathers from the same positions."""

    def __init__(self, pooling, positions, x_shape):
        self.pooling, self.positions, self.x_shape = pooling, positions, tuple(x_shape)

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.x_shape, dtype=gy.dtype).reshape(-1)
        if self._windows_overlap():
            scatter_add(gx, self.positions.reshape(-1), gy.reshape(-1))
        else:
            gx[self.positions.reshape(-1)] = gy.reshape(-1)
        return gx.reshape(self.x_shape)

    def _windows_overlap(self):
        return any(s < d * (k - 1) + 1 for k, s, d in
                   zip(self.pooling.kernel, self.pooling.stride, self.pooling.dilation))

    def backward(self, ggx):
        return getitem(reshape(ggx, (-1,)), self.positions)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """torch.nn.functional.max_pool2d on x (N, C, H, W) or (C, H, W) (values only, no indices)."""
    op = "max_pool2d"
    x, unbatched = image_batch(op, x)
    pooling, _ = _pooling(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    y = MaxPool2d(pooling)(x)
    return y[0] if unbatched else y


# ------------------------------------------------------------------------------ validation




def _pooling(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The window geometry, as PyTorch computes it, and each axis's window starts (for divisors)."""
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else int_pair(op, "stride", stride, 1)
    padding = int_pair(op, "padding", padding, 0)
    dilation = int_pair(op, "dilation", dilation, 1)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    out_hw, pads, starts = [], [], []
    for size, e, s, p in zip(x.shape[2:], extent, stride, padding):
        span = size + 2 * p - e
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside the input or left pad
            out -= 1
        out_hw.append(out)
        pads.append((p, p + max(0, (out - 1) * s + e - (size + 2 * p))))
        starts.append(np.arange(out) * s - p)
    if min(out_hw) <= 0:
        raise ValueError(f"{op}: output size would be {tuple(out_hw)} (input shape {tuple(x.shape)}, "
                         f"kernel_size {kernel}, stride {stride}, padding {padding}, dilation {dilation})")
    return _Pooling(kernel, stride, dilation, pads[0], pads[1], tuple(out_hw)), starts
