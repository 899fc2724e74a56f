"""`UNet`: the encoder-decoder generator of Pix2Pix (Isola et al., "Image-to-Image Translation
with Conditional Adversarial Networks", CVPR 2017, section 3.2.1 and appendix 6.1.1), with a
skip connection from every encoder level to the decoder level of the same size.

Built from the inside out as nested `UNetBlock`s: level i (0 outermost) goes down with
[LeakyReLU(0.2), conv4 stride 2, norm] and comes back with [ReLU, conv_transpose4 stride 2,
norm], then concatenates its input (the skip). Channels double per level from `base_channels`
up to 8 base_channels; levels whose in and out channels are both 8 base_channels (the middle
of a deep net) use dropout 0.5. The outermost level has no activation or norm on the way down
and ends in tanh; the innermost has no norm on the way down.
"""
from minigan import ops
from minigan.nn.activation import LeakyReLU, ReLU, Tanh
from minigan.nn.containers import Sequential
from minigan.nn.conv import Conv2d, ConvTranspose2d
from minigan.nn.dropout import Dropout
from minigan.nn.module import Module
from minigan.nn.residual import norm_layer


class UNetBlock(Module):
    """One level: x (N, C, H, W) -> cat(x, up(submodule(down(x)))), (N, C + outer_channels, H, W),
    where C = input_channels (default outer_channels); the outermost level returns up(...) alone,
    (N, outer_channels, H, W). `submodule` is the next level in (None for the innermost)."""

    def __init__(self, outer_channels, inner_channels, input_channels=None, submodule=None, outermost=False,
                 innermost=False, norm="batch", dropout=False):
        super().__init__()
        self.outermost = outermost
        input_channels = outer_channels if input_channels is None else input_channels
        bias = norm != "batch"
        down = Conv2d(input_channels, inner_channels, 4, stride=2, padding=1, bias=bias)
        up_in = inner_channels if innermost else 2 * inner_channels
        if outermost:
            layers = [down, submodule, ReLU(), ConvTranspose2d(up_in, outer_channels, 4, 2, 1), Tanh()]
        elif innermost:
            layers = [LeakyReLU(0.2), down, ReLU(), ConvTranspose2d(up_in, outer_channels, 4, 2, 1, bias=bias),
                      norm_layer("UNet", norm, outer_channels)]
        else:
            layers = [LeakyReLU(0.2), down, norm_layer("UNet", norm, inner_channels), submodule, ReLU(),
                      ConvTranspose2d(up_in, outer_channels, 4, 2, 1, bias=bias),
                      norm_layer("UNet", norm, outer_channels)]
            if dropout:
                layers.append(Dropout(0.5))
        self.model = Sequential(*[layer for layer in layers if layer is not None])

    def forward(self, x):
        return self.model(x) if self.outermost else ops.cat([x, self.model(x)], 1)


class UNet(Module):
    """(N, in_channels, H, W) -> (N, out_channels, H, W) in [-1, 1], with H and W divisible by
    2^num_downs. Pix2Pix's unet_256 is UNet(3, 3, num_downs=8); norm "batch", "instance" or
    "none"; `dropout=False` turns off the middle levels' dropout."""

    def __init__(self, in_channels, out_channels, num_downs, base_channels=64, norm="batch", dropout=True):
        super().__init__()
        if not isinstance(num_downs, int) or num_downs < 2:
            raise ValueError(f"UNet: num_downs must be an int >= 2 (outermost and innermost levels), got {num_downs!r}")
        self.num_downs = num_downs
        channels = [base_channels * min(2 ** i, 8) for i in range(num_downs)]
        block = UNetBlock(channels[-2], channels[-1], innermost=True, norm=norm)
        for i in range(num_downs - 2, 0, -1):
            middle = channels[i - 1] == channels[i] == 8 * base_channels
            block = UNetBlock(channels[i - 1], channels[i], submodule=block, norm=norm, dropout=dropout and middle)
        self.model = UNetBlock(out_channels, channels[0], in_channels, block, outermost=True, norm=norm)

    def forward(self, x):
        factor = 2 ** self.num_downs
        if x.ndim != 4 or x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(f"UNet: expected an input (N, C, H, W) with H and W divisible by 2^{self.num_downs} = "
                             f"{factor}, got shape {x.shape}")
        return self.model(x)
