"""VAE (Kingma and Welling 2014, "Auto-Encoding Variational Bayes"): a non-adversarial baseline run
through the same loop, checkpoints and metrics as the GANs.

The encoder E maps x to the mean and log-variance of q(z|x) = N(mu, diag(exp(log_var))); a sample
z = mu + exp(log_var / 2) * eps (the reparameterisation trick) goes through the decoder G. The loss
is the negative evidence lower bound per sample, averaged over the batch:
    -log p(x | z) + KL(q(z|x) || N(0, I)),   KL = -1/2 sum_j (1 + log_var_j - mu_j^2 - exp(log_var_j))
(the KL in closed form, the paper's appendix B).
- Images: a Bernoulli decoder on the pixels rescaled to [0, 1] (the paper's choice for MNIST), so
  -log p(x|z) is the binary cross-entropy summed over pixels. G ends in tanh, and tanh(a) =
  2 sigmoid(2a) - 1: 2a are the Bernoulli logits, and G(z) in [-1, 1] is the decoded mean rescaled.
- Points: a Gaussian decoder with a fixed std `decoder_std`, -log p(x|z) = |x - G(z)|^2 / (2 std^2)
  up to a constant. 0.1 is our choice: small beside the ring's 1.5 between modes, so the code must
  say which mode, and large beside the modes' 0.02 std, so KL keeps the posteriors overlapping.

Generation decodes z ~ N(0, I). The whole update sees data, so it is `discriminator_step`;
`generator_step` does nothing. Networks: on images the DCGAN discriminator's conv trunk with a
2 * z_dim head as E and the DCGAN generator without batch norm as G; MLPs on 2-D toys.
Defaults: one Adam, 1e-3, over E and G; batch 100 and a 20-dim z (the paper's MNIST runs use batches
of 100 and latent sizes from 3 to 200).
"""
import minigan as mg
import minigan.functional as F
from minigan import optim
from minigan.gans import register
from minigan.gans.base import Variant
from minigan.gans.networks import conv_discriminator, conv_generator, mlp_discriminator, mlp_generator


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per sample, summed over the latent dims: shape (N,)."""
    return -0.5 * (1.0 + log_var - mean ** 2 - log_var.exp()).sum(dim=1)


@register
class VAE(Variant):
    name = "vae"
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "z_dim": 20, "batch_size": 100, "decoder_std": 0.1}

    def build(self):
        z_dim = self.config["z_dim"]
        if self.data.is_image:
            return {"G": conv_generator(self.data, z_dim, norm="none"),
                    "E": conv_discriminator(self.data, norm="none", out_features=2 * z_dim)}
        return {"G": mlp_generator(self.data, z_dim), "E": mlp_discriminator(self.data, out_features=2 * z_dim)}

    def build_optimizers(self):
        c = self.config
        params = list(self.nets["E"].parameters()) + list(self.nets["G"].parameters())
        return {"VAE": optim.Adam(params, lr=c["lr"], betas=tuple(c["betas"]))}

    def reconstruction_loss(self, z, x):
        """-log p(x | z) per sample, up to a constant: shape (N,)."""
        G = self.nets["G"]
        if self.data.is_image:
            logits = 2.0 * G[:-1](z)  # G without its final tanh (see the module docstring)
            bce = F.binary_cross_entropy_with_logits(logits, (x + 1.0) / 2.0, reduction="none")
            return bce.reshape(len(x), -1).sum(dim=1)
        return ((G(z) - x) ** 2).sum(dim=1) / (2.0 * self.config["decoder_std"] ** 2)

    def discriminator_step(self, real, labels=None):
        z_dim = self.config["z_dim"]
        statistics = self.nets["E"](real)
        mean, log_var = statistics[:, :z_dim], statistics[:, z_dim:]
        z = mean + (0.5 * log_var).exp() * mg.randn_like(mean)
        reconstruction, kl = self.reconstruction_loss(z, real).mean(), kl_divergence(mean, log_var).mean()
        loss = reconstruction + kl
        self.update(self.optimizers["VAE"], loss)
        return {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}

    def generator_step(self, batch_size, labels=None):
        return {}
