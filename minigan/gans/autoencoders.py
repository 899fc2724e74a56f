"""Auto-encoder discriminators for the energy-based variants (BEGAN, EBGAN).

D(v) is a reconstruction of v and the energy of v is how badly D reconstructs it: D learns to
reconstruct real data well and generated data badly. `D.encoder(v)` is the code, (N, code_dim);
EBGAN's pull-away term works on it. No normalisation layers: a batch-norm inside D would make the
energy of a sample depend on the rest of its batch, and real and fake batches go through D apart.
"""
import numpy as np

from minigan import nn
from minigan.gans.networks import mlp


class AutoEncoder(nn.Module):
    """`encoder`: sample -> code (N, code_dim); `decoder`: code -> reconstruction of the sample's shape."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


def conv_autoencoder(data, code_dim=32):
    """Images (C, H, W), H and W multiples of 4 (28x28 for MNIST):
    encoder Cx28x28 -> 64x14x14 -> 128x7x7 (Conv 4x4 stride 2, LeakyReLU 0.2) -> linear code;
    decoder code -> 128x7x7 -> 64x14x14 -> Cx28x28 (ConvTranspose 4x4 stride 2, ReLU), linear output
    (a tanh would have to saturate to reconstruct MNIST's -1 background exactly)."""
    channels, height, width = data.shape
    if height % 4 or width % 4:
        raise ValueError(f"conv_autoencoder: image size {height}x{width} must be a multiple of 4")
    inner = (128, height // 4, width // 4)
    encoder = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(int(np.prod(inner)), code_dim))
    decoder = nn.Sequential(
        nn.Linear(code_dim, int(np.prod(inner))), nn.ReLU(), nn.Unflatten(1, inner),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(64, channels, 4, 2, 1))
    return AutoEncoder(encoder, decoder)


def mlp_autoencoder(data, code_dim, hidden=(512, 512)):
    """Points (D,) or flattened images: D -> hidden -> code -> reversed hidden -> D, LeakyReLU 0.2."""
    size = int(np.prod(data.shape))
    encoder, decoder = mlp((size, *hidden, code_dim)), mlp((code_dim, *reversed(hidden), size))
    if data.is_image:
        encoder, decoder = nn.Sequential(nn.Flatten(), encoder), nn.Sequential(decoder, nn.Unflatten(1, data.shape))
    return AutoEncoder(encoder, decoder)


def autoencoder(data, code_dim):
    """The conv auto-encoder for images, the MLP one for points."""
    return conv_autoencoder(data, code_dim) if data.is_image else mlp_autoencoder(data, code_dim)
