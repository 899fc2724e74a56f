"""`Conv2d` and `ConvTranspose2d`, with PyTorch's weight layouts and default initialisation."""

from minigan import functional as F
from minigan.nn import init
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


_PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


class _ConvNd(Module):
    def __init__(self, kind, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, output_padding, device, dtype):
        super().__init__()
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{kind}: groups={groups} must be positive and divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{kind}: padding_mode must be one of {tuple(_PADDING_MODES)}, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.output_padding = _pair(output_padding)
        self.groups, self.padding_mode = groups, padding_mode
        if kind == "ConvTranspose2d":  # (in, out/groups, kh, kw): the layout of conv2d's adjoint
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(new_array(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(new_array((out_channels,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution of x (N, C_in, H, W) with weight (C_out, C_in/groups, kh, kw).

    `padding` is an int, a pair, "valid" (none) or "same" (stride 1 only; the extra pixel of an
    even total padding goes right/bottom, as in PyTorch). `padding_mode` "zeros", "reflect",
    "replicate" or "circular".
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if padding == "same" and _pair(stride) != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, 0, device, dtype)

    def _explicit_padding(self):
        """(left, right, top, bottom) for F.pad, or None when conv2d's symmetric padding will do."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            (kh, kw), (dh, dw) = self.kernel_size, self.dilation
            total_h, total_w = dh * (kh - 1), dw * (kw - 1)
            return (total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2)
        ph, pw = self.padding
        return (pw, pw, ph, ph)

    def forward(self, x):
        left, right, top, bottom = self._explicit_padding()
        if self.padding_mode == "zeros" and left == right and top == bottom:
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        x = F.pad(x, (left, right, top, bottom), mode=_PADDING_MODES[self.padding_mode])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (the adjoint of Conv2d): weight (C_in, C_out/groups, kh, kw).
    Output size: (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1; pass
    `output_size` to forward to pick output_padding from the size wanted."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-2:]
        padding = []
        for i, size in enumerate(wanted):
            smallest = ((x.shape[2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not smallest <= size < smallest + self.stride[i]:
                raise ValueError(f"ConvTranspose2d: requested output size {wanted} is not reachable from input "
                                 f"shape {x.shape} (dim {i} must be in [{smallest}, {smallest + self.stride[i] - 1}])")
            padding.append(size - smallest)
        return tuple(padding)

    def forward(self, x, output_size=None):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)
