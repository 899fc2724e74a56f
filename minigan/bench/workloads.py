"""The three canonical training workloads, defined once and run on every engine.

Batch 64 unless asked otherwise, float32, on a fixed random "real" batch (data loading is not
what is measured). One step of `mlp-gan` or `dcgan-28` is one D update and one G update
(BCE-with-logits, Adam 2e-4, betas (0.5, 0.999)); one step of `wgan-gp-28` is five critic updates
with a gradient penalty of weight 10 on interpolates (a double backward) and one G update
(Adam 1e-4, betas (0.5, 0.9)).
"""
from dataclasses import dataclass

import numpy as np

Z_DIM = 100


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    build: object          # (engine, batch) -> a callable running one training step


def mlp_gan_nets(e):
    nn = e.nn
    G = nn.Sequential(nn.Linear(Z_DIM, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    return e.module(G), e.module(D)


def dcgan_28_generator(e):
    nn = e.nn
    return e.module(nn.Sequential(
        nn.Linear(Z_DIM, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh()))


def dcgan_28_discriminator(e, batch_norm=True):
    nn = e.nn
    middle = [nn.BatchNorm2d(128)] if batch_norm else []
    return e.module(nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), *middle, nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1)))


def fake_real_batch(e, batch, shape):
    """A fixed batch in [-1, 1] standing in for real data."""
    return e.tensor(np.random.default_rng(0).uniform(-1, 1, (batch, *shape)))


def bce_gan_step(e, G, D, real, lr=2e-4, betas=(0.5, 0.999)):
    """One D update on BCE(D(x), 1) + BCE(D(G(z)), 0), then one G update on BCE(D(G(z)), 1)."""
    opt_G = e.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = e.optim.Adam(D.parameters(), lr=lr, betas=betas)
    bce = e.F.binary_cross_entropy_with_logits

    def step():
        fake = G(e.randn(len(real), Z_DIM))
        real_scores, fake_scores = D(real), D(fake.detach())
        loss_D = bce(real_scores, e.lib.ones_like(real_scores)) + bce(fake_scores, e.lib.zeros_like(fake_scores))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        scores = D(fake)
        loss_G = bce(scores, e.lib.ones_like(scores))
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
    return step


def gradient_penalty(e, D, points):
    """mean (||dD/dx||_2 - 1)^2, differentiable (create_graph) so it trains the critic."""
    points = points.detach().requires_grad_()
    (gradient,) = e.grad(D(points).sum(), points, create_graph=True)
    norm = ((gradient * gradient).flatten(1).sum(1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


def wgan_gp_step(e, G, D, real, n_critic=5, weight=10.0):
    opt_G = e.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_D = e.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    n = len(real)

    def step():
        for _ in range(n_critic):
            with e.no_grad():
                fake = G(e.randn(n, Z_DIM))
            a = e.rand(n, 1, 1, 1)
            penalty = gradient_penalty(e, D, a * real + (1 - a) * fake)
            loss_D = D(fake).mean() - D(real).mean() + weight * penalty
            opt_D.zero_grad()
            loss_D.backward()
            opt_D.step()
        loss_G = -D(G(e.randn(n, Z_DIM))).mean()
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
    return step


def _mlp_gan(e, batch):
    G, D = mlp_gan_nets(e)
    return bce_gan_step(e, G, D, fake_real_batch(e, batch, (784,)))


def _dcgan_28(e, batch):
    return bce_gan_step(e, dcgan_28_generator(e), dcgan_28_discriminator(e), fake_real_batch(e, batch, (1, 28, 28)))


def _wgan_gp_28(e, batch):
    return wgan_gp_step(e, dcgan_28_generator(e), dcgan_28_discriminator(e, batch_norm=False),
                        fake_real_batch(e, batch, (1, 28, 28)))


WORKLOADS = {w.name: w for w in (
    Workload("mlp-gan", "MLP G 100-256-512-1024-784, D 784-512-256-1, BCE, Adam 2e-4", _mlp_gan),
    Workload("dcgan-28", "DCGAN at 28x28 (BatchNorm in G and D), BCE, Adam 2e-4", _dcgan_28),
    Workload("wgan-gp-28", "dcgan-28 nets, critic without BatchNorm, penalty 10, 5 critic steps", _wgan_gp_28),
)}
