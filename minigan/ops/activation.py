"""Activations. Each backward is written with Tensor ops on the input or the output, so the
second derivative (needed by gradient penalties) comes out of the same code."""
import numpy as np

from minigan import backend, fused
from minigan.autograd import Function, Tensor, is_grad_enabled
from minigan.ops import recycle
from minigan.ops.elementwise import where


def _positive(x):
    """1.0 where x > 0, else 0.0, in x's dtype: written straight into a recycled block (a bool
    mask then astype would make two fresh arrays, each page-faulting on first touch)."""
    return backend.get_array_module(x).greater(x, 0, out=recycle.empty_like(x))


def _recording(gy):
    """Whether a backward's result joins a graph (create_graph with a gy that requires grad)."""
    return is_grad_enabled() and gy.requires_grad


def _times_gradient(gy, factor):
    """gy * factor for an array `factor` made for this one call. When no graph is being recorded
    (a plain backward), the product goes into factor itself: no Mul, no third full-size buffer."""
    if _recording(gy) or gy.data.dtype != factor.dtype:
        return gy * Tensor(factor)
    backend.get_array_module(factor).multiply(factor, gy.data, out=factor)
    return Tensor(factor)


class ReLU(Function):
    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0, out=recycle.empty_like(x))

    def backward(self, gy):
        return _times_gradient(gy, _positive(self.inputs[0].data))


class LeakyReLU(Function):
    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    # max(x, a x) for a <= 1 (min for a > 1): branch-free, where a masked select over random signs
    # costs a mispredicted branch per element (about 20x slower on NumPy)
    def forward(self, x):
        xp = backend.get_array_module(x)
        if xp is not np:   # CuPy: one kernel instead of two
            return fused.leaky_relu(x, self.negative_slope)
        y = xp.multiply(x, x.dtype.type(self.negative_slope), out=recycle.empty_like(x))
        return (xp.maximum if self.negative_slope <= 1 else xp.minimum)(x, y, out=y)

    def backward(self, gy):
        x = self.inputs[0].data
        if not isinstance(x, np.ndarray) and not _recording(gy) and gy.data.dtype == x.dtype:
            return Tensor(fused.leaky_relu_grad(x, gy.data, self.negative_slope))   # CuPy: one kernel, not four
        slope = _positive(x)                   # 1 where x > 0, then a where x <= 0
        slope *= x.dtype.type(1 - self.negative_slope)
        slope += x.dtype.type(self.negative_slope)
        return _times_gradient(gy, slope)


class ELU(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        # for x <= 0, d/dx alpha*(exp(x)-1) = y + alpha, and y carries the graph for second order
        return where(self.inputs[0].data > 0, gy, gy * (self.output + self.alpha))


class Sigmoid(Function):
    def forward(self, x):
        return sigmoid_array(x)

    def backward(self, gy):
        y = self.output
        return gy * y * (1.0 - y)


class Tanh(Function):
    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output
        return gy * (1.0 - y * y)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above `threshold` as in PyTorch."""

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = backend.get_array_module(x)
        bx = x * self.beta
        smooth = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / self.beta
        return xp.where(bx > self.threshold, x, smooth).astype(x.dtype)

    def backward(self, gy):
        x = self.inputs[0]
        linear = x.data * self.beta > self.threshold
        return where(linear, gy, gy * sigmoid(x * self.beta))


def relu(x):
    return ReLU()(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


def elu(x, alpha=1.0):
    return ELU(alpha)(x)


def sigmoid(x):
    return Sigmoid()(x)


def sigmoid_array(x):
    """1 / (1 + exp(-x)) of an array, as tanh(x / 2) / 2 + 1/2: stable for large |x|."""
    xp = backend.get_array_module(x)
    if xp is not np:
        return fused.sigmoid(x)
    y = np.tanh(x * 0.5)
    y *= 0.5
    y += 0.5
    return y.astype(x.dtype, copy=False)


def tanh(x):
    return Tanh()(x)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus(beta, threshold)(x)
