"""SNGAN (Miyato et al. 2018, "Spectral Normalization for GANs") with the hinge loss.

Every weight of D is divided by its largest singular value sigma(W), estimated by one power
iteration per forward pass with persistent vectors u, v (`nn.spectral_norm`), which bounds each
layer's Lipschitz constant by 1 (for convolutions: of the weight reshaped to (out, in * kh * kw)).
    D: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]        G: -E[D(G(z))]
D's output is a raw score (no sigmoid). Networks: on images the DCGAN generator (with batch norm,
like the paper's standard CNN) and the DCGAN discriminator without batch norm, spectrally normalised
on every layer; on 2-D toys MLPs, spectral norm on every layer of D.

Defaults: Adam 2e-4, betas (0, 0.9), n_critic 5 (BigGAN-PyTorch's `launch_SNGAN.sh`, the hinge-loss
SNGAN recipe), z of 128 dims and batch 64 (paper). chainer-gan-lib's SN-DCGAN uses betas (0.5, 0.999)
with n_critic 1 and the non-saturating loss instead; `n_critic=1, betas=(0.5, 0.999)` gives its
schedule at a fifth of the cost per step.
"""
import minigan as mg
import minigan.functional as F
from minigan.gans import register
from minigan.gans.base import Variant
from minigan.gans.networks import conv_discriminator, conv_generator, mlp_discriminator, mlp_generator


def hinge_discriminator_loss(real_scores, fake_scores):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def hinge_generator_loss(fake_scores):
    """-E[D(G(z))]."""
    return -fake_scores.mean()


@register
class SNGAN(Variant):
    name = "sngan"
    defaults = {"lr": 2e-4, "betas": (0.0, 0.9), "n_critic": 5, "z_dim": 128}

    def build(self):
        z_dim = self.config["z_dim"]
        if self.data.is_image:
            return {"G": conv_generator(self.data, z_dim),
                    "D": conv_discriminator(self.data, norm="none", spectral=True)}
        return {"G": mlp_generator(self.data, z_dim), "D": mlp_discriminator(self.data, spectral=True)}

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        # one forward for both halves: one power iteration per D step, one sigma for real and fake
        scores = D(mg.cat([real, fake]))
        loss = hinge_discriminator_loss(scores[:len(real)], scores[len(real):])
        self.update(self.optimizers["D"], loss)
        return {"loss_D": loss.item()}

    def generator_loss(self, fake_scores):
        return hinge_generator_loss(fake_scores)
