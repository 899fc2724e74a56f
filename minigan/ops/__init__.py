"""The differentiable primitives, one module per kind. Each module's Functions compute their
forward on arrays and their backward with these same ops (so every op is twice differentiable)."""
from minigan.ops.shape import (reshape, permute, transpose, broadcast_to, expand, sum_to, flatten,
                               unsqueeze, squeeze, getitem, cat, stack, to_device, astype)
from minigan.ops.elementwise import (add, sub, mul, div, neg, pow, exp, log, sqrt, sin, cos, abs,
                                     clamp, maximum, minimum, where)
from minigan.ops.activation import relu, leaky_relu, elu, sigmoid, tanh, softplus
from minigan.ops.reduce import (sum, mean, var, std, amax, amin, max, min, argmax, argmin,
                                logsumexp, log_softmax, softmax)
from minigan.ops.linalg import matmul, linear
from minigan.ops.loss import binary_cross_entropy_with_logits
from minigan.ops.norm import normalize
from minigan.ops.conv import conv2d, conv_transpose2d
from minigan.ops.pool import avg_pool2d, max_pool2d, adaptive_avg_pool2d
from minigan.ops.resize import interpolate, pad, pixel_shuffle, pixel_unshuffle
