"""Checks for the fused normalisation core and the norms built on it, with random (non-unit)
affine parameters: a backward bug can hide behind weight=1 (and behind an all-ones gradient)."""
from minigan import functional as F, ops
from minigan.gradcheck.registry import Arg, register

register("normalize", "over dim 0", lambda x: ops.normalize(x, (0,)), Arg((5, 3)))
register("normalize", "over dims (0, 2, 3)", lambda x: ops.normalize(x, (0, 2, 3)), Arg((2, 2, 3, 3)))
register("batch_norm", "training, affine", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         Arg((4, 3)), Arg((3,), 0.5, 1.5), Arg((3,)))
register("batch_norm", "training 4-d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         Arg((2, 3, 2, 2)), Arg((3,), 0.5, 1.5), Arg((3,)))
register("batch_norm", "eval (running stats)",
         lambda x, w, b: F.batch_norm(x, x.xp.linspace(-0.2, 0.2, 3), x.xp.linspace(0.5, 1.5, 3), w, b),
         Arg((4, 3)), Arg((3,), 0.5, 1.5), Arg((3,)))
register("instance_norm", "affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
         Arg((2, 2, 3, 3)), Arg((2,), 0.5, 1.5), Arg((2,)))
register("layer_norm", "last two dims", lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
         Arg((3, 2, 3)), Arg((2, 3), 0.5, 1.5), Arg((2, 3)))
register("group_norm", "2 groups", lambda x, w, b: F.group_norm(x, 2, w, b),
         Arg((2, 4, 2, 2)), Arg((4,), 0.5, 1.5), Arg((4,)))
