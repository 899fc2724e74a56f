"""The registry of gradient checks: for every op, the inputs (shapes, value domains away from
kinks and poles) and option variants it is checked with, first and second order.

Spec modules in `minigan/gradcheck/specs/` call `register(...)` at import; `checks()` loads them
all. A test walks every Function class in `minigan.ops` and fails if no registered check reaches it.
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minigan import backend
from minigan.autograd import Tensor


@dataclass(frozen=True)
class Arg:
    """One input of a check: its shape and where its values are drawn.

    Floats are uniform in [low, high], then pushed at least `margin` away from every value in
    `avoid` (kinks such as relu's 0, poles such as log's 0). `integer=True` draws int64 values in
    [low, high) that take no gradient (indices, labels).
    """
    shape: tuple
    low: float = -1.0
    high: float = 1.0
    avoid: tuple = ()
    margin: float = 0.1
    requires_grad: bool = True
    integer: bool = False

    def sample(self, rng, device="cpu"):
        if self.integer:
            values = rng.integers(int(self.low), int(self.high), size=self.shape).astype(np.int64)
            return Tensor(backend.to_device(values, device))
        values = rng.uniform(self.low, self.high, size=self.shape)
        for point in self.avoid:
            near = np.abs(values - point) < self.margin
            side = np.where(values >= point, 1.0, -1.0)
            values = np.where(near, point + side * (self.margin + rng.uniform(0, self.margin, self.shape)), values)
        return Tensor(backend.to_device(values.astype(np.float64), device), requires_grad=self.requires_grad)


@dataclass(frozen=True)
class OpCheck:
    """A gradient check of one public op (`op`) in one configuration (`case`).

    `fn(*tensors)` calls the op with the sampled inputs and returns a Tensor (or a tuple).
    """
    op: str
    case: str
    fn: Callable
    args: tuple
    second_order: bool = True
    tolerances: dict = field(default_factory=dict)  # e.g. {"atol": 1e-4} for an ill-conditioned op

    @property
    def label(self):
        return f"{self.op}[{self.case}]"

    def inputs(self, device="cpu", seed=0):
        rng = np.random.default_rng(seed)
        return [arg.sample(rng, device) for arg in self.args]


_REGISTRY = []


def register(op, case, fn, *args, second_order=True, **tolerances):
    """Add a check: `register("relu", "basic", F.relu, Arg((3, 4), avoid=(0,)))`."""
    _REGISTRY.append(OpCheck(op, case, fn, tuple(args), second_order, tolerances))


_loaded = []


def checks(op=None):
    """Every registered check (or those of one op), after importing all spec modules."""
    if not _loaded:
        from minigan.gradcheck import specs
        for module in pkgutil.iter_modules(specs.__path__):
            importlib.import_module(f"{specs.__name__}.{module.name}")
        _loaded.append(True)
    found = [c for c in _REGISTRY if op is None or c.op == op]
    if op is not None and not found:
        known = sorted({c.op for c in _REGISTRY})
        raise KeyError(f"no gradient check registered for op {op!r}; known ops: {', '.join(known)}")
    return found


def registered_ops():
    return sorted({c.op for c in checks()})
