"""BEGAN (Berthelot et al. 2017, "Boundary Equilibrium GAN"): an auto-encoder discriminator and a
proportional controller that keeps the two players in equilibrium.

The loss of a sample is how badly D reconstructs it, L(v) = mean |v - D(v)| (the paper's eta = 1).
    D: L(x) - k_t L(G(z))        G: L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1),  k_0 = 0
gamma = E[L(G(z))] / E[L(x)] is the diversity ratio the controller aims for. The convergence measure
M = L(x) + |gamma L(x) - L(G(z))| (section 3.4) falls as training converges; it is logged with k_t.

k_t is updated right after each D update, from the L(x) and L(G(z)) that update used (measured before
it, as in the paper's equations where both players' losses and the k update share one step's
values). The paper's G step uses a fresh z; the k update uses the D step's z: the same in expectation.
With n_critic > 1 the controller takes one step per D update.

Defaults: gamma 0.5 (the paper's figures sweep 0.3, 0.5, 0.7; chainer-gan-lib's example uses 0.5;
PyTorch-GAN uses 0.75), lambda_k 0.001 and k_0 0 (paper), z and code of 64 dims (paper's N_z = N_h =
64). Adam 1e-4, the top of the paper's starting range (5e-5 to 1e-4, halved when M stalls: that schedule
is not reproduced), betas (0.5, 0.999) as PyTorch-GAN and the znxlwm collection; z ~ N(0, I), not the
paper's U(-1, 1), like every variant here. On images G is the DCGAN generator, D the conv
auto-encoder of `minigan.gans.autoencoders`; on 2-D toys both are MLPs.

One departure, `generator_norm="batch"`: G keeps the DCGAN generator's batch norm, where the paper's
G has none (`--set generator_norm=none` gives the paper's). Without it G collapses on MNIST: while
k_t is still near 0, D only auto-encodes real digits, the image it reconstructs best is a near-black
one, and G takes every z there. Measured (seed 0, fixed 64 z): the per-pixel spread of G(z) over z
falls 0.17 -> 0.07 in the first 100 steps and every sample is the same blob by step 600; k_0 0.05,
lambda_k 0.01 and He init collapse too. With batch norm, which normalises G's features across the
batch, the spread grows 0.04 -> 0.16 over 1,500 steps and the samples are distinct digit shapes
(PyTorch-GAN's BEGAN generator has batch norm as well).
"""
import minigan as mg
import minigan.functional as F
from minigan.gans import register
from minigan.gans.autoencoders import autoencoder
from minigan.gans.base import Variant
from minigan.gans.networks import conv_generator, dcgan_init_, mlp_generator


def reconstruction_loss(D, v):
    """L(v) = mean |v - D(v)| over the batch and every element of a sample."""
    return F.l1_loss(D(v), v)


def update_k(k, loss_real, loss_fake, gamma, lambda_k):
    """One step of the proportional controller: clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1)."""
    return min(max(k + lambda_k * (gamma * loss_real - loss_fake), 0.0), 1.0)


def convergence_measure(loss_real, loss_fake, gamma):
    """M = L(x) + |gamma L(x) - L(G(z))|."""
    return loss_real + abs(gamma * loss_real - loss_fake)


@register
class BEGAN(Variant):
    name = "began"
    defaults = {"lr": 1e-4, "betas": (0.5, 0.999), "z_dim": 64, "code_dim": 64,
                "gamma": 0.5, "lambda_k": 0.001, "k_0": 0.0, "generator_norm": "batch"}
    state_keys = ("k_t",)

    def __init__(self, data, **overrides):
        if not data.is_image and "generator_norm" in overrides:  # would otherwise be silently ignored
            raise ValueError("began: generator_norm shapes the image generator; on 2-D toys G is an MLP "
                             f"without norm (got generator_norm={overrides['generator_norm']!r})")
        super().__init__(data, **overrides)
        self.k_t = float(self.config["k_0"])

    def build(self):
        c = self.config
        if c["generator_norm"] not in ("batch", "none"):
            raise ValueError(f"began: generator_norm must be 'batch' or 'none', got {c['generator_norm']!r}")
        if self.data.is_image:
            G = conv_generator(self.data, c["z_dim"], norm=c["generator_norm"])
            if c["generator_norm"] == "batch":
                dcgan_init_(G)   # as measured (docstring): the DCGAN generator, its init included
        else:
            G = mlp_generator(self.data, c["z_dim"])
        return {"G": G, "D": autoencoder(self.data, c["code_dim"])}

    def discriminator_step(self, real, labels=None):
        G, D, c = self.nets["G"], self.nets["D"], self.config
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        loss_real, loss_fake = reconstruction_loss(D, real), reconstruction_loss(D, fake)
        loss = loss_real - self.k_t * loss_fake
        self.update(self.optimizers["D"], loss)
        real_value, fake_value = loss_real.item(), loss_fake.item()
        self.k_t = update_k(self.k_t, real_value, fake_value, c["gamma"], c["lambda_k"])
        return {"loss_D": loss.item(), "loss_real": real_value, "loss_fake": fake_value, "k_t": self.k_t,
                "convergence": convergence_measure(real_value, fake_value, c["gamma"])}

    def generator_step(self, batch_size, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with self.frozen(D):
            loss = reconstruction_loss(D, G(self.sample_noise(batch_size)))
            self.update(self.optimizers["G"], loss)
        return {"loss_G": loss.item()}
