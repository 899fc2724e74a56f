"""Normalisation to zero mean and unit variance over some dims: the shared core of batch,
instance, layer and group norm (their affine parts are plain mul/add in `functional`), and
batch norm's training step with its per-channel affine fused in (`AffineNormalize`).

Each is fused for speed. Each gradient is a second fused Function (`NormalizeGrad`,
`AffineNormalizeGrad`) whose own backward recomputes the statistics from x with Tensor ops: the
inverse standard deviation depends on x, and freezing it as a constant would make second
derivatives wrong.
"""
import numpy as np

from minigan import backend, fused
from minigan.autograd import Function
from minigan.ops import recycle
from minigan.ops.reduce import channel_broadcast, channel_dims, channel_dots, channel_sums, mean, sum
from minigan.ops.scratch import scratch_like
from minigan.ops.shape import broadcast_to


def _statistics(x, dims, eps):
    """mean, biased variance, 1/sqrt(var + eps) and the normalised x; one new full-size array
    (the result), the squares going to a reused buffer."""
    xp = backend.get_array_module(x)
    mu = x.mean(axis=dims, keepdims=True)
    normalized = x - mu
    squares = xp.multiply(normalized, normalized, out=scratch_like(xp, "norm", normalized))
    var = squares.mean(axis=dims, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    normalized *= inv_std
    return mu, var, inv_std, normalized


class Normalize(Function):
    """(x - mean) / sqrt(var + eps) over `dims` (biased variance). Keeps the batch statistics
    as `.mean` and `.var` arrays, for running-statistics updates."""

    def __init__(self, dims, eps):
        self.dims, self.eps = dims, eps

    def forward(self, x):
        self.mean, self.var, self.inv_std, self.normalized = _statistics(x, self.dims, self.eps)
        return self.normalized

    def backward(self, gy):
        return NormalizeGrad(self.dims, self.eps, self.inv_std, self.normalized)(self.inputs[0], gy)


class NormalizeGrad(Function):
    """gx = s (gy - mean(gy) - x̂ mean(gy x̂)), with s = 1/sqrt(var + eps) and x̂ the output."""

    def __init__(self, dims, eps, inv_std=None, normalized=None):
        self.dims, self.eps = dims, eps
        self.inv_std, self.normalized = inv_std, normalized  # forward-only shortcuts

    def forward(self, x, gy):
        if self.inv_std is None:
            _, _, self.inv_std, self.normalized = _statistics(x, self.dims, self.eps)
        s, xhat, dims = self.inv_std, self.normalized, self.dims
        xp = backend.get_array_module(gy)
        gy_xhat = xp.multiply(gy, xhat, out=scratch_like(xp, "norm", xhat))
        gx = xhat * gy_xhat.mean(axis=dims, keepdims=True)   # the one new array, then in place
        xp.subtract(gy, gx, out=gx)
        gx -= gy.mean(axis=dims, keepdims=True)
        gx *= s
        return gx

    def backward(self, a):
        """Derivatives of <a, gx> with respect to gy and x, from statistics recomputed as Tensors."""
        x, gy = self.inputs
        return _Recomputed(x, self.dims, self.eps).normalize_grad_vjp(gy, a, *self.needs_input_grad)


class _Recomputed:
    """x's statistics as differentiable Tensor ops, for the gradients' own backwards."""

    def __init__(self, x, dims, eps):
        self.dims = dims
        centered = x - mean(x, dims, keepdim=True)
        self.s = (mean(centered * centered, dims, keepdim=True) + eps) ** -0.5
        self.xhat = centered * self.s
        self.count = _count(x.shape, dims)

    def project(self, v):
        """The (symmetric) Jacobian of x -> x̂ applied to v."""
        dims, s, xhat = self.dims, self.s, self.xhat
        return s * (v - mean(v, dims, keepdim=True) - xhat * mean(v * xhat, dims, keepdim=True))

    def normalize_grad_vjp(self, gy, a, need_x, need_gy):
        """(d<a, gx>/dx, d<a, gx>/dgy) for gx = project(gy), NormalizeGrad's output."""
        dims, s, xhat, count = self.dims, self.s, self.xhat, self.count
        g_gy = self.project(a) if need_gy else None
        g_x = None
        if need_x:
            a_dot = sum(a * (gy - mean(gy, dims, keepdim=True)), dims, keepdim=True)
            m = mean(gy * xhat, dims, keepdim=True)
            a_xhat = sum(a * xhat, dims, keepdim=True)
            g_x = (-(s * s) * (1.0 / count) * xhat * (a_dot - m * a_xhat)
                   - s * a_xhat * (1.0 / count) * self.project(gy) - s * m * self.project(a))
        return g_x, g_gy


# ------------------------------------------------------------ batch norm with its affine fused
def _per_channel(v, x):
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against x."""
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


class AffineNormalize(Function):
    """Batch norm in training: y = x̂ w + b per channel (axis 1), x̂ = (x - mean) / sqrt(var + eps)
    over every other axis (biased variance). One Function instead of normalise, multiply, add:
    five passes over x instead of nine (channel sums by BLAS, the squares' sums by einsum without
    writing them). Keeps `.mean` and `.var`."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x, w, b):
        xp = backend.get_array_module(x)
        if xp is not np:   # one fused kernel and two reductions instead of some twenty launches
            self.mean, self.var, self.inv_std, xhat, y = fused.batch_norm_forward(x, w, b, self.eps)
            self.saved, self.saved_scale = xhat, 1.0
            return y
        count = x.size // x.shape[1]
        self.mean = channel_sums(x) / count
        centered = xp.subtract(x, channel_broadcast(self.mean, x), out=recycle.empty_like(x))
        self.var = channel_dots(centered, centered) / count
        self.inv_std = 1.0 / xp.sqrt(self.var + self.eps)
        self.saved, self.saved_scale = centered, self.inv_std    # x̂ is never stored: a pass fewer
        y = xp.multiply(centered, channel_broadcast(w * self.inv_std, x), out=recycle.empty_like(x))
        y += channel_broadcast(b, x)
        return y

    def backward(self, gy):
        x, w, _ = self.inputs
        gx, gw, gb = AffineNormalizeGrad(self.eps, self.inv_std, self.saved, self.saved_scale)(x, gy, w)
        return gx, gw, gb


class AffineNormalizeGrad(Function):
    """AffineNormalize's gradients (gx, gw, gb) from (x, gy, w): gb = sum gy, gw = sum gy x̂,
    gx = w s (gy - gb / M - x̂ gw / M) with s = 1/sqrt(var + eps), M values per channel. From the
    forward, as arrays (no graph): s and x̂ = saved * saved_scale (per channel; NumPy keeps x - mean
    and s, CuPy's fused kernels x̂ and 1)."""

    def __init__(self, eps, inv_std, saved, saved_scale):
        self.eps, self.inv_std = eps, inv_std
        self.saved, self.saved_scale = saved, saved_scale

    def forward(self, x, gy, w):
        xp = backend.get_array_module(gy)
        if xp is not np:
            return fused.batch_norm_backward(gy, self.saved, w, self.inv_std)
        count = x.size // x.shape[1]
        gb = channel_sums(gy)
        gw = channel_dots(gy, self.saved) * self.saved_scale
        scale = w * self.inv_std
        gx = xp.multiply(gy, channel_broadcast(scale, gy), out=recycle.empty_like(gy))
        saved = self.saved
        gx -= xp.multiply(saved, channel_broadcast(scale * gw * self.saved_scale / count, saved),
                          out=scratch_like(xp, "norm", saved))
        gx -= channel_broadcast(scale * gb / count, gy)
        return gx, gw, gb

    def backward(self, a_x, a_w, a_b):
        """Derivatives of <a_x, gx> + <a_w, gw> + <a_b, gb> with respect to x, gy and w."""
        x, gy, w = self.inputs
        need_x, need_gy, need_w = self.needs_input_grad
        stats = _Recomputed(x, channel_dims(x), self.eps)
        g_x = g_gy = g_w = None
        if a_x is not None:    # gx = project(gy w)
            g_x, g_gyw = stats.normalize_grad_vjp(gy * _per_channel(w, x), a_x, need_x, need_gy or need_w)
            if g_gyw is not None:
                g_gy = g_gyw * _per_channel(w, x) if need_gy else None
                g_w = sum(g_gyw * gy, channel_dims(x)) if need_w else None
        if a_w is not None:    # gw = sum(gy x̂)
            a_w = _per_channel(a_w, x)
            g_gy = _plus(g_gy, a_w * stats.xhat) if need_gy else None
            g_x = _plus(g_x, stats.project(gy * a_w)) if need_x else None
        if a_b is not None and need_gy:    # gb = sum(gy)
            g_gy = _plus(g_gy, broadcast_to(_per_channel(a_b, x), x.shape))
        return g_x, g_gy, g_w


def _plus(total, term):
    return term if total is None else total + term


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def normalize(x, dims, eps=1e-5):
    """The fused normalisation over `dims` (non-negative ints)."""
    return Normalize(tuple(dims), eps)(x)
