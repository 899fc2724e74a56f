"""`Parameter`: a Tensor that a Module registers as one of its learnable weights."""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor, get_default_dtype


class Parameter(Tensor):
    """A leaf Tensor (requires_grad=True by default) that, assigned to a Module attribute,
    is listed by `parameters()` and saved by `state_dict()`. Shares memory with `data`."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = backend.array_module_for(backend.default_device()).empty((0,))
        elif isinstance(data, Tensor):
            data = data.data
        elif not hasattr(data, "dtype"):
            raise TypeError(f"Parameter: expected a Tensor or an array, got {type(data).__name__}")
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def new_array(shape, fill=0.0, device=None, dtype=None):
    """An array for a new module's parameter or buffer: the default device and dtype unless given."""
    device = backend.default_device() if device is None else backend.check_device(device)
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    return backend.array_module_for(device).full(tuple(shape), fill, dtype=dtype)
