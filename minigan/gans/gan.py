"""GAN (Goodfellow et al. 2014) with the non-saturating generator loss, on MLP networks.

D: BCE(D(x), 1) + BCE(D(G(z)), 0). G: BCE(D(G(z)), 1) (the "-log D" trick of the paper's section 3).
Defaults from PyTorch-GAN's `implementations/gan/gan.py`: Adam 2e-4, betas (0.5, 0.999), batch 64,
z of 100 dims; its MLP, but without its batch-norm eps of 0.8 (a positional-argument slip) and with
the networks of `minigan.gans.networks`.
"""
import minigan as mg
import minigan.functional as F
from minigan.gans import register
from minigan.gans.base import Variant
from minigan.gans.networks import mlp_discriminator, mlp_generator


def bce_logits(logits, target):
    return F.binary_cross_entropy_with_logits(logits, mg.full(logits.shape, float(target), dtype=logits.dtype,
                                                              device=logits.device))


@register
class GAN(Variant):
    name = "gan"
    defaults = {"lr": 2e-4, "betas": (0.5, 0.999)}

    def build(self):
        return {"G": mlp_generator(self.data, self.config["z_dim"]), "D": mlp_discriminator(self.data)}

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        loss = bce_logits(D(real), 1) + bce_logits(D(fake), 0)
        self.update(self.optimizers["D"], loss)
        return {"loss_D": loss.item()}

    def generator_loss(self, fake_scores):
        return bce_logits(fake_scores, 1)
