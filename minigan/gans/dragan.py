"""DRAGAN (Kodali et al. 2017): the GAN losses plus a gradient penalty in a small region around
the real data, where the paper finds the sharp critic gradients that go with mode collapse.

D: BCE(D(x), 1) + BCE(D(G(z)), 0) + lambda E[(||grad D(x_p)||_2 - 1)^2] with perturbed reals
x_p = x + c std(x) u, u ~ U[0, 1) per element; G: the non-saturating BCE(D(G(z)), 1).
std(x) is taken per pixel (per coordinate on toys) over the batch, as chainer-gan-lib's
`dragan/updater.py`; the authors' notebook (kodalinaveen3/DRAGAN) uses one std for the whole
batch and penalises a random point between x and x_p, which only shrinks the perturbation.
Defaults from that notebook: lambda 10, c = 0.5, Adam 1e-4 with betas (0.5, 0.9), one D step per
G step; batch 64 (the notebook's is 128). (chainer-gan-lib's example runs betas (0, 0.9) and 2
D steps.) Networks: the DCGAN conv nets on images, but the critic without BatchNorm (the penalty
needs each sample's own gradient); MLPs on 2-D toys.

Toy default: lambda 1 on 2-D points, not 10. The penalty pins D's input slope to 1 logit per unit
of x, and on ring8/grid25 the modes are only 1.5-2 units apart: with lambda 10 the penalty outweighs
the BCE terms, D's loss stays at or above chance (1.4-1.8 vs 2 ln 2) with the penalty met (~0.01),
D scores fakes above reals, and G drifts as one blob (at 2k steps: 0/8 modes). c = 0.05 (4k
steps) and a symmetric U[-1, 1) perturbation (1.5k) collapse too: the region's size is not the
cause. lambda 1 gave 8/8 modes and lambda 0.1 7/8 at 4k steps, both a diffuse ring (minigan's
README; one seed each, so 1 over 0.1 is a weak preference). Given time, lambda 1 is sharp: 100k
steps with `lr_schedule=linear` end at 8/8 modes and 84.5% high-quality samples on ring8 (measured
with 100-dim noise, before toys got 2-D noise). The critic update matches PyTorch's to float64
precision (tests/gans), so no bug is involved. WGAN-GP's authors lower their lambda for toys too
(to 0.1, `gan_toy.py`).
"""
import minigan as mg
from minigan.gans import register
from minigan.gans.base import Variant
from minigan.gans.gan import bce_logits
from minigan.gans.networks import conv_discriminator, conv_generator, dcgan_init_, mlp_discriminator, mlp_generator
from minigan.gans.penalties import gradient_penalty


@register
class DRAGAN(Variant):
    name = "dragan"
    defaults = {"lr": 1e-4, "betas": (0.5, 0.9), "n_critic": 1, "penalty_weight": 10.0, "perturbation": 0.5}
    toy_defaults = {"penalty_weight": 1.0}   # lambda 10 collapses G on 2-D mixtures (docstring)

    def build(self):
        if not self.data.is_image:
            return {"G": mlp_generator(self.data, self.config["z_dim"]), "D": mlp_discriminator(self.data)}
        return {"G": dcgan_init_(conv_generator(self.data, self.config["z_dim"])),
                "D": dcgan_init_(conv_discriminator(self.data, norm="none"))}

    def perturb(self, real):
        """x + c std(x) u: std per pixel over the batch, u ~ U[0, 1) per element."""
        std = real.std(dim=0, keepdim=True, unbiased=False)
        u = mg.rand(*real.shape, dtype=real.dtype, device=real.device)
        return real + self.config["perturbation"] * std * u

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
            perturbed = self.perturb(real)
        penalty = gradient_penalty(D, perturbed)
        loss = bce_logits(D(real), 1) + bce_logits(D(fake), 0) + self.config["penalty_weight"] * penalty
        self.update(self.optimizers["D"], loss)
        return {"loss_D": loss.item(), "gradient_penalty": penalty.item()}

    def generator_loss(self, fake_scores):
        return bce_logits(fake_scores, 1)
