"""Check gradients with finite differences: your own function, and a planted bug being caught.

    python examples/02_gradcheck.py
"""
import argparse

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan.autograd import Function

parser = argparse.ArgumentParser()
parser.add_argument("--small", action="store_true", help="accepted for the examples test")
parser.parse_args()

rng = np.random.default_rng(0)
x = mg.tensor(rng.normal(size=(4, 3)), requires_grad=True)     # float64: gradcheck refuses float32
w = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True)


def layer(x, w):
    return F.softplus(F.linear(x, w)) * F.sigmoid(x.sum(1, keepdim=True))


print("first order :", mg.gradcheck(layer, (x, w)))
print("second order:", mg.gradgradcheck(layer, (x, w)))


class SquareWithBug(Function):
    """x**2 whose backward is off by 1%: the kind of bug a checker must catch."""

    def forward(self, a):
        return a * a

    def backward(self, gy):
        return gy * self.inputs[0] * 2.02


ok = mg.gradcheck(lambda a: SquareWithBug()(a), (x,), raise_exception=False)
print("planted bug caught:", not ok)
try:
    mg.gradcheck(lambda a: SquareWithBug()(a), (x,))
except mg.GradcheckError as error:
    print("the report names the input, the element and both values:\n ", str(error).splitlines()[0])
