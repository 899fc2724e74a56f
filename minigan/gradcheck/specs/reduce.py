"""Checks for reductions over all dims, one dim and several, with and without keepdim."""
from minigan import ops
from minigan.gradcheck.registry import Arg, register

register("sum", "all", ops.sum, Arg((3, 4)))
register("sum", "dims (0, 2) keepdim", lambda x: ops.sum(x, (0, 2), keepdim=True), Arg((2, 3, 4)))
register("mean", "dim -1", lambda x: ops.mean(x, -1), Arg((3, 4)))
register("var", "unbiased dim 1", lambda x: ops.var(x, 1), Arg((3, 4)))
register("var", "biased all", lambda x: ops.var(x, unbiased=False), Arg((3, 4)))
register("std", "dim 0", lambda x: ops.std(x, 0), Arg((4, 3)))
register("amax", "dim 1", lambda x: ops.amax(x, 1), Arg((3, 4)))
register("amin", "all", ops.amin, Arg((3, 4)))
register("max", "along dim (values)", lambda x: ops.max(x, 1).values, Arg((3, 4)))
register("min", "along dim keepdim", lambda x: ops.min(x, 0, keepdim=True).values, Arg((3, 4)))
register("logsumexp", "dim 1", lambda x: ops.logsumexp(x, 1), Arg((3, 4), -3.0, 3.0))
