"""Checks for the losses, every reduction, with targets that take no gradient."""
import numpy as np

from minigan import functional as F
from minigan.gradcheck.registry import Arg, register

target01 = Arg((4, 3), 0.0, 1.0, requires_grad=False)
labels = Arg((4,), 0, 3, integer=True)

register("binary_cross_entropy_with_logits", "mean", F.binary_cross_entropy_with_logits,
         Arg((4, 3), -3.0, 3.0), target01)
register("binary_cross_entropy_with_logits", "pos_weight, none",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=2.0),
         Arg((4, 3), -3.0, 3.0), target01)
register("binary_cross_entropy_with_logits", "target with gradient, sum",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
         Arg((4, 3), -3.0, 3.0), Arg((4, 3), 0.0, 1.0))
register("binary_cross_entropy", "sum", lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"),
         Arg((4, 3), 0.1, 0.9), target01)
register("mse_loss", "mean", F.mse_loss, Arg((4, 3)), Arg((4, 3)))
register("l1_loss", "none", lambda x, t: F.l1_loss(x, t, reduction="none"), Arg((4, 3), avoid=(0.0,)),
         Arg((4, 3), 0.0, 0.0, requires_grad=False))
register("nll_loss", "class weights", lambda x, t: F.nll_loss(x, t, weight=np.array([1.0, 2.0, 0.5])),
         Arg((4, 3)), labels)
register("cross_entropy", "indices", F.cross_entropy, Arg((4, 3), -2.0, 2.0), labels)
register("cross_entropy", "probabilities, label smoothing",
         lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), Arg((4, 3), -2.0, 2.0), target01)
register("cross_entropy", "4-d input, sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
         Arg((2, 3, 2, 2), -2.0, 2.0), Arg((2, 2, 2), 0, 3, integer=True))
