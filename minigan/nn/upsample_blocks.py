"""`SubPixelUpsample`: learned up-sampling by a convolution to scale^2 times the channels and a
pixel shuffle (Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016), as in SRGAN's generator."""
from minigan import functional as F
from minigan.nn.conv import Conv2d
from minigan.nn.gan_blocks import PReLU
from minigan.nn.module import Module


class SubPixelUpsample(Module):
    """(N, C, H, W) -> (N, C, scale H, scale W): conv_k (C -> C scale^2, size kept), then
    pixel_shuffle(scale), then PReLU (SRGAN's; `activation=None` for none)."""

    def __init__(self, channels, scale=2, kernel_size=3, activation="prelu"):
        super().__init__()
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"SubPixelUpsample: scale must be a positive int, got {scale!r}")
        if activation not in ("prelu", None):
            raise ValueError(f"SubPixelUpsample: activation must be 'prelu' or None, got {activation!r}")
        self.channels, self.scale = channels, scale
        self.conv = Conv2d(channels, channels * scale * scale, kernel_size, padding=kernel_size // 2)
        self.activation = PReLU() if activation == "prelu" else None

    def forward(self, x):
        y = F.pixel_shuffle(self.conv(x), self.scale)
        return y if self.activation is None else self.activation(y)

    def extra_repr(self):
        return f"{self.channels}, scale={self.scale}"
