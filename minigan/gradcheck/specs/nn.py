"""Checks of the nn layers whose forward is more than one functional call: the norms in their
modes (training, eval, with and without running statistics) and padded convolutions. The layer's
parameters are checked inputs too: `functional_call` stands them in for the module's own, with
random (non-unit) values, so a bug hidden by weight=1, bias=0 shows."""
import numpy as np

from minigan import nn
from minigan.gradcheck.registry import Arg, register


def _layer(module, names, training=True, **forward_kwargs):
    """fn(x, *params) running `module` (in float64, on x's device) with `names` as its parameters."""
    module.to(np.float64)
    module.train(training)

    def fn(x, *params):
        module.to(x.device)
        return nn.functional_call(module, dict(zip(names, params)), (x,), forward_kwargs)
    return fn


def _with_running_stats(module):
    """Non-trivial running statistics, for eval-mode checks."""
    n = module.num_features
    module.running_mean[...] = np.linspace(-0.3, 0.4, n)
    module.running_var[...] = np.linspace(0.5, 1.7, n)
    return module


AFFINE = ("weight", "bias")
WEIGHT, BIAS = Arg((3,), 0.5, 1.5), Arg((3,), -1.0, 1.0)

register("nn.BatchNorm2d", "training", _layer(nn.BatchNorm2d(3), AFFINE), Arg((2, 3, 2, 2)), WEIGHT, BIAS)
register("nn.BatchNorm2d", "eval, running stats", _layer(_with_running_stats(nn.BatchNorm2d(3)), AFFINE, False),
         Arg((2, 3, 2, 2)), WEIGHT, BIAS)
register("nn.BatchNorm2d", "eval without running stats (batch stats)",
         _layer(nn.BatchNorm2d(3, track_running_stats=False), AFFINE, False), Arg((2, 3, 2, 2)), WEIGHT, BIAS)
register("nn.BatchNorm2d", "no affine, momentum=None", _layer(nn.BatchNorm2d(3, affine=False, momentum=None), ()),
         Arg((3, 3, 2, 2)))
register("nn.BatchNorm1d", "training (N, C)", _layer(nn.BatchNorm1d(3), AFFINE), Arg((5, 3)), WEIGHT, BIAS)
register("nn.BatchNorm1d", "training (N, C, L)", _layer(nn.BatchNorm1d(3), AFFINE), Arg((2, 3, 3)), WEIGHT, BIAS)
register("nn.BatchNorm1d", "eval", _layer(_with_running_stats(nn.BatchNorm1d(3)), AFFINE, False),
         Arg((4, 3)), WEIGHT, BIAS)
register("nn.InstanceNorm2d", "default (no affine)", _layer(nn.InstanceNorm2d(3), ()), Arg((2, 3, 3, 3)))
register("nn.InstanceNorm2d", "affine", _layer(nn.InstanceNorm2d(3, affine=True), AFFINE),
         Arg((2, 3, 2, 3)), WEIGHT, BIAS)
register("nn.InstanceNorm2d", "unbatched (C, H, W)", _layer(nn.InstanceNorm2d(3, affine=True), AFFINE),
         Arg((3, 3, 2)), WEIGHT, BIAS)
register("nn.InstanceNorm2d", "eval, running stats",
         _layer(_with_running_stats(nn.InstanceNorm2d(3, affine=True, track_running_stats=True)), AFFINE, False),
         Arg((2, 3, 2, 2)), WEIGHT, BIAS)
register("nn.LayerNorm", "last dim", _layer(nn.LayerNorm(4), AFFINE), Arg((3, 4)), Arg((4,), 0.5, 1.5), Arg((4,)))
register("nn.LayerNorm", "(C, H, W)", _layer(nn.LayerNorm((2, 2, 3)), AFFINE),
         Arg((2, 2, 2, 3)), Arg((2, 2, 3), 0.5, 1.5), Arg((2, 2, 3)))
register("nn.GroupNorm", "2 groups of 2", _layer(nn.GroupNorm(2, 4), AFFINE),
         Arg((2, 4, 2, 2)), Arg((4,), 0.5, 1.5), Arg((4,)))
register("nn.GroupNorm", "1 group (layer norm over C, H, W)", _layer(nn.GroupNorm(1, 3), AFFINE),
         Arg((2, 3, 2, 2)), WEIGHT, BIAS)
register("nn.Conv2d", "padding='same', even kernel", _layer(nn.Conv2d(2, 3, 2, padding="same"), AFFINE),
         Arg((1, 2, 3, 3)), Arg((3, 2, 2, 2)), Arg((3,)))
register("nn.Conv2d", "padding_mode='reflect'", _layer(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), AFFINE),
         Arg((1, 2, 3, 3)), Arg((2, 2, 3, 3)), Arg((2,)))
register("nn.ConvTranspose2d", "stride 2, output_size",
         _layer(nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), AFFINE, output_size=(4, 4)),
         Arg((1, 2, 2, 2)), Arg((2, 2, 3, 3)), Arg((2,)))

