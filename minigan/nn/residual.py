"""Residual blocks: `ResidualBlock` (the same-size block of CycleGAN's and SRGAN's generators)
and BigGAN's up/down blocks `ResBlockUp` (G) and `ResBlockDown` (D).

He et al., "Deep Residual Learning", CVPR 2016. CycleGAN (Zhu et al. 2017, appendix 7.2) uses
[reflect-pad conv3, InstanceNorm, ReLU, reflect-pad conv3, InstanceNorm] + x; SRGAN (Ledig et
al. 2017, figure 4) uses [conv3, BatchNorm, PReLU, conv3, BatchNorm] + x. BigGAN (Brock et al.
2019, figure 15) uses pre-activation blocks with class-conditional BatchNorm in G and spectral
norm on every convolution.
"""
from minigan import functional as F, ops
from minigan.nn.activation import LeakyReLU, ReLU
from minigan.nn.conditional_norm import ConditionalBatchNorm2d
from minigan.nn.containers import Sequential
from minigan.nn.conv import Conv2d
from minigan.nn.dropout import Dropout
from minigan.nn.gan_blocks import PReLU
from minigan.nn.module import Module
from minigan.nn.norm import BatchNorm2d, InstanceNorm2d
from minigan.nn.spectral_norm import spectral_norm

NORMS = ("batch", "instance", "none")
ACTIVATIONS = ("relu", "prelu", "leaky_relu")


def norm_layer(layer, norm, channels):
    """BatchNorm2d, InstanceNorm2d (no affine, no running statistics: CycleGAN's) or None."""
    if norm not in NORMS:
        raise ValueError(f"{layer}: norm must be one of {NORMS}, got {norm!r}")
    if norm == "batch":
        return BatchNorm2d(channels)
    return InstanceNorm2d(channels) if norm == "instance" else None


def activation_layer(layer, activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"{layer}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    return {"relu": ReLU, "prelu": PReLU, "leaky_relu": lambda: LeakyReLU(0.2)}[activation]()


class ResidualBlock(Module):
    """x + block(x) with block = [conv3, norm, activation, (dropout), conv3, norm]; the
    convolutions keep (N, channels, H, W) and pad with `padding_mode` ("reflect" for CycleGAN,
    "zeros" for SRGAN). Convolutions have a bias unless a batch norm follows (it would cancel it).
    """

    def __init__(self, channels, norm="instance", padding_mode="reflect", activation="relu", dropout=0.0):
        super().__init__()
        self.channels = channels
        bias = norm != "batch"
        layers = [Conv2d(channels, channels, 3, padding=1, padding_mode=padding_mode, bias=bias),
                  norm_layer("ResidualBlock", norm, channels), activation_layer("ResidualBlock", activation)]
        if dropout:
            layers.append(Dropout(dropout))
        layers += [Conv2d(channels, channels, 3, padding=1, padding_mode=padding_mode, bias=bias),
                   norm_layer("ResidualBlock", norm, channels)]
        self.block = Sequential(*[layer for layer in layers if layer is not None])

    def forward(self, x):
        return x + self.block(x)


def _conv(in_channels, out_channels, kernel_size, spectral):
    conv = Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    return spectral_norm(conv) if spectral else conv


class ResBlockUp(Module):
    """BigGAN's generator block: (N, in, H, W) -> (N, out, 2H, 2W).

    h = conv3(relu(bn2(conv3(up(relu(bn1(x))))))), shortcut = conv1(up(x)), nearest
    up-sampling; the norms are ConditionalBatchNorm2d when `num_classes` is given (then
    forward takes the labels y), else BatchNorm2d. Spectral norm on the convolutions by default.
    """

    def __init__(self, in_channels, out_channels, num_classes=None, spectral=True):
        super().__init__()
        self.num_classes = num_classes
        norm = (lambda c: ConditionalBatchNorm2d(c, num_classes)) if num_classes else BatchNorm2d
        self.bn1, self.bn2 = norm(in_channels), norm(out_channels)
        self.conv1 = _conv(in_channels, out_channels, 3, spectral)
        self.conv2 = _conv(out_channels, out_channels, 3, spectral)
        self.shortcut = _conv(in_channels, out_channels, 1, spectral)

    def _norm(self, bn, x, y):
        if self.num_classes is None:
            return bn(x)
        if y is None:
            raise ValueError("ResBlockUp: this block is class-conditional; pass the labels y")
        return bn(x, y)

    def forward(self, x, y=None):
        up = F.interpolate(ops.relu(self._norm(self.bn1, x, y)), scale_factor=2)
        h = self.conv2(ops.relu(self._norm(self.bn2, self.conv1(up), y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class ResBlockDown(Module):
    """BigGAN's discriminator block: (N, in, H, W) -> (N, out, H/2, W/2) (H, W with `down=False`).

    h = pool(conv3(relu(conv3(relu(x))))) (no first relu when `preactivation=False`, as in D's
    first block); the shortcut is a conv1 (when the channels or the size change) and the same
    2 x 2 average pool, conv first for pre-activation blocks. Spectral norm by default.
    """

    def __init__(self, in_channels, out_channels, down=True, preactivation=True, spectral=True):
        super().__init__()
        self.down, self.preactivation = down, preactivation
        self.conv1 = _conv(in_channels, out_channels, 3, spectral)
        self.conv2 = _conv(out_channels, out_channels, 3, spectral)
        if in_channels != out_channels or down:
            self.shortcut = _conv(in_channels, out_channels, 1, spectral)
        else:
            self.register_module("shortcut", None)

    def _pool(self, x):
        return F.avg_pool2d(x, 2) if self.down else x

    def forward(self, x):
        h = self._pool(self.conv2(ops.relu(self.conv1(ops.relu(x) if self.preactivation else x))))
        if self.shortcut is None:
            return h + x
        if self.preactivation:
            return h + self._pool(self.shortcut(x))
        return h + self.shortcut(self._pool(x))
