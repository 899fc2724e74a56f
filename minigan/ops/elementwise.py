"""Elementwise arithmetic and math. Binary ops broadcast like NumPy (and PyTorch); their
backward sums the gradient back to each input's shape with `sum_to`."""
import numpy as np

from minigan import backend
from minigan.autograd import Function, Tensor, get_default_dtype
from minigan.ops import recycle
from minigan.ops.shape import sum_to


def as_operand(value, like):
    """Wrap a scalar or array as a constant Tensor on `like`'s device.

    Python scalars take `like`'s dtype (a float scalar on an integer tensor gives the default float
    dtype), so `x * 2.0` stays float32 for a float32 x, as in PyTorch.
    """
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    if isinstance(value, (bool, int, float, np.number)) and not isinstance(value, np.ndarray):
        if like.dtype.kind in "fc":
            dtype = like.dtype
        elif isinstance(value, (float, np.floating)):
            dtype = get_default_dtype()
        else:
            dtype = like.dtype
        return Tensor(xp.asarray(value, dtype=dtype))
    return Tensor(xp.asarray(value))


def _pair(op, a, b):
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    elif not isinstance(b, Tensor):
        b = as_operand(b, a)
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return a, b


def _reduced(g, x):
    return sum_to(g, x.shape)


def _binary(ufunc, a, b):
    """ufunc(a, b), written into a recycled block when the result is a large NumPy array shaped
    (and laid out) like one of the operands; otherwise a plain call (CuPy arrays dispatch there)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype:
        big, small = (a, b) if a.size >= b.size else (b, a)
        if big.nbytes >= recycle.MIN_BYTES and (small.shape == big.shape or
                                                np.broadcast_shapes(big.shape, small.shape) == big.shape):
            return ufunc(a, b, out=recycle.empty_like(big))
    return ufunc(a, b)


class Add(Function):
    def forward(self, a, b):
        return _binary(np.add, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _reduced(gy, a), _reduced(gy, b)


class Sub(Function):
    def forward(self, a, b):
        return _binary(np.subtract, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _reduced(gy, a), (_reduced(-gy, b) if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        return _binary(np.multiply, a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = _reduced(gy * b, a) if self.needs_input_grad[0] else None
        gb = _reduced(gy * a, b) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = _reduced(gy / b, a) if self.needs_input_grad[0] else None
        gb = _reduced(-gy * a / (b * b), b) if self.needs_input_grad[1] else None
        return ga, gb


def add(a, b):
    return Add()(*_pair("add", a, b))


def sub(a, b):
    return Sub()(*_pair("sub", a, b))


def mul(a, b):
    return Mul()(*_pair("mul", a, b))


def div(a, b):
    return Div()(*_pair("div", a, b))


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    return Neg()(x)


class Pow(Function):
    """x ** p for a constant exponent p."""

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        return x ** self.exponent

    def backward(self, gy):
        x, p = self.inputs[0], self.exponent
        if p == 0:
            return gy * 0.0
        return gy * (p * x ** (p - 1)) if p != 1 else gy


def pow(x, exponent):
    """x ** exponent. A tensor exponent (or a tensor power of a number) goes through exp and log,
    so its base must be positive there."""
    if isinstance(exponent, Tensor):
        base = x if isinstance(x, Tensor) else as_operand(x, exponent)
        return exp(exponent * log(base))
    if isinstance(exponent, (np.ndarray,)) or not np.isscalar(exponent):
        raise TypeError(f"pow: exponent must be a number or a Tensor, got {type(exponent).__name__}")
    return Pow(exponent)(x)


class Exp(Function):
    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output


class Log(Function):
    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2.0 * self.output)


class Sin(Function):
    def forward(self, x):
        return backend.get_array_module(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x):
        return backend.get_array_module(x).cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


class Abs(Function):
    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * Tensor(x.xp.sign(x.data))


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def sqrt(x):
    return Sqrt()(x)


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)


def abs(x):
    return Abs()(x)


class Clamp(Function):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return backend.get_array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = np.ones((), dtype=bool) if self.low is None else x >= self.low
        if self.high is not None:
            inside = inside & (x <= self.high)
        return gy * Tensor(inside.astype(x.dtype))


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)


class Maximum(Function):
    """Elementwise max; at ties the gradient is split evenly, as in PyTorch."""

    def forward(self, a, b):
        return backend.get_array_module(a).maximum(a, b)

    def backward(self, gy):
        return _split_by_winner(self, gy, self.inputs[0].data > self.inputs[1].data)


class Minimum(Function):
    def forward(self, a, b):
        return backend.get_array_module(a).minimum(a, b)

    def backward(self, gy):
        return _split_by_winner(self, gy, self.inputs[0].data < self.inputs[1].data)


def _split_by_winner(function, gy, a_wins):
    a, b = function.inputs
    tie = a.data == b.data
    weight_a = a_wins.astype(gy.dtype) + 0.5 * tie
    ga = _reduced(gy * Tensor(weight_a), a) if function.needs_input_grad[0] else None
    gb = _reduced(gy * Tensor(1.0 - weight_a), b) if function.needs_input_grad[1] else None
    return ga, gb


def maximum(a, b):
    return Maximum()(*_pair("maximum", a, b))


def minimum(a, b):
    return Minimum()(*_pair("minimum", a, b))


class Where(Function):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return backend.get_array_module(a).where(self.condition, a, b)

    def backward(self, gy):
        a, b = self.inputs
        zero = Tensor(gy.xp.zeros((), dtype=gy.dtype))
        ga = _reduced(where(self.condition, gy, zero), a) if self.needs_input_grad[0] else None
        gb = _reduced(where(self.condition, zero, gy), b) if self.needs_input_grad[1] else None
        return ga, gb


def where(condition, a, b):
    """`a` where `condition` holds, else `b` (condition: a bool Tensor or array, no gradient)."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    like = a if isinstance(a, Tensor) else b
    a, b = _pair("where", as_operand(a, like), as_operand(b, like))
    condition = backend.to_device(condition if hasattr(condition, "shape") else np.asarray(condition), a.device)
    try:
        np.broadcast_shapes(condition.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: condition {condition.shape}, a {a.shape} and b {b.shape} "
                         "cannot be broadcast together") from None
    return Where(condition)(a, b)
