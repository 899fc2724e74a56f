"""Checks of the GAN building blocks in `minigan.nn`: spectral norm, equalized layers, modulated
convolution, the StyleGAN/ProGAN layers, self-attention, conditional batch norm, PReLU and the
residual and sub-pixel blocks. As in `specs/nn.py`, every parameter is a checked input too,
stood in for the module's own by `functional_call`."""
import math

import numpy as np

from minigan import nn
from minigan.gradcheck.registry import Arg, register


def _module(module, names, n_inputs=1, training=True, **forward_kwargs):
    """fn(*inputs, *params): `module` (float64, on the first input's device) called on the first
    `n_inputs` tensors, with the remaining ones standing in for the parameters `names`."""
    module.to(np.float64)
    module.train(training)

    def fn(*tensors):
        module.to(tensors[0].device)
        inputs, params = tensors[:n_inputs], tensors[n_inputs:]
        return nn.functional_call(module, dict(zip(names, params)), tuple(inputs), forward_kwargs)
    return fn


def _spectral(module):
    """A spectrally normalised layer with fixed, positive u and v: with weights in [0.5, 1.5],
    sigma = u^T W v stays well away from zero whatever weights the check draws."""
    nn.spectral_norm(module)
    module.weight_u[...] = module.weight_u.abs()
    module.weight_v[...] = module.weight_v.abs()
    return module


ORIG = ("weight_orig", "bias")
register("nn.spectral_norm", "Linear, eval (u, v fixed)", _module(_spectral(nn.Linear(4, 3)), ORIG, training=False),
         Arg((2, 4)), Arg((3, 4), 0.5, 1.5), Arg((3,)))
register("nn.spectral_norm", "Conv2d, eval", _module(_spectral(nn.Conv2d(2, 3, 2)), ORIG, training=False),
         Arg((1, 2, 3, 3)), Arg((3, 2, 2, 2), 0.5, 1.5), Arg((3,)))
register("nn.spectral_norm", "ConvTranspose2d (dim=1), eval",
         _module(_spectral(nn.ConvTranspose2d(2, 3, 2, stride=2)), ORIG, training=False),
         Arg((1, 2, 2, 2)), Arg((2, 3, 2, 2), 0.5, 1.5), Arg((3,)))

WEIGHT_BIAS = ("weight", "bias")
register("nn.EqualizedLinear", "lr_multiplier 0.1, gain sqrt(2)",
         _module(nn.EqualizedLinear(4, 3, lr_multiplier=0.1, gain=math.sqrt(2)), WEIGHT_BIAS),
         Arg((2, 4)), Arg((3, 4)), Arg((3,)))
register("nn.EqualizedConv2d", "stride 2, padding 1, lr_multiplier 0.5",
         _module(nn.EqualizedConv2d(2, 3, 3, stride=2, padding=1, lr_multiplier=0.5), WEIGHT_BIAS),
         Arg((1, 2, 4, 4)), Arg((3, 2, 3, 3)), Arg((3,)))

# The style is 1 + (a small term): modulation bias in [1, 1.5], weights in [-0.3, 0.3].
MODULATED = ("weight", "modulation.weight", "modulation.bias")
STYLE_ARGS = (Arg((2, 3)), Arg((2, 2, 3, 3)), Arg((2, 3), -0.3, 0.3), Arg((2,), 1.0, 1.5))
for case, kwargs, size in [("demodulated", {}, 3),
                           ("not demodulated", {"demodulate": False}, 3),
                           ("up-sampling, blurred", {"up": True}, 2),
                           ("up-sampling, no blur", {"up": True, "blur_kernel": None}, 2),
                           ("down-sampling, blurred", {"down": True}, 4),
                           ("down-sampling, no blur", {"down": True, "blur_kernel": None}, 4)]:
    register("nn.ModulatedConv2d", case, _module(nn.ModulatedConv2d(2, 2, 3, style_dim=3, **kwargs), MODULATED, 2),
             Arg((2, 2, size, size)), *STYLE_ARGS)
register("nn.ModulatedConv2d", "1 x 1 kernel (ToRGB), not demodulated",
         _module(nn.ModulatedConv2d(3, 2, 1, style_dim=3, demodulate=False), MODULATED, 2),
         Arg((2, 3, 2, 2)), Arg((2, 3)), Arg((2, 3, 1, 1)), Arg((3, 3), -0.3, 0.3), Arg((3,), 1.0, 1.5))

register("nn.PixelNorm", "over channels", _module(nn.PixelNorm(), ()), Arg((2, 3, 2, 2), avoid=(0,)))
register("nn.PixelNorm", "latent vectors (N, C)", _module(nn.PixelNorm(), ()), Arg((3, 4), avoid=(0,)))

register("nn.MinibatchStdDev", "groups of 2, one channel", _module(nn.MinibatchStdDev(2), ()), Arg((4, 3, 2, 2)))
register("nn.MinibatchStdDev", "groups of 4, 2 channels", _module(nn.MinibatchStdDev(4, 2), ()), Arg((4, 4, 2, 2)))
register("nn.MinibatchStdDev", "group larger than the batch", _module(nn.MinibatchStdDev(4), ()), Arg((3, 2, 2, 2)))

register("nn.NoiseInjection", "per-channel weight, given noise", _module(nn.NoiseInjection(3), ("weight",), 2),
         Arg((2, 3, 2, 2)), Arg((2, 1, 2, 2)), Arg((3,)))
register("nn.NoiseInjection", "one weight (StyleGAN2), given noise", _module(nn.NoiseInjection(), ("weight",), 2),
         Arg((2, 3, 2, 2)), Arg((2, 1, 2, 2)), Arg((1,)))

register("nn.AdaIN", "style from w", _module(nn.AdaIN(3, 4), ("style.weight", "style.bias"), 2),
         Arg((2, 3, 2, 2)), Arg((2, 4)), Arg((6, 4)), Arg((6,)))

ATTENTION = ("query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias", "gamma")
register("nn.SelfAttention2d", "8 channels (queries and keys of 1)", _module(nn.SelfAttention2d(8), ATTENTION),
         Arg((2, 8, 2, 2)), Arg((1, 8, 1, 1)), Arg((1,)), Arg((1, 8, 1, 1)), Arg((1,)),
         Arg((8, 8, 1, 1)), Arg((8,)), Arg((1,), 0.5, 1.5))

CONDITIONAL = ("gain.weight", "bias.weight")
LABELS = Arg((4,), 0, 3, integer=True)
register("nn.ConditionalBatchNorm2d", "training", _module(nn.ConditionalBatchNorm2d(3, 3), CONDITIONAL, 2),
         Arg((4, 3, 2, 2)), LABELS, Arg((3, 3), 0.5, 1.5), Arg((3, 3)))
_eval_cbn = nn.ConditionalBatchNorm2d(3, 3)
_eval_cbn.bn.running_mean[...] = [-0.3, 0.1, 0.4]
_eval_cbn.bn.running_var[...] = [0.5, 1.2, 1.7]
register("nn.ConditionalBatchNorm2d", "eval, running stats", _module(_eval_cbn, CONDITIONAL, 2, training=False),
         Arg((4, 3, 2, 2)), LABELS, Arg((3, 3), 0.5, 1.5), Arg((3, 3)))

register("nn.PReLU", "one slope", _module(nn.PReLU(), ("weight",)), Arg((2, 3, 2), avoid=(0,)), Arg((1,)))
register("nn.PReLU", "per-channel slopes", _module(nn.PReLU(3), ("weight",)), Arg((2, 3, 2), avoid=(0,)), Arg((3,)))

register("nn.SubPixelUpsample", "scale 2, no activation",
         _module(nn.SubPixelUpsample(2, activation=None, kernel_size=1), ("conv.weight", "conv.bias")),
         Arg((1, 2, 2, 3)), Arg((8, 2, 1, 1)), Arg((8,)))

register("nn.ResidualBlock", "instance norm, reflect padding, leaky ReLU",
         _module(nn.ResidualBlock(2, activation="leaky_relu"), ("block.0.weight", "block.0.bias", "block.3.weight",
                                                                 "block.3.bias")),
         Arg((1, 2, 3, 3)), Arg((2, 2, 3, 3)), Arg((2,)), Arg((2, 2, 3, 3)), Arg((2,)))
