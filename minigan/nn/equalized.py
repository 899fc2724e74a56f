"""Equalized learning rate layers: `EqualizedLinear` and `EqualizedConv2d` (ProGAN, StyleGAN).

Karras et al., "Progressive Growing of GANs", ICLR 2018, section 4.1: weights are stored as
N(0, 1) draws and multiplied at run time by the He constant gain / sqrt(fan_in), so Adam's
scale-free updates move every layer at the same relative speed. StyleGAN's `lr_multiplier`
(0.01 in its mapping network) stores weight / lr_multiplier and multiplies it back at run time,
which scales that layer's effective learning rate by lr_multiplier; the bias likewise.

ProGAN uses gain sqrt(2) (the layer feeds a leaky ReLU); StyleGAN2 uses gain 1 and puts the
sqrt(2) after the activation. Both are `gain=` here.
"""
import math

from minigan import functional as F
from minigan.nn import init
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


def _check(layer, lr_multiplier, gain):
    if not lr_multiplier > 0:
        raise ValueError(f"{layer}: lr_multiplier must be positive, got {lr_multiplier}")
    if not gain > 0:
        raise ValueError(f"{layer}: gain must be positive, got {gain}")


class _Equalized(Module):
    """A weight of `shape` ~ N(0, 1 / lr_multiplier^2) used as weight * gain * lr_multiplier /
    sqrt(fan_in), and a bias whose effective starting value is `bias_init`."""

    def __init__(self, shape, out_features, bias, bias_init, lr_multiplier, gain, device, dtype):
        super().__init__()
        _check(self._get_name(), lr_multiplier, gain)
        self.lr_multiplier, self.gain, self.bias_init = lr_multiplier, gain, bias_init
        fan_in = math.prod(shape[1:])
        self.weight_scale = gain * lr_multiplier / math.sqrt(fan_in)
        self.weight = Parameter(new_array(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(new_array((out_features,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, 1.0 / self.lr_multiplier)
        if self.bias is not None:
            init.constant_(self.bias, self.bias_init / self.lr_multiplier)

    def scaled_weight(self):
        return self.weight * self.weight_scale

    def scaled_bias(self):
        return None if self.bias is None else self.bias * self.lr_multiplier

    def _extra(self):
        s = "" if self.bias is not None else ", bias=False"
        if self.lr_multiplier != 1:
            s += f", lr_multiplier={self.lr_multiplier}"
        if self.gain != 1:
            s += f", gain={self.gain:g}"
        return s


class EqualizedLinear(_Equalized):
    """y = x (weight c)^T + bias lr_multiplier, c = gain lr_multiplier / sqrt(in_features), for
    x (*, in_features) -> (*, out_features). weight (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, bias_init=0.0, lr_multiplier=1.0, gain=1.0,
                 device=None, dtype=None):
        super().__init__((out_features, in_features), out_features, bias, bias_init, lr_multiplier, gain,
                         device, dtype)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x):
        return F.linear(x, self.scaled_weight(), self.scaled_bias())

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}" + self._extra()


class EqualizedConv2d(_Equalized):
    """conv2d with weight (out, in, kh, kw) scaled by gain lr_multiplier / sqrt(in kh kw):
    x (N, in, H, W) -> (N, out, H', W'), H' as for Conv2d with the same stride and padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, bias_init=0.0,
                 lr_multiplier=1.0, gain=1.0, device=None, dtype=None):
        kernel = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
        super().__init__((out_channels, in_channels) + kernel, out_channels, bias, bias_init, lr_multiplier, gain,
                         device, dtype)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding = stride, padding

    def forward(self, x):
        return F.conv2d(x, self.scaled_weight(), self.scaled_bias(), self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + self._extra())
