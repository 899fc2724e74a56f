"""`ModulatedConv2d`: StyleGAN2's style-modulated convolution, with weight demodulation.

Karras et al., "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020, section 2.2.
A style s = affine(w) scales the weight's input channels, w'_ijk = s_i w_ijk; demodulation then
rescales each output channel to unit norm, w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps), so
unit-variance inputs give unit-variance outputs and no instance norm is needed.

Every sample has its own weights, so the batch is folded into the channels and run as one
grouped convolution: x (N, C, H, W) -> (1, N C, H, W) with groups=N and weights
(N out, C, k, k). Up-sampling is a stride-2 transposed convolution and down-sampling a stride-2
convolution, each followed (up) or preceded (down) by the paper's [1, 3, 3, 1] low-pass filter
unless `blur_kernel=None`.
"""
import math

import numpy as np

from minigan import functional as F, ops
from minigan.autograd import Tensor
from minigan.nn import init
from minigan.nn.equalized import EqualizedLinear
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


def blur_kernel_array(taps, gain=1.0):
    """The separable 2-D filter outer(taps, taps), normalised to sum to `gain`."""
    taps = np.asarray(taps, dtype=np.float64)
    kernel = np.outer(taps, taps)
    return kernel * (gain / kernel.sum())


def blur(x, kernel, pad):
    """Depthwise 2-D filtering of x (N, C, H, W) by a fixed kernel (kh, kw) Tensor, after padding
    every side by pad = (before, after) zeros (negative values crop). Convolution, not
    correlation: the kernel is flipped (which only matters for an asymmetric one)."""
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    flipped = kernel.data[::-1, ::-1]
    weight = x.xp.broadcast_to(flipped, (x.shape[1], 1) + flipped.shape)
    return F.conv2d(x, Tensor(x.xp.ascontiguousarray(weight)), groups=x.shape[1])


class ModulatedConv2d(Module):
    """A k x k convolution whose weight (out_channels, in_channels, k, k) is modulated per sample
    by the style w (N, style_dim), and demodulated unless `demodulate=False` (StyleGAN2's ToRGB).

    x (N, in_channels, H, W), w (N, style_dim) -> (N, out_channels, H', W') with H' = H, 2H
    (`up=True`) or H/2 (`down=True`, even H). `kernel_size` must be odd. The weight is N(0, 1)
    with the equalized learning rate scale 1/sqrt(in_channels k^2); the style comes from
    EqualizedLinear(style_dim, in_channels) with bias 1, so a fresh layer's style is about 1.
    There is no bias: StyleGAN2 adds it after the noise.
    """

    def __init__(self, in_channels, out_channels, kernel_size, style_dim, demodulate=True, up=False, down=False,
                 blur_kernel=(1, 3, 3, 1), eps=1e-8, device=None, dtype=None):
        super().__init__()
        if up and down:
            raise ValueError("ModulatedConv2d: up and down cannot both be True")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"ModulatedConv2d: kernel_size must be a positive odd int, got {kernel_size!r}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.style_dim, self.demodulate, self.up, self.down, self.eps = style_dim, demodulate, up, down, eps
        self.weight_scale = 1.0 / math.sqrt(in_channels * kernel_size ** 2)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = Parameter(new_array(shape, device=device, dtype=dtype))
        init.normal_(self.weight)
        self.modulation = EqualizedLinear(style_dim, in_channels, bias_init=1.0, device=device, dtype=dtype)
        self.blur_taps = None if blur_kernel is None else tuple(blur_kernel)
        if self.blur_taps is not None and (up or down):
            kernel = blur_kernel_array(self.blur_taps, gain=4.0 if up else 1.0)  # up-sampling spreads 1 pixel over 4
            self.register_buffer("blur_kernel", Tensor(new_array(kernel.shape, 0.0, device, dtype)), persistent=False)
            self.blur_kernel.data[...] = self.blur_kernel.xp.asarray(kernel)
            self.blur_pad = self._blur_pad(len(self.blur_taps), kernel_size, up)

    @staticmethod
    def _blur_pad(taps, k, up):
        """(before, after) so that the blurred transposed conv gives exactly 2H (up), or the
        blurred input's stride-2 valid conv gives H/2 (down)."""
        if up:
            p = (taps - 2) - (k - 1)
            return (p + 1) // 2 + 1, p // 2 + 1
        p = (taps - 2) + (k - 1)
        return (p + 1) // 2, p // 2

    def modulated_weight(self, w):
        """Each sample's weights, (N, out_channels, in_channels, k, k)."""
        if w.ndim != 2 or w.shape[1] != self.style_dim:
            raise ValueError(f"ModulatedConv2d: expected a style w of shape (N, {self.style_dim}), got {w.shape}")
        style = ops.reshape(self.modulation(w), (w.shape[0], 1, self.in_channels, 1, 1))
        weight = ops.unsqueeze(self.weight * self.weight_scale, 0) * style
        if self.demodulate:
            weight = weight / ops.sqrt(ops.sum(weight * weight, (2, 3, 4), keepdim=True) + self.eps)
        return weight

    def forward(self, x, w):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ModulatedConv2d: expected an input (N, {self.in_channels}, H, W), got shape {x.shape}")
        if w.ndim != 2 or w.shape[0] != x.shape[0]:
            raise ValueError(f"ModulatedConv2d: style w has shape {w.shape} but the input has batch size {x.shape[0]}")
        n, c, h, width = x.shape
        k, o = self.kernel_size, self.out_channels
        weight = self.modulated_weight(w)
        x = ops.reshape(x, (1, n * c, h, width))
        blurred = self.blur_taps is not None
        if self.up:
            # conv_transpose2d weights are (in, out/groups, k, k): one (C, out) block per sample
            weight = ops.reshape(ops.permute(weight, (0, 2, 1, 3, 4)), (n * c, o, k, k))
            if blurred:
                y = blur(F.conv_transpose2d(x, weight, stride=2, groups=n), self.blur_kernel, self.blur_pad)
            else:
                y = F.conv_transpose2d(x, weight, stride=2, padding=(k - 1) // 2, output_padding=1, groups=n)
        else:
            weight = ops.reshape(weight, (n * o, c, k, k))
            if self.down and blurred:
                y = F.conv2d(blur(x, self.blur_kernel, self.blur_pad), weight, stride=2, groups=n)
            elif self.down:
                y = F.conv2d(x, weight, stride=2, padding=(k - 1) // 2, groups=n)
            else:
                y = F.conv2d(x, weight, padding=k // 2, groups=n)
        return ops.reshape(y, (n, o) + y.shape[2:])

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, style_dim={self.style_dim}"
        if not self.demodulate:
            s += ", demodulate=False"
        if self.up or self.down:
            s += ", up=True" if self.up else ", down=True"
            s += f", blur_kernel={self.blur_taps}"
        return s
