"""Every registered check passes, first and second order, and every op has a check."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import minigan
import minigan as mg
from minigan.autograd import Function
from minigan.gradcheck import checks, run_registry_check

CHECKS = checks()


DEVICES = [pytest.param("cpu"), pytest.param("cuda", marks=pytest.mark.skipif(
    not mg.cuda.is_available(), reason="no CUDA device (install the cuda12/cuda13 extra on a GPU machine)"))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("check", CHECKS, ids=[c.label for c in CHECKS])
def test_registered_check_passes(check, device):
    first, second = run_registry_check(check, device=device, second_order=check.second_order)
    assert first.passed, first.message
    assert second is None or second.passed, second.message


def _all_function_classes():
    """Every Function subclass defined in the minigan package."""
    for module in pkgutil.walk_packages(minigan.__path__, "minigan."):
        if module.name.startswith("minigan.gradcheck") or module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("minigan.") and sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def _functions_in_graph(outputs):
    seen, stack = set(), [y for y in outputs if y.creator is not None]
    while stack:
        y = stack.pop()
        f = y.creator
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        yield type(f)
        stack.extend(x for x in (f.inputs or ()) if x.creator is not None)


def _reached_by(check):
    inputs = check.inputs()
    out = check.fn(*inputs)
    outputs = list(out) if isinstance(out, tuple) else [out]
    types = set(_functions_in_graph(outputs))
    wanted = [x for x in inputs if x.requires_grad]
    live = [y for y in outputs if y.requires_grad]
    if wanted and live:
        # output gradients that require grad, so second-order-only Functions get recorded too
        grad_outputs = [mg.tensor(np.random.default_rng(0).uniform(-1, 1, y.shape), device=y.device,
                                  requires_grad=True)
                        for y in live]
        grads = mg.grad(live, wanted, grad_outputs, create_graph=True, allow_unused=True)
        types |= set(_functions_in_graph([g for g in grads if g is not None]))
    return types


# Functions that cannot run on a CPU-only machine; their gradients are tested on the GPU.
NEEDS_TWO_DEVICES = {"minigan.ops.shape.ToDevice"}


def test_every_function_is_reached_by_a_registered_check():
    reached = set()
    for check in CHECKS:
        reached |= _reached_by(check)
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in _all_function_classes() - reached
                     if not inspect.isabstract(c) and f"{c.__module__}.{c.__name__}" not in NEEDS_TWO_DEVICES)
    assert not missing, f"ops without a gradient check (add them to minigan/gradcheck/specs/): {missing}"
