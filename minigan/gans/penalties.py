"""Gradient penalties on the critic's input gradient, shared by WGAN-GP, DRAGAN (and R1, ProGAN).

Each differentiates the critic's raw output (its logits, never a sigmoid of them) with respect to
its input with `create_graph=True`, so the penalty is itself differentiable: its backward reaches
the critic's weights through a double backward.
"""
import minigan as mg


def input_gradient(D, points):
    """dD/dx at `points` (N, ...), as a Tensor of the same shape that stays in the graph.

    `D` is any callable from a batch to one score per sample, e.g. `lambda x: D(x, labels)` for a
    conditional critic. The points are detached first: a penalty trains the critic, not whatever
    produced the points. Samples must not interact inside D (no BatchNorm), so the gradient of the
    summed scores is each sample's own gradient.
    """
    points = points.detach().requires_grad_()
    with mg.enable_grad():  # a gradient needs a graph, even when called under no_grad
        (gradient,) = mg.grad(D(points).sum(), points, create_graph=True)
    return gradient


def gradient_penalty(D, points, target_norm=1.0):
    """mean_i (||dD/dx (x_i)||_2 - target_norm)^2, the norm taken over all of a sample's dims.

    points: (N, C, H, W) images or (N, D) vectors; returns a scalar Tensor. WGAN-GP evaluates it
    on interpolates between real and generated samples, DRAGAN around perturbed real samples.
    """
    gradient = input_gradient(D, points).flatten(1)
    # the tiny constant keeps d sqrt finite where a gradient is exactly zero (a dead critic)
    norm = ((gradient * gradient).sum(1) + 1e-12).sqrt()
    return ((norm - target_norm) ** 2).mean()
