"""WGAN (Arjovsky et al. 2017): a critic estimating the Wasserstein-1 distance, kept Lipschitz by
clipping its weights.

Critic: maximise E[D(x)] - E[D(G(z))], i.e. minimise -E[D(x)] + E[D(G(z))], then clip every critic
parameter to [-c, c]; G: minimise -E[D(G(z))]. n_critic critic updates per generator update.
Defaults from the paper's Algorithm 1 and the authors' code (martinarjovsky/WassersteinGAN):
RMSprop (not Adam, which the authors found destabilises the critic) with lr 5e-5 for both nets,
c = 0.01, n_critic 5, batch 64. (The authors' code also runs 100 critic steps for the first 25
generator steps and every 500th; minigan keeps the paper's constant 5.) On images the DCGAN conv
nets with their N(0, 0.02) init, BatchNorm in the critic as in that code; MLPs on 2-D toys.
Logged: `wasserstein_estimate` = E[D(x)] - E[D(G(z))] before the critic update.
"""
import minigan as mg
from minigan import optim
from minigan.gans import register
from minigan.gans.base import Variant
from minigan.gans.networks import conv_discriminator, conv_generator, dcgan_init_, mlp_discriminator, mlp_generator


def critic_loss(real_scores, fake_scores):
    """-E[D(x)] + E[D(G(z))]: the negated Wasserstein estimate, which the critic minimises."""
    return fake_scores.mean() - real_scores.mean()


@register
class WGAN(Variant):
    name = "wgan"
    defaults = {"lr": 5e-5, "n_critic": 5, "clip_value": 0.01}

    def build(self):
        if not self.data.is_image:
            return {"G": mlp_generator(self.data, self.config["z_dim"]), "D": mlp_discriminator(self.data)}
        return {"G": dcgan_init_(conv_generator(self.data, self.config["z_dim"])),
                "D": dcgan_init_(conv_discriminator(self.data, norm="batch"))}

    def build_optimizers(self):
        return {name: optim.RMSprop(self.nets[name].parameters(), lr=self.config["lr"]) for name in ("G", "D")}

    def discriminator_step(self, real, labels=None):
        G, D = self.nets["G"], self.nets["D"]
        with mg.no_grad():
            fake = G(self.sample_noise(len(real)))
        loss = critic_loss(D(real), D(fake))
        self.update(self.optimizers["D"], loss)
        self.clip_weights(D)
        return {"loss_D": loss.item(), "wasserstein_estimate": -loss.item()}

    def clip_weights(self, net):
        c = self.config["clip_value"]
        for p in net.parameters():
            p.data.clip(-c, c, out=p.data)

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()
