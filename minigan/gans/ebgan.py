"""EBGAN (Zhao, Mathieu and LeCun 2017, "Energy-based GAN"): D is an auto-encoder whose
reconstruction error is an energy, low on real data and pushed above a margin m on generated data.

    energy E(v) = mean over the sample's elements of (D(v) - v)^2                  (per sample)
    D: E[E(x)] + E[max(0, m - E(G(z)))]            (the hinge per sample, as in the paper)
    G: E[E(G(z))] + lambda_PT * PT(S)
    PT(S) = 1 / (N (N - 1)) sum_{i != j} (S_i . S_j / (|S_i| |S_j|))^2
where S is the batch of encoder codes of the generated samples: the pull-away term penalises codes
that point the same way, to keep G from collapsing onto a few modes (the paper's "EBGAN-PT").

Defaults: margin 1 (the znxlwm collection; PyTorch-GAN's max(1, batch / 64) is 1 at batch 64),
lambda_PT 0.1 (paper; both collections), a 32-dim code (PyTorch-GAN's embedding), Adam 2e-4 with
betas (0.5, 0.999) (both collections). G is the DCGAN generator with its N(0, 0.02) init on
images, D the conv auto-encoder of `minigan.gans.autoencoders`; on 2-D toys both are MLPs.
"""
import minigan as mg
import minigan.functional as F
from minigan.gans import register
from minigan.gans.autoencoders import autoencoder
from minigan.gans.base import Variant
from minigan.gans.networks import conv_generator, dcgan_init_, mlp_generator


def energy(reconstruction, v):
    """Per-sample mean squared reconstruction error, shape (N,)."""
    return ((reconstruction - v) ** 2).reshape(len(v), -1).mean(dim=1)


def discriminator_loss(energy_real, energy_fake, margin):
    """E[E(x)] + E[max(0, m - E(G(z)))]: fakes cost D nothing once their energy is above m."""
    return energy_real.mean() + F.relu(margin - energy_fake).mean()


def pull_away_term(codes):
    """Mean squared cosine similarity between the N codes (N, K), over the N (N - 1) ordered pairs."""
    n = len(codes)
    unit = codes / ((codes ** 2).sum(dim=1, keepdim=True)).sqrt()
    cosines = unit @ unit.T
    self_similarity = ((unit ** 2).sum(dim=1) ** 2).sum()  # the diagonal, 1 up to rounding
    return ((cosines ** 2).sum() - self_similarity) / (n * (n - 1))


@register
class EBGAN(Variant):
    name = "ebgan"
    defaults = {"lr": 2e-4, "betas": (0.5, 0.999), "code_dim": 32, "margin": 1.0, "lambda_pt": 0.1}

    def build(self):
        c = self.config
        if self.data.is_image:
            G = dcgan_init_(conv_generator(self.data, c["z_dim"]))
        else:
            G = mlp_generator(self.data, c["z_dim"])
        return {"G": G, "D": autoencoder(self.data, c["code_dim"])}

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        energy_real, energy_fake = energy(D(real), real), energy(D(fake), fake)
        loss = discriminator_loss(energy_real, energy_fake, self.config["margin"])
        self.update(self.optimizers["D"], loss)
        return {"loss_D": loss.item(), "energy_real": energy_real.mean().item(),
                "energy_fake": energy_fake.mean().item()}

    def generator_step(self, batch_size, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with self.frozen(D):
            fake = G(self.sample_noise(batch_size))
            codes = D.encoder(fake)
            pull_away = pull_away_term(codes)
            loss = energy(D.decoder(codes), fake).mean() + self.config["lambda_pt"] * pull_away
            self.update(self.optimizers["G"], loss)
        return {"loss_G": loss.item(), "pull_away": pull_away.item()}
