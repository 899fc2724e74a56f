"""Checks for matrix products."""
from minigan import ops
from minigan.gradcheck.registry import Arg, register

register("matmul", "2-d", ops.matmul, Arg((3, 4)), Arg((4, 2)))
register("matmul", "batched broadcast", ops.matmul, Arg((2, 3, 4)), Arg((4, 2)))
register("matmul", "outer product (inner dim 1), batched", ops.matmul, Arg((2, 3, 1)), Arg((1, 4)))
register("matmul", "vector-matrix", ops.matmul, Arg((4,)), Arg((4, 3)))
register("matmul", "vector-vector (dot)", ops.matmul, Arg((4,)), Arg((4,)))
register("linear", "with bias", ops.linear, Arg((3, 4)), Arg((2, 4)), Arg((2,)))
register("linear", "one output feature (outer-product x-gradient)", ops.linear, Arg((3, 4)), Arg((1, 4)), Arg((1,)))
register("linear", "no bias, 3-d input", ops.linear, Arg((2, 3, 4)), Arg((5, 4)))
