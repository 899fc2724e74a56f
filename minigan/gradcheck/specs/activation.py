"""Checks for activations (inputs kept away from the kinks of relu, leaky_relu and elu)."""
from minigan import ops
from minigan.gradcheck.registry import Arg, register

register("relu", "away from 0", ops.relu, Arg((3, 5), avoid=(0.0,)))
register("leaky_relu", "slope 0.2", lambda x: ops.leaky_relu(x, 0.2), Arg((3, 5), avoid=(0.0,)))
register("leaky_relu", "slope 1.5 (above 1)", lambda x: ops.leaky_relu(x, 1.5), Arg((3, 5), avoid=(0.0,)))
register("leaky_relu", "slope -0.3 (negative)", lambda x: ops.leaky_relu(x, -0.3), Arg((3, 5), avoid=(0.0,)))
register("elu", "alpha 1", ops.elu, Arg((3, 5), -2.0, 2.0, avoid=(0.0,)))
register("elu", "alpha 0.5", lambda x: ops.elu(x, 0.5), Arg((3, 5), -2.0, 2.0, avoid=(0.0,)))
register("sigmoid", "basic", ops.sigmoid, Arg((3, 5), -4.0, 4.0))
register("tanh", "basic", ops.tanh, Arg((3, 5), -2.0, 2.0))
register("softplus", "basic", ops.softplus, Arg((3, 5), -4.0, 4.0))
register("softplus", "beta 2, above threshold", lambda x: ops.softplus(x, 2.0, 3.0),
         Arg((3, 5), -4.0, 4.0, avoid=(1.5,)))
register("softmax", "dim 1", lambda x: ops.softmax(x, 1), Arg((3, 5), -2.0, 2.0))
register("log_softmax", "dim 0", lambda x: ops.log_softmax(x, 0), Arg((3, 5), -2.0, 2.0))
