"""minigan: a deep-learning engine from scratch on NumPy and CuPy, and every classic GAN on top.

    import minigan as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward()        # x.grad == 3 x**2
"""
from minigan import backend, cuda
from minigan.backend import manual_seed
from minigan.autograd import (Tensor, Function, grad, no_grad, enable_grad, set_grad_enabled,
                              is_grad_enabled, float32, float64, set_default_dtype, get_default_dtype)
from minigan.creation import (tensor, as_tensor, zeros, ones, full, empty, zeros_like, ones_like,
                              full_like, randn, rand, randn_like, rand_like, randint, randperm,
                              arange, linspace, eye)
from minigan.ops import (cat, stack, where, maximum, minimum, exp, log, sqrt, abs, clamp, sin, cos,
                         matmul, sigmoid, tanh, relu, softmax, log_softmax, logsumexp, flatten,
                         reshape, permute, transpose, squeeze, unsqueeze, sum, mean, var, std,
                         max, min, amax, amin, argmax, argmin)
from minigan.dot import to_dot
from minigan.profiler import profile
from minigan import data, nn, optim
from minigan.io import save, load, CheckpointError
from minigan.gradcheck import gradcheck, gradgradcheck, GradcheckError, NondifferentiableError

__version__ = "0.1.0"
