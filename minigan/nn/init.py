"""Weight initialisation, in place, with PyTorch's formulas and names (`nn.init.kaiming_uniform_`).

Random values come from the tensor's device generator (`minigan.backend.generator`), so
`mg.manual_seed(s)` makes every initialisation reproducible.
"""
import math

import numpy as np

from minigan import backend


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance stable through `nonlinearity`:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope `param`, default 0.01), 3/4 for selu."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field (as PyTorch:
    for a transposed conv's (in, out, kh, kw) weight this makes fan_in the output channels)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out cannot be computed for a tensor with fewer than 2 dims "
                         f"(shape {tensor.shape})")
    receptive_field = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported, expected 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill_random(tensor, distribution, a, b):
    """Overwrite `tensor` with uniform(a, b) or normal(mean=a, std=b) samples, in its dtype."""
    rng = backend.generator(tensor.device)
    draw = rng.uniform if distribution == "uniform" else rng.normal
    tensor.data[...] = draw(a, b, size=tensor.shape)
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill_random(tensor, "uniform", a, b)


def normal_(tensor, mean=0.0, std=1.0):
    return _fill_random(tensor, "normal", mean, std)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal samples redrawn until they fall in [a, b]."""
    normal_(tensor, mean, std)
    xp = tensor.xp
    outside = (tensor.data < a) | (tensor.data > b)
    while bool(outside.any()):
        fresh = backend.generator(tensor.device).normal(mean, std, size=tensor.shape)
        tensor.data[...] = xp.where(outside, fresh, tensor.data)
        outside = (tensor.data < a) | (tensor.data > b)
    return tensor


def constant_(tensor, val):
    tensor.data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); `a` is the
    negative slope of a following leaky_relu."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor  # zero-element tensor: nothing to fill
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix, over the tensor flattened to (shape[0], rest), times `gain`
    (Saxe et al., 2013): the Q of a QR decomposition of a Gaussian matrix, signs fixed."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dims are supported, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = tensor.xp
    flat = xp.asarray(backend.generator(tensor.device).normal(0.0, 1.0, size=(rows, cols)))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))  # makes the decomposition unique, so Q is uniformly distributed
    if rows < cols:
        q = q.T
    tensor.data[...] = (gain * q).reshape(tensor.shape)
    return tensor


def eye_(tensor):
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    tensor.data[...] = tensor.xp.eye(*tensor.shape, dtype=tensor.dtype)
    return tensor


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) on the weight,
    uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias. fan_in comes from weight dim 1, so for a
    ConvTranspose2d weight it is (out/groups) * kh * kw, as in PyTorch."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
