"""Fused elementwise losses: one op where the composed form would record a chain of small ones.

A GAN step evaluates its loss three times on a (batch, 1) score: composed of Sub, Mul, Neg,
Softplus and Add, binary cross-entropy on logits cost six forward ops, their six backwards and, on
cuda, one kernel launch for each NumPy-style call inside them. The backward below is still written
in Tensor ops, so second derivatives come from the same code.
"""
import numpy as np

from minigan import backend, fused
from minigan.autograd import Function, Tensor, is_grad_enabled
from minigan.ops.activation import sigmoid, sigmoid_array


class BinaryCrossEntropyWithLogits(Function):
    """Per element, max(x, 0) - x t + log(1 + exp(-|x|)): (1 - t) x + softplus(-x), stable for any x."""

    def forward(self, x, t):
        xp = backend.get_array_module(x)
        if xp is not np and x.dtype == t.dtype:
            return fused.bce_with_logits(x, t)
        loss = xp.maximum(x, 0) - x * t
        loss += xp.log1p(xp.exp(-xp.abs(x)))
        return loss

    def backward(self, gy):
        x, t = self.inputs
        if not is_grad_enabled():   # a plain backward: on arrays, no ops to record
            return self._array_gradients(gy.data, x.data, t.data)
        gx = gy * (sigmoid(x) - t) if self.needs_input_grad[0] else None
        gt = -(gy * x) if self.needs_input_grad[1] else None
        return gx, gt

    def _array_gradients(self, gy, x, t):
        gx = gt = None
        if self.needs_input_grad[0]:
            if isinstance(x, np.ndarray) or not x.dtype == t.dtype == gy.dtype:
                gx = gy * (sigmoid_array(x) - t)
            else:   # CuPy: one kernel instead of five
                gx = fused.bce_with_logits_grad(x, t, gy)
        if self.needs_input_grad[1]:
            gt = -(gy * x)
        return tuple(None if g is None else Tensor(g) for g in (gx, gt))


def binary_cross_entropy_with_logits(x, t):
    """The unreduced loss of logits x against targets t of the same shape."""
    if x.shape != t.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {tuple(t.shape)} must equal "
                         f"input shape {tuple(x.shape)}")
    return BinaryCrossEntropyWithLogits()(x, t)
