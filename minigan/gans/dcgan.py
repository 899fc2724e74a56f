"""DCGAN (Radford et al. 2016): the GAN losses on convolutional networks.

G: linear to 128x7x7, then transposed convs 4x4 stride 2 with BatchNorm and ReLU, tanh output;
D: strided 4x4 convs with LeakyReLU 0.2 and BatchNorm (not on the first layer), a linear logit.
Weights N(0, 0.02), BatchNorm weights N(1, 0.02) (paper, section 4). Adam 2e-4, beta1 0.5 (paper),
batch 64. On 2-D toys the same losses run on MLPs (there is nothing to convolve).
"""
from minigan.gans import register
from minigan.gans.gan import GAN
from minigan.gans.networks import conv_discriminator, conv_generator, dcgan_init_, mlp_discriminator, mlp_generator


@register
class DCGAN(GAN):
    name = "dcgan"
    defaults = {"lr": 2e-4, "betas": (0.5, 0.999)}

    def build(self):
        if not self.data.is_image:
            return {"G": mlp_generator(self.data, self.config["z_dim"]), "D": mlp_discriminator(self.data)}
        return {"G": dcgan_init_(conv_generator(self.data, self.config["z_dim"])),
                "D": dcgan_init_(conv_discriminator(self.data))}
