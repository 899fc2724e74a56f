"""Small layers that GAN papers introduced: `PixelNorm`, `MinibatchStdDev` (ProGAN),
`NoiseInjection`, `AdaIN` (StyleGAN), and `PReLU` (as in PyTorch; SRGAN's activation)."""
from minigan import creation, functional as F, ops
from minigan.nn.equalized import EqualizedLinear
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


class PixelNorm(Module):
    """x / sqrt(mean over channels of x^2 + eps): each pixel's feature vector scaled to unit
    average square (ProGAN, Karras et al. 2018, section 4.2). Any shape (N, C, *); normalises
    over `dim` (1, the channels; StyleGAN also applies it to z (N, C))."""

    def __init__(self, eps=1e-8, dim=1):
        super().__init__()
        self.eps, self.dim = eps, dim

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"PixelNorm: expected an input (N, C, *), got shape {x.shape}")
        return x / ops.sqrt(ops.mean(x * x, self.dim, keepdim=True) + self.eps)

    def extra_repr(self):
        return f"eps={self.eps}" + (f", dim={self.dim}" if self.dim != 1 else "")


class MinibatchStdDev(Module):
    """Appends `num_channels` feature maps holding the standard deviation of the features across
    groups of `group_size` samples, so D can see a batch's lack of variety (ProGAN section 3;
    StyleGAN2's formulation). (N, C, H, W) -> (N, C + num_channels, H, W).

    Sample i joins group i mod (N / G) with G = min(group_size, N); the C channels are split in
    `num_channels` runs of C / num_channels and each run's per-pixel stddev (over the group) is
    averaged over its channels and pixels.
    """

    def __init__(self, group_size=4, num_channels=1, eps=1e-8):
        super().__init__()
        if group_size < 1 or num_channels < 1:
            raise ValueError(f"MinibatchStdDev: group_size={group_size} and num_channels={num_channels} "
                             "must be positive")
        self.group_size, self.num_channels, self.eps = group_size, num_channels, eps

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"MinibatchStdDev: expected an input (N, C, H, W), got shape {x.shape}")
        n, c, h, w = x.shape
        g, f = min(self.group_size, n), self.num_channels
        if n % g:
            raise ValueError(f"MinibatchStdDev: batch size {n} is not divisible by group_size={g}")
        if c % f:
            raise ValueError(f"MinibatchStdDev: {c} channels are not divisible by num_channels={f}")
        y = ops.reshape(x, (g, n // g, f, c // f, h, w))
        y = y - ops.mean(y, 0)
        std = ops.sqrt(ops.mean(y * y, 0) + self.eps)                 # (n/g, f, c/f, h, w)
        std = ops.mean(std, (2, 3, 4))                                 # (n/g, f)
        std = ops.broadcast_to(ops.reshape(std, (1, n // g, f, 1, 1)), (g, n // g, f, h, w))
        return ops.cat([x, ops.reshape(std, (n, f, h, w))], 1)

    def extra_repr(self):
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class NoiseInjection(Module):
    """x + weight * noise: per-pixel noise (N, 1, H, W), shared by the channels and scaled per
    channel by a learned weight that starts at zero (StyleGAN, Karras et al. 2019, section 2).
    `channels=1` gives StyleGAN2's single strength per layer. Without a `noise` argument the
    noise is drawn from x's device generator (seeded by `mg.manual_seed`)."""

    def __init__(self, channels=1, device=None, dtype=None):
        super().__init__()
        self.channels = channels
        self.weight = Parameter(new_array((channels,), 0.0, device, dtype))

    def forward(self, x, noise=None):
        if x.ndim != 4 or self.channels not in (1, x.shape[1]):
            raise ValueError(f"NoiseInjection: expected an input (N, {self.channels}, H, W), got shape {x.shape}")
        n, _, h, w = x.shape
        if noise is None:
            noise = creation.randn(n, 1, h, w, dtype=x.dtype, device=x.device)
        elif noise.shape not in ((n, 1, h, w), (n, x.shape[1], h, w)):
            raise ValueError(f"NoiseInjection: noise has shape {noise.shape}, expected ({n}, 1, {h}, {w}) "
                             f"for input shape {x.shape}")
        return x + ops.reshape(self.weight, (1, -1, 1, 1)) * noise

    def extra_repr(self):
        return f"channels={self.channels}"


class AdaIN(Module):
    """Adaptive instance normalisation (StyleGAN; Huang and Belongie 2017): each channel of x is
    normalised over its pixels, then scaled and shifted by a style computed from w:
    (scale, shift) = EqualizedLinear(style_dim, 2 C)(w), whose bias starts at (1, 0) so the scale
    is centred on 1 and the shift on 0. x (N, C, H, W), w (N, style_dim) -> (N, C, H, W)."""

    def __init__(self, num_features, style_dim, eps=1e-5):
        super().__init__()
        self.num_features, self.style_dim, self.eps = num_features, style_dim, eps
        self.style = EqualizedLinear(style_dim, 2 * num_features)
        self.style.bias.data[:num_features] = 1.0

    def forward(self, x, w):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"AdaIN: expected an input (N, {self.num_features}, H, W), got shape {x.shape}")
        if w.ndim != 2 or w.shape != (x.shape[0], self.style_dim):
            raise ValueError(f"AdaIN: expected a style w of shape ({x.shape[0]}, {self.style_dim}), got {w.shape}")
        style = ops.reshape(self.style(w), (x.shape[0], 2, self.num_features, 1, 1))
        return F.instance_norm(x, eps=self.eps) * style[:, 0] + style[:, 1]

    def extra_repr(self):
        return f"{self.num_features}, style_dim={self.style_dim}"


class PReLU(Module):
    """max(0, x) + weight min(0, x) with a learned slope: one for all channels
    (num_parameters=1) or one per channel (dim 1), initialised to `init` (as torch.nn.PReLU)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(new_array((num_parameters,), init, device, dtype))

    def forward(self, x):
        weight = self.weight
        if self.num_parameters > 1:
            if x.ndim < 2 or x.shape[1] != self.num_parameters:
                raise ValueError(f"PReLU: input shape {x.shape} does not have {self.num_parameters} channels "
                                 "(dim 1), one per parameter")
            weight = ops.reshape(weight, (1, -1) + (1,) * (x.ndim - 2))
        return ops.where(x.data > 0, x, weight * x)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
