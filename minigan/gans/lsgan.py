"""LSGAN (Mao et al. 2017): least-squares losses on the DCGAN networks.

With the 0-1 coding of the paper's eq. (2) (a = 0 for fake, b = c = 1 for real):
D: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]; G: 1/2 E[(D(G(z)) - 1)^2], D's output linear (no sigmoid).
Networks as `dcgan` (conv nets with DCGAN's N(0, 0.02) init on images, MLPs on 2-D toys).
Defaults from PyTorch-GAN's `implementations/lsgan/lsgan.py`: Adam 2e-4, betas (0.5, 0.999), batch 64.
"""
import minigan as mg
from minigan.gans import register
from minigan.gans.dcgan import DCGAN


def least_squares(scores, target):
    """1/2 E[(scores - target)^2]."""
    return 0.5 * ((scores - target) ** 2).mean()


@register
class LSGAN(DCGAN):
    name = "lsgan"
    defaults = {"lr": 2e-4, "betas": (0.5, 0.999)}

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        loss = least_squares(D(real), 1.0) + least_squares(D(fake), 0.0)
        self.update(self.optimizers["D"], loss)
        return {"loss_D": loss.item()}

    def generator_loss(self, fake_scores):
        return least_squares(fake_scores, 1.0)
