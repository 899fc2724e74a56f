"""Per-op benchmarks: the DCGAN conv layer shapes, a matmul and a batch norm, forward+backward.

Each `LayerCase` builds, for any engine, a callable running the op forward (and backward with a
ones output gradient when asked) on fixed random float32 inputs.
"""
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ConvShape:
    """One DCGAN layer: conv2d or conv_transpose2d, 4x4 stride 2 unless stated."""
    name: str
    transposed: bool
    batch: int
    in_channels: int
    out_channels: int
    size: int
    kernel: int = 4
    stride: int = 2
    padding: int = 1

    def weight_shape(self):
        if self.transposed:
            return (self.in_channels, self.out_channels, self.kernel, self.kernel)
        return (self.out_channels, self.in_channels, self.kernel, self.kernel)

    def input_shape(self):
        return (self.batch, self.in_channels, self.size, self.size)

    def flops(self):
        """2 x multiply-adds of the forward pass (backward does twice this: data and weight)."""
        small = self.size if self.transposed else (self.size + 2 * self.padding - self.kernel) // self.stride + 1
        return 2 * self.batch * self.in_channels * self.out_channels * self.kernel ** 2 * small ** 2

    @property
    def label(self):
        return f"{self.name} b{self.batch}"

    def with_batch(self, batch):
        return replace(self, batch=batch)

    def build(self, e, backward):
        x, w = _inputs(e, backward, self.input_shape(), self.weight_shape())
        op = e.F.conv_transpose2d if self.transposed else e.F.conv2d
        return _runner(e, lambda: op(x, w, stride=self.stride, padding=self.padding), (x, w), backward)


@dataclass(frozen=True)
class MatmulShape:
    name: str
    m: int
    k: int
    n: int

    @property
    def label(self):
        return self.name

    def flops(self):
        return 2 * self.m * self.k * self.n

    def build(self, e, backward):
        a, b = _inputs(e, backward, (self.m, self.k), (self.k, self.n))
        return _runner(e, lambda: a @ b, (a, b), backward)


@dataclass(frozen=True)
class BatchNormShape:
    name: str
    shape: tuple

    @property
    def label(self):
        return self.name

    def flops(self):
        return None

    def build(self, e, backward):
        x, weight = _inputs(e, backward, self.shape, (self.shape[1],))
        bias = e.tensor(np.zeros(self.shape[1]), requires_grad=backward)
        return _runner(e, lambda: e.F.batch_norm(x, None, None, weight, bias, training=True), (x, weight, bias),
                       backward)


def _inputs(e, requires_grad, *shapes):
    rng = np.random.default_rng(0)
    return [e.tensor(rng.standard_normal(shape) * (0.05 if i else 1.0), requires_grad=requires_grad)
            for i, shape in enumerate(shapes)]


def _runner(e, forward, leaves, backward):
    def run():
        y = forward()
        if backward:
            for leaf in leaves:
                leaf.grad = None
            y.backward(e.lib.ones_like(y))
    run.leaves = leaves   # for tests: the tensors whose gradients a call fills
    return run


DCGAN_CONV_SHAPES = (
    ConvShape("conv 1->64 k4s2 28x28", False, 64, 1, 64, 28),
    ConvShape("conv 64->128 k4s2 14x14", False, 64, 64, 128, 14),
    ConvShape("convT 128->64 k4s2 7x7", True, 64, 128, 64, 7),
    ConvShape("convT 64->1 k4s2 14x14", True, 64, 64, 1, 14),
    ConvShape("conv 3->64 k4s2 64x64", False, 64, 3, 64, 64),
    ConvShape("conv 64->64 k3s1 32x32", False, 16, 64, 64, 32, kernel=3, stride=1),
)
OTHER_OPS = (
    MatmulShape("matmul 64x784 @ 784x512", 64, 784, 512),
    MatmulShape("matmul 1024x1024 @ 1024x1024", 1024, 1024, 1024),
    BatchNormShape("batch_norm (64, 64, 14, 14)", (64, 64, 14, 14)),
)


def layer_cases(batches=(64,)):
    """The conv shapes at each batch size (the k3s1 layer keeps batch/4), then matmul and batch norm."""
    convs = [shape.with_batch(batch // 4 if shape.kernel == 3 else batch)
             for batch in batches for shape in DCGAN_CONV_SHAPES]
    return convs + list(OTHER_OPS)
