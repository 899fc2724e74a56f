"""`functional_call`: run a module with some parameters or buffers replaced by given tensors.

Useful when the weights are themselves inputs to be differentiated, as in gradient checks
of a layer with respect to its parameters (`torch.func.functional_call` in PyTorch).
"""
import contextlib


@contextlib.contextmanager
def _swapped(module, tensors):
    saved = []
    try:
        for name, tensor in tensors.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_name)
            table = owner._parameters if leaf in owner._parameters else owner._buffers
            if leaf not in table:
                raise KeyError(f"functional_call: {module._get_name()} has no parameter or buffer {name!r}")
            saved.append((table, leaf, table[leaf]))
            table[leaf] = tensor
        yield
    finally:
        for table, leaf, original in reversed(saved):
            table[leaf] = original


def functional_call(module, tensors, args, kwargs=None):
    """`module(*args, **kwargs)` with each dotted name in `tensors` ("0.weight", "running_mean")
    standing in for that parameter or buffer during the call; the module is unchanged afterwards."""
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))
