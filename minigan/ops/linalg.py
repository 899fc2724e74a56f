"""Matrix products: matmul (batched, broadcasting) and the fused linear layer."""
import numpy as np

from minigan import backend, profiler
from minigan.autograd import Function, Tensor, is_grad_enabled
from minigan.ops import recycle
from minigan.ops.elementwise import as_operand
from minigan.ops.shape import reshape, squeeze, sum_to, transpose, unsqueeze
from minigan.ops.reduce import channel_sums, sum


class MatMul(Function):
    """a @ b for a, b with >= 2 dims; leading (batch) dims broadcast."""

    def forward(self, a, b):
        return _product(a, b, _matmul_shape(a, b))

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(matmul(gy, transpose(b, -1, -2)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(transpose(a, -1, -2), gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def _product(a, b, shape):
    """a @ b (arrays) into a recycled block of the given shape."""
    xp = backend.get_array_module(a)
    out = recycle.empty_on(xp, shape, np.result_type(a.dtype, b.dtype))
    if a.shape[-1] == 1:    # an outer product: the BLAS runs a 1-deep GEMM at ~1 GFLOP/s
        return xp.multiply(a, b, out=out)
    return profiler.matmul(xp, a, b, out=out)


def _matmul_shape(a, b):
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    batch = batch_a if batch_a == batch_b else np.broadcast_shapes(batch_a, batch_b)
    return batch + (a.shape[-2], b.shape[-1])


def matmul(a, b):
    """torch.matmul: 1-D operands are promoted to matrices and the added dim is removed after."""
    a = a if isinstance(a, Tensor) else as_operand(a, b)
    b = b if isinstance(b, Tensor) else as_operand(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(matmul(unsqueeze(a, 0), unsqueeze(b, -1)), ())
    if a.ndim == 1:
        return squeeze(matmul(unsqueeze(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(matmul(a, unsqueeze(b, -1)), -1)
    try:
        if a.shape[:-2] != b.shape[:-2]:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of {a.shape} and {b.shape} cannot be broadcast") from None
    return MatMul()(a, b)


class Linear(Function):
    """y = x @ weight.T + bias, with x of shape (*, in) and weight of shape (out, in)."""

    def forward(self, x, weight, bias=None):
        xp = backend.get_array_module(x)
        out = recycle.empty_on(xp, x.shape[:-1] + weight.shape[:1], np.result_type(x.dtype, weight.dtype))
        y = profiler.matmul(xp, x, weight.T, out=out)
        if bias is not None:
            y += bias
        return y

    def backward(self, gy):
        x, weight = self.inputs[:2]
        needs = self.needs_input_grad
        if not is_grad_enabled():   # a plain backward: the same products on arrays, no ops to record
            return _linear_gradients(gy.data, x.data, weight.data, needs)
        gx = matmul(gy, weight) if needs[0] else None
        flat_gy = reshape(gy, (-1, gy.shape[-1]))
        gw = matmul(transpose(flat_gy, 0, 1), reshape(x, (-1, x.shape[-1]))) if needs[1] else None
        gb = sum(flat_gy, 0) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


def _linear_gradients(gy, x, weight, needs):
    """Linear's gradients as arrays: gx = gy W, gW = gy^T x over all leading dims, gb = column sums of gy."""
    flat_gy = gy.reshape(-1, gy.shape[-1])
    gx = _product(flat_gy, weight, (len(flat_gy), weight.shape[1])).reshape(x.shape) if needs[0] else None
    gw = _product(flat_gy.T, x.reshape(-1, x.shape[-1]), weight.shape) if needs[1] else None
    gb = channel_sums(flat_gy) if len(needs) > 2 and needs[2] else None
    return tuple(None if g is None else Tensor(g) for g in (gx, gw, gb))


def linear(x, weight, bias=None):
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) "
                         f"but weight expects {weight.shape[1]} (weight shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} does not match weight's {weight.shape[0]} outputs")
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
