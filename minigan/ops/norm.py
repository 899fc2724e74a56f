"""Normalisation to zero mean and unit variance over some dims: the shared core of batch,
instance, layer and group norm (their affine parts are plain mul/add in `functional`).

`Normalize` is fused for speed. Its gradient is a second fused Function, `NormalizeGrad`, whose
own backward recomputes the statistics from x with Tensor ops: the inverse standard deviation
depends on x, and freezing it as a constant would make second derivatives wrong.
"""
from minigan import backend
from minigan.autograd import Function
from minigan.ops.reduce import mean, sum
from minigan.ops.scratch import scratch_like


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
        dims = self.dims
        centered = x - mean(x, dims, keepdim=True)
        s = (mean(centered * centered, dims, keepdim=True) + self.eps) ** -0.5
        xhat = centered * s
        count = _count(x.shape, dims)

        def project(v):  # the (symmetric) Jacobian of x -> x̂, applied to v
            return s * (v - mean(v, dims, keepdim=True) - xhat * mean(v * xhat, dims, keepdim=True))

        g_gy = project(a) if self.needs_input_grad[1] else None
        g_x = None
        if self.needs_input_grad[0]:
            a_dot = sum(a * (gy - mean(gy, dims, keepdim=True)), dims, keepdim=True)
            m = mean(gy * xhat, dims, keepdim=True)
            a_xhat = sum(a * xhat, dims, keepdim=True)
            g_x = (-(s * s) * (1.0 / count) * xhat * (a_dot - m * a_xhat)
                   - s * a_xhat * (1.0 / count) * project(gy) - s * m * project(a))
        return g_x, g_gy


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def normalize(x, dims, eps=1e-5):
    """The fused normalisation over `dims` (non-negative ints)."""
    return Normalize(tuple(dims), eps)(x)
