"""Checks for shape ops: views, broadcasting, indexing (basic and advanced), cat and stack."""
import numpy as np

from minigan import ops
from minigan.gradcheck.registry import Arg, register

register("reshape", "basic", lambda x: ops.reshape(x, (4, -1)), Arg((2, 3, 2)))
register("permute", "3-d", lambda x: ops.permute(x, (2, 0, 1)), Arg((2, 3, 4)))
register("transpose", "last two", lambda x: ops.transpose(x, -1, -2), Arg((2, 3, 4)))
register("broadcast_to", "new and unit dims", lambda x: ops.broadcast_to(x, (2, 3, 4)), Arg((3, 1)))
register("expand", "keep -1", lambda x: ops.expand(x, (2, -1, 4)), Arg((3, 1)))
register("sum_to", "to row", lambda x: ops.sum_to(x, (1, 4)), Arg((3, 4)))
register("flatten", "from dim 1", lambda x: ops.flatten(x, 1), Arg((2, 3, 2)))
register("squeeze", "dim 1", lambda x: ops.squeeze(x, 1), Arg((3, 1, 4)))
register("unsqueeze", "dim -1", lambda x: ops.unsqueeze(x, -1), Arg((3, 4)))
register("getitem", "slices", lambda x: x[1:, ::2], Arg((3, 5)))
register("getitem", "repeated integer index", lambda x: x[np.array([0, 2, 0, 1])], Arg((3, 4)))
register("getitem", "boolean mask", lambda x: x[x.data > 0], Arg((3, 4), avoid=(0.0,)))
register("cat", "dim 1", lambda a, b: ops.cat([a, b], 1), Arg((2, 3)), Arg((2, 2)))
register("stack", "dim 0", lambda a, b: ops.stack([a, b], 0), Arg((2, 3)), Arg((2, 3)))
register("astype", "float64 to float64 via float32 round trip",
         lambda x: ops.astype(ops.astype(x, np.float32), np.float64) * 0 + x * 2, Arg((3,)))
