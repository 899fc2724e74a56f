"""Network builders shared by the variants: MLPs for 2-D toys (and flat images) and the
DCGAN-style conv nets for 28x28 images (the nets of `minigan bench`'s dcgan-28 workload)."""
import numpy as np

from minigan import nn


def mlp(sizes, activation=lambda: nn.LeakyReLU(0.2), out_activation=None, norm=None):
    """Linear layers of the given sizes with `activation` between them (and optional BatchNorm1d)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if norm == "batch":
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation())
    if out_activation is not None:
        layers.append(out_activation())
    return nn.Sequential(*layers)


def mlp_generator(data, z_dim, hidden=None):
    """z -> points, or -> flat image reshaped to (C, H, W) with a tanh output. Hidden sizes: PyTorch-GAN's
    MNIST MLP (256, 512, 1024) for images, the WGAN-GP toy code's 3 x 512 for points."""
    hidden = hidden or ((256, 512, 1024) if data.is_image else (512, 512, 512))
    out_dim = int(np.prod(data.shape))
    if data.is_image:
        return nn.Sequential(mlp((z_dim, *hidden, out_dim), out_activation=nn.Tanh), nn.Unflatten(1, data.shape))
    return mlp((z_dim, *hidden, out_dim))


def mlp_discriminator(data, hidden=None, out_features=1, spectral=False):
    """(flattened) sample -> logits. Hidden sizes (512, 256) for images, 3 x 512 for points."""
    hidden = hidden or ((512, 256) if data.is_image else (512, 512, 512))
    in_dim = int(np.prod(data.shape))
    net = mlp((in_dim, *hidden, out_features))
    if spectral:
        _spectral_everywhere(net)
    return nn.Sequential(nn.Flatten(), net) if data.is_image else net


def conv_generator(data, z_dim, norm="batch"):
    """DCGAN at 28x28: z -> 128x7x7 -> 64x14x14 -> Cx28x28 (ConvTranspose 4x4 stride 2), tanh."""
    channels = data.shape[0]
    batch_norm = norm == "batch"
    return nn.Sequential(
        nn.Linear(z_dim, 128 * 7 * 7), *([nn.BatchNorm1d(128 * 7 * 7)] if batch_norm else []), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), *([nn.BatchNorm2d(64)] if batch_norm else []), nn.ReLU(),
        nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh())


def conv_discriminator(data, norm="batch", spectral=False, out_features=1):
    """DCGAN at 28x28: Cx28x28 -> 64x14x14 -> 128x7x7 (Conv 4x4 stride 2, LeakyReLU 0.2) -> linear."""
    channels = data.shape[0]
    middle = {"batch": [nn.BatchNorm2d(128)], "layer": [nn.GroupNorm(1, 128)], "none": []}[norm]
    net = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), *middle, nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, out_features))
    if spectral:
        _spectral_everywhere(net)
    return net


def _spectral_everywhere(net):
    for module in net.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.spectral_norm(module)


def dcgan_init_(net):
    """DCGAN's initialisation: conv/linear weights N(0, 0.02), norm weights N(1, 0.02), biases 0."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.weight is not None:
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return net
