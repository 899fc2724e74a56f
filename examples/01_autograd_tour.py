"""A tour of minigan's autograd: gradients, a second derivative, a gradient penalty, the graph.

    python examples/01_autograd_tour.py            # add --small in tests (it is already small)
"""
import argparse

import numpy as np

import minigan as mg
import minigan.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--small", action="store_true", help="accepted for the examples test; the tour is tiny")
parser.add_argument("--dot", help="write the graph of y as Graphviz DOT to this file")
args = parser.parse_args()

# 1. A leaf that requires grad, a computation, backward.
x = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
y = (x ** 3 - 2 * x).sum()
y.backward()
print("dy/dx       =", x.grad.numpy(), " (3x^2 - 2)")

# 2. Second derivative: ask for the gradient as a graph (create_graph=True), then differentiate it.
g, = mg.grad((x ** 3).sum(), x, create_graph=True)
h, = mg.grad(g.sum(), x)
print("d2/dx2 x^3  =", h.numpy(), " (6x)")

# 3. A gradient penalty (WGAN-GP style): the norm of dD/dx is itself trained, so the
#    optimiser needs d/dw of a gradient — exactly what create_graph gives.
mg.manual_seed(0)
w = mg.randn(1, 3, dtype=mg.float64, requires_grad=True)
points = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
critic = F.linear(F.tanh(points), w).sum()
grad_points, = mg.grad(critic, points, create_graph=True)
penalty = ((grad_points.pow(2).sum(1).sqrt() - 1) ** 2).mean()
penalty.backward()
print("penalty     =", round(penalty.item(), 6), " d penalty / d w =", w.grad.numpy().round(4))

# 4. The graph behind a tensor, as Graphviz DOT (render with: dot -Tpng graph.dot -o graph.png).
#    Draw it before backward: backward frees the graph unless retain_graph=True.
z = F.sigmoid(x * 2.0 + 1.0).sum()
dot = mg.to_dot(z, path=args.dot, names={x: "x"})
print(f"graph of z: {dot.count('shape=box')} ops, {dot.count('shape=oval')} tensors"
      + (f", written to {args.dot}" if args.dot else ""))
assert np.allclose(x.grad.numpy(), 3 * x.numpy() ** 2 - 2)
